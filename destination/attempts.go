package destination

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/clockberg/clockberg/airbyte"
)

// Retried attempts of a truncating stream. The platform retries a failed sync with the same
// generation, and the retry either resumes from the last state the destination echoed or, when
// the source cannot resume (or the platform kept no state), sends everything again. The staging
// branch holds exactly what the earlier attempts had acknowledged (nothing after a stream's last
// echoed STATE is committed unless the stream completes), so a resumed retry simply continues it.
// A re-sent one would add those rows a second time, so the rows a run inherits are provisional:
//
//   - With a record id (the primary key, configured or source-defined), every commit of the run
//     removes, in the same catalog commit, the inherited rows whose id the committed batch carries
//     again. That is exact for a resume (including a source that re-reads a few records around its
//     resume point), a re-send and any mix of them over several failed attempts.
//   - Without one, rows cannot be matched. A run whose first STATE after records equals the
//     generation's first such STATE started over, so its first commit drops the inherited rows; any
//     other run is taken as a resume and keeps them (the platform's rule for refreshes).
//
// A generation whose refresh already completed (main replaced) in an earlier attempt of the same
// sync (same sync_id) is inherited from main the same way, so a retry that skips the finished
// stream leaves it as it is instead of emptying it.

// SummaryFirstState is the digest of the generation's first STREAM state that followed records.
const SummaryFirstState = "airbyte.generation.first-state"

// inheritance is what a truncating stream's run found of its generation when it started.
type inheritance struct {
	files      map[string]iceberg.DataFile // data files holding rows of earlier attempts
	fromMain   bool                        // no branch yet: it forks from main, which holds the generation
	firstState string                      // SummaryFirstState of the earlier attempts
	restart    bool                        // this run started over: drop the inherited rows at its first commit
}

func stateDigest(streamState []byte) string {
	h := sha256.Sum256(streamState)
	return hex.EncodeToString(h[:8])
}

// findInherited records the rows of this generation that earlier attempts committed.
func (st *stream) findInherited(ctx context.Context) error {
	st.inh = nil
	if !st.truncate || st.cfg.GenerationID == nil || st.gen <= 0 {
		return nil // a legacy overwrite: every run replaces the table
	}
	inh := &inheritance{}
	snap := st.tbl.SnapshotByName(st.branch)
	if snap == nil {
		ok, err := st.mainHoldsThisSync(ctx)
		if err != nil || !ok {
			return err
		}
		snap, inh.fromMain = st.mainHead(), true
	}
	files, err := st.files(ctx, snap)
	if err != nil {
		return err
	}
	inh.files = make(map[string]iceberg.DataFile, len(files))
	var rows int64
	for _, f := range files {
		inh.files[f.FilePath()] = f
		rows += f.Count()
	}
	if snap.Summary != nil {
		inh.firstState = snap.Summary.Properties[SummaryFirstState]
	}
	st.inh = inh
	where := "staging branch " + st.branch
	if inh.fromMain {
		where = "main (its refresh completed in an earlier attempt of this sync)"
	}
	how := "rows whose primary key comes again are replaced"
	if len(st.recordID) == 0 {
		how = "without a primary key they are kept unless the input starts over"
	}
	st.run.out.Log(airbyte.LogInfo, "stream %s: generation %d continues: %d rows of earlier attempts in %s; %s",
		st.desc, st.gen, rows, where, how)
	return nil
}

// mainHoldsThisSync reports whether main's rows are all of this generation, put there by a
// completed refresh of this very sync.
func (st *stream) mainHoldsThisSync(ctx context.Context) (bool, error) {
	head := st.mainHead()
	if head == nil || head.Summary == nil || st.cfg.SyncID == nil {
		return false, nil
	}
	p := head.Summary.Properties
	if p[SummaryGeneration] != strconv.FormatInt(st.gen, 10) || p[SummarySyncID] != strconv.FormatInt(*st.cfg.SyncID, 10) {
		return false, nil
	}
	older, err := st.tbl.Scan(table.WithSnapshotID(head.SnapshotID),
		table.WithRowFilter(iceberg.LessThan(iceberg.Reference(colGenerationID), st.gen))).PlanFiles(ctx)
	if err != nil {
		return false, fmt.Errorf("checking the generations in %s: %w", strings.Join(st.ident, "."), err)
	}
	return len(older) == 0, nil
}

// sawState notes a STREAM state of this stream that followed n of its records.
func (st *stream) sawState(streamState []byte, n int64) {
	if n == 0 || st.firstState != "" || !st.truncate {
		return
	}
	st.firstState = stateDigest(streamState)
	inh := st.inh
	if inh == nil || len(st.recordID) > 0 || len(inh.files) == 0 || inh.firstState != st.firstState {
		return
	}
	inh.restart = true
	st.run.out.Log(airbyte.LogInfo, "stream %s: the input starts over (its first state equals the first one of generation %d), "+
		"so the rows of earlier attempts are replaced at the next commit", st.desc, st.gen)
}

// generationFirstState is the SummaryFirstState a commit of this run records.
func (st *stream) generationFirstState() string {
	if st.inh != nil && !st.inh.restart && st.inh.firstState != "" {
		return st.inh.firstState
	}
	return st.firstState
}

// tracksIDs reports whether the open batch must remember its record ids.
func (st *stream) tracksIDs() bool {
	return st.inh != nil && len(st.inh.files) > 0 && len(st.recordID) > 0 && !st.dedup
}

// trackID remembers the record id of the row just added.
func (b *batch) trackID() {
	var key strings.Builder
	for _, i := range b.idI {
		if b.rb.cur[i].null {
			return // a row without a full id cannot replace anything
		}
		writeKeyPart(&key, b.rb.cols[i].kind, b.rb.cur[i])
	}
	if b.ids == nil {
		b.ids, b.idFirst = map[string]struct{}{}, map[string]value{}
	}
	b.ids[key.String()] = struct{}{}
	var first strings.Builder
	writeKeyPart(&first, b.rb.cols[b.idI[0]].kind, b.rb.cur[b.idI[0]])
	b.idFirst[first.String()] = b.rb.cur[b.idI[0]]
}

// stageOverInherited puts the batch's files into txn together with the removal of the inherited
// rows the batch replaces: files whose every row is replaced leave, the others are rewritten
// without those rows. One snapshot, so readers of the branch never see a key twice.
func (st *stream) stageOverInherited(ctx context.Context, b *batch, txn *table.Transaction, props iceberg.Properties) error {
	name := strings.Join(st.ident, ".")
	base := st.stagingBase()
	if len(b.ids) == 0 || base == nil {
		return txn.AddDataFiles(ctx, b.files, props)
	}
	first := b.rb.cols[b.idI[0]]
	vals := make([]value, 0, len(b.idFirst))
	for _, v := range b.idFirst {
		vals = append(vals, v)
	}
	inKeys, err := inFilter(first.name, first.kind, vals)
	if err != nil {
		return fmt.Errorf("table %s: %w", name, err)
	}
	fields := []string{colRawID}
	for _, i := range b.idI {
		fields = append(fields, b.rb.cols[i].name)
	}
	scan := st.tbl.Scan(table.WithSnapshotID(base.SnapshotID), table.WithRowFilter(inKeys), table.WithSelectedFields(fields...))
	tasks, err := scan.PlanFiles(ctx)
	if err != nil {
		return fmt.Errorf("planning the inherited rows of %s: %w", name, err)
	}
	var drop []iceberg.DataFile
	add := append([]iceberg.DataFile(nil), b.files...)
	for _, task := range tasks {
		if _, ok := st.inh.files[task.File.FilePath()]; !ok {
			continue // written by this run
		}
		ids, err := st.replacedIDs(ctx, scan, task, b)
		if err != nil {
			return fmt.Errorf("reading the inherited rows of %s: %w", name, err)
		}
		if len(ids) == 0 {
			continue
		}
		drop = append(drop, task.File)
		b.inhRemoved = append(b.inhRemoved, task.File.FilePath())
		if int64(len(ids)) == task.File.Count() {
			continue
		}
		kept, err := st.rewriteWithout(ctx, txn, task, ids)
		if err != nil {
			return fmt.Errorf("rewriting %s without replaced rows: %w", task.File.FilePath(), err)
		}
		add = append(add, kept...)
		b.inhAdded = append(b.inhAdded, kept...)
	}
	if len(drop) == 0 {
		return txn.AddDataFiles(ctx, b.files, props)
	}
	if err := txn.ReplaceDataFilesWithDataFiles(ctx, drop, add, props); err != nil {
		return fmt.Errorf("replacing inherited rows of %s: %w", name, err)
	}
	return nil
}

// replacedIDs lists the _airbyte_raw_id of the rows of one inherited file whose record id the
// batch carries.
func (st *stream) replacedIDs(ctx context.Context, scan *table.Scan, task table.FileScanTask, b *batch) ([]string, error) {
	_, recs, err := scan.ReadTasks(ctx, []table.FileScanTask{task})
	if err != nil {
		return nil, err
	}
	var ids []string
	for rec, err := range recs {
		if err != nil {
			return nil, err
		}
		sch := rec.Schema()
		raw := rec.Column(sch.FieldIndices(colRawID)[0])
		for r := 0; r < int(rec.NumRows()); r++ {
			var key strings.Builder
			for _, i := range b.idI {
				c := b.rb.cols[i]
				writeKeyPart(&key, c.kind, valueAt(rec.Column(sch.FieldIndices(c.name)[0]), r))
			}
			if _, ok := b.ids[key.String()]; ok {
				ids = append(ids, valueAt(raw, r).s)
			}
		}
		rec.Release()
	}
	return ids, nil
}

// rewriteWithout writes the rows of one file except those with the given raw ids to new files.
func (st *stream) rewriteWithout(ctx context.Context, txn *table.Transaction, task table.FileScanTask, ids []string) ([]iceberg.DataFile, error) {
	staged, err := txn.StagedTable()
	if err != nil {
		return nil, err
	}
	scan := staged.Table.Scan(table.WithRowFilter(iceberg.NotIn(iceberg.Reference(colRawID), ids...)))
	sc, recs, err := scan.ReadTasks(ctx, []table.FileScanTask{task})
	if err != nil {
		return nil, err
	}
	var out []iceberg.DataFile
	for df, err := range table.WriteRecords(ctx, staged.Table, sc, recs, table.WithTargetFileSize(st.run.cfg.TargetFileSizeBytes)) {
		if err != nil {
			return nil, err
		}
		out = append(out, df)
	}
	return out, nil
}

// stagingBase is the snapshot the next commit of a truncating stream builds on: the branch head,
// or main's head when the branch is still to fork from main (which holds this generation).
func (st *stream) stagingBase() *table.Snapshot {
	if head := st.branchHead(); head != nil {
		return head
	}
	if st.inh != nil && st.inh.fromMain && !st.inh.restart {
		return st.mainHead()
	}
	return nil
}

// committedOverInherited updates what the run inherits after the batch's commit succeeded.
func (st *stream) committedOverInherited(b *batch) {
	inh := st.inh
	if inh == nil {
		return
	}
	if inh.restart {
		inh.files, inh.restart, inh.fromMain = map[string]iceberg.DataFile{}, false, false
		return
	}
	for _, p := range b.inhRemoved {
		delete(inh.files, p)
	}
	for _, f := range b.inhAdded {
		inh.files[f.FilePath()] = f
	}
	inh.fromMain = false
}
