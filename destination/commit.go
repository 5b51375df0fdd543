package destination

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/google/uuid"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/jsonscan"
	"github.com/clockberg/clockberg/retry"
)

// commit makes the open batch part of the table (or of the staging branch) in one catalog commit.
func (st *stream) commit(ctx context.Context, snapProps iceberg.Properties) error {
	b := st.open
	if b == nil {
		return nil
	}
	st.open = nil
	defer b.rb.release()
	defer b.cancel()
	var sendErr error
	if b.rb.rows > 0 {
		sendErr = b.send(b.rb.batch())
	}
	close(b.ch)
	<-b.done
	if b.err != nil {
		return fmt.Errorf("writing data files of %s: %w", strings.Join(st.ident, "."), b.err)
	}
	if sendErr != nil {
		return sendErr
	}
	name := strings.Join(st.ident, ".")
	props := maps.Clone(snapProps)
	props[SummaryCommitID] = uuid.NewString()
	base := st.tbl
	txn := b.txn
	var err error
	attempts := commitRetry.Begin()
	for attempt := 1; ; attempt++ {
		var tbl *table.Table
		if err = st.stage(ctx, b, txn, props); err == nil {
			if tbl, err = txn.Commit(ctx); err == nil {
				st.tbl = tbl
				break
			}
		}
		wait, again := attempts.Next(err)
		if !again {
			return fmt.Errorf("committing %s (attempt %d): %w", name, attempt, err)
		}
		// The commit may have failed before the catalog applied it (retry on the same base), or
		// after (done), or because someone else changed the table (give up: the staged files
		// carry this base's field ids).
		fresh, lerr := st.run.cat.LoadTable(ctx, st.ident)
		if lerr != nil {
			return fmt.Errorf("committing %s: %w (and reloading it failed: %v)", name, err, lerr)
		}
		if hasCommit(fresh, props[SummaryCommitID]) {
			st.tbl = fresh
			err = nil
			break
		}
		if fresh.MetadataLocation() != base.MetadataLocation() {
			return fmt.Errorf("committing %s: %w; the table changed meanwhile, so the batch is abandoned", name, err)
		}
		st.run.out.Log(airbyte.LogWarn, "commit to %s failed (attempt %d), retrying: %v", name, attempt, err)
		if err := retry.Sleep(ctx, wait); err != nil {
			return err
		}
		st.tbl = fresh
		txn = fresh.NewTransactionOnBranch(st.branch)
		if err := st.evolve(txn); err != nil {
			return err
		}
	}
	st.committed += b.rows
	st.committedOverInherited(b)
	return nil
}

// commitRetry is how often a batch's commit is tried, and how long apart: the connectors' one
// retry policy, with few attempts (each reloads the table and stages the batch again).
var commitRetry = retry.Policy{MaxAttempts: 3, BaseDelay: time.Second, MaxDelay: 4 * time.Second, MaxElapsed: time.Minute}

// SummaryCommitID is a random id per commit, to recognise a commit whose acknowledgement was lost.
const SummaryCommitID = "airbyte.commit-id"

func hasCommit(tbl *table.Table, id string) bool {
	for _, s := range tbl.Metadata().Snapshots() {
		if s.Summary != nil && s.Summary.Properties[SummaryCommitID] == id {
			return true
		}
	}
	return false
}

// stage puts the batch's files (and, for append_dedup, the deletes) into txn.
func (st *stream) stage(ctx context.Context, b *batch, txn *table.Transaction, props iceberg.Properties) error {
	name := strings.Join(st.ident, ".")
	b.inhRemoved, b.inhAdded = nil, nil
	inh := st.inh
	replaces := (st.truncate && st.branchHead() == nil && (inh == nil || !inh.fromMain || inh.restart)) || (inh != nil && inh.restart)
	// Copy-on-write on staging branches too: finalize moves data files, never delete files.
	cow := st.truncate || st.deleteMode == "copy-on-write"
	var plan *dedupPlan
	var drop, add []iceberg.DataFile
	if st.dedup && b.index.len() > 0 {
		var err error
		if plan, err = st.planDedup(ctx, b, !replaces); err != nil {
			return err
		}
		if cow {
			if drop, add, err = st.rewriteExisting(ctx, txn, plan); err != nil {
				return fmt.Errorf("table %s: %w", name, err)
			}
			if b.files, err = st.withoutLosers(ctx, txn, b.files, plan); err != nil {
				return fmt.Errorf("table %s: %w", name, err)
			}
			plan.losers = nil
		} else {
			first := b.rb.cols[b.pkI[0]]
			f, _ := st.tbl.Schema().FindFieldByName(first.name)
			if err := plan.deleteExisting(ctx, txn, first.name, first.kind, f.ID, props); err != nil {
				return fmt.Errorf("table %s: %w", name, err)
			}
		}
	}
	switch {
	case st.truncate && st.branchHead() == nil && (inh == nil || !inh.fromMain || inh.restart):
		// The first commit of a refresh forks the staging branch with none of main's files, so the
		// branch holds exactly this generation's rows. With neither old nor new files this is a
		// no-op and the branch appears with the first rows.
		old, err := st.files(ctx, st.mainHead())
		if err != nil {
			return err
		}
		if err := txn.ReplaceDataFilesWithDataFiles(ctx, old, b.files, props); err != nil {
			return fmt.Errorf("staging the first files of %s: %w", name, err)
		}
	case inh != nil && inh.restart:
		// The input started over: the rows of earlier attempts go, in the commit that adds the
		// first rows of this one.
		var old []iceberg.DataFile
		for _, f := range inh.files {
			old = append(old, f)
		}
		if err := txn.ReplaceDataFilesWithDataFiles(ctx, old, b.files, props); err != nil {
			return fmt.Errorf("replacing the rows of earlier attempts of %s: %w", name, err)
		}
	case st.tracksIDs():
		if err := st.stageOverInherited(ctx, b, txn, props); err != nil {
			return err
		}
	case len(drop) > 0:
		if err := txn.ReplaceDataFilesWithDataFiles(ctx, drop, append(add, b.files...), props); err != nil {
			return fmt.Errorf("replacing rewritten files of %s: %w", name, err)
		}
	default:
		if err := txn.AddDataFiles(ctx, b.files, props); err != nil {
			return fmt.Errorf("adding data files to %s: %w", name, err)
		}
	}
	if plan != nil {
		if err := plan.deleteNew(ctx, txn, props); err != nil {
			return fmt.Errorf("table %s: %w", name, err)
		}
	}
	return nil
}

// isDeletion reports whether a record is a CDC delete: _ab_cdc_deleted_at set.
func isDeletion(data []byte) bool {
	v, ok := jsonscan.Member(data, "_ab_cdc_deleted_at")
	return ok && !isNull(v)
}
