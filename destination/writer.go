package destination

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// An Arrow batch goes to the Parquet writer at batchRows rows or batchBytes bytes of record data,
// whichever comes first: big enough to amortize per-batch work, small enough that the few queued
// batches stay far below the memory goal even for records of tens of kilobytes.
const (
	batchRows  = 8192
	batchBytes = 8 << 20
)

// batch is the data written since the last commit: Parquet files already on storage but not yet
// part of any snapshot, so invisible to readers and safe to abandon.
type batch struct {
	txn     *table.Transaction
	rb      *rowBuilder
	ch      chan arrow.RecordBatch
	done    chan struct{}
	files   []iceberg.DataFile
	err     error
	cancel  context.CancelFunc
	rows    int64
	started time.Time
	line    int // input line of the batch's first record
	// Dedup streams: the key, cursor and raw id of every row (and CDC delete) of the batch.
	index   *keyIndex
	cursorI int      // index of the cursor's column in rb.cols, -1 when none
	inner   []string // path of the cursor inside its column (original property names)
	curLeaf *node    // the cursor's field when its column is a struct
	curCols []string // the column names of that path, for reading the table
	pkI     []int    // indices of the key columns in rb.cols
	// Truncating streams with inherited rows: the record ids in this batch, and what its commit
	// does to the inherited files.
	idI        []int
	ids        map[string]struct{}
	idFirst    map[string]value // distinct values of the first id column, for the pruning filter
	inhRemoved []string
	inhAdded   []iceberg.DataFile
}

// begin opens a batch: a transaction (with any schema change staged) and a Parquet writer fed
// through a channel, so rows go to storage as they arrive instead of piling up in memory.
func (st *stream) begin(ctx context.Context, line int) error {
	if err := st.load(ctx); err != nil {
		return err
	}
	txn := st.tbl.NewTransactionOnBranch(st.branch)
	if err := st.evolve(txn); err != nil {
		return err
	}
	staged, err := txn.StagedTable()
	if err != nil {
		return fmt.Errorf("staging %s: %w", strings.Join(st.ident, "."), err)
	}
	asc, err := table.SchemaToArrowSchema(staged.Schema(), nil, true, false)
	if err != nil {
		return fmt.Errorf("arrow schema of %s: %w", strings.Join(st.ident, "."), err)
	}
	tracked := slices.Concat(st.pk, st.recordID)
	if st.cursor != "" {
		tracked = append(tracked, st.cursor)
	}
	rb, err := newRowBuilder(staged.Schema(), asc, tracked, st.cfg.SyncID, st.gen)
	if err != nil {
		return fmt.Errorf("table %s: %w", strings.Join(st.ident, "."), err)
	}
	rb.maxValue, rb.maxRow = int(st.run.cfg.MaxValueBytes), int(st.run.cfg.MaxRowBytes)
	wctx, cancel := context.WithCancel(ctx)
	b := &batch{txn: txn, rb: rb, ch: make(chan arrow.RecordBatch, 1), done: make(chan struct{}),
		cancel: cancel, started: time.Now(), cursorI: -1, line: line}
	if st.dedup {
		b.index = newKeyIndex()
		for _, k := range st.pk {
			b.pkI = append(b.pkI, rb.byName[k])
		}
		if st.cursor != "" {
			b.cursorI = rb.byName[st.cursor]
			b.inner = st.inner
			if n := rb.cols[b.cursorI].node; n != nil && len(b.inner) > 0 {
				if b.curLeaf = n.find(b.inner); b.curLeaf != nil {
					b.curLeaf.track = true
					b.curCols = columnPath(staged.Schema(), append([]string{st.cursor}, st.inner...))[1:]
				} else {
					b.cursorI = -1 // the table's struct has no such field: dedup by arrival
				}
			}
		}
	}
	if st.tracksIDs() {
		for _, k := range st.recordID {
			b.idI = append(b.idI, rb.byName[k])
		}
	}
	recs := func(yield func(arrow.RecordBatch, error) bool) {
		for r := range b.ch {
			if !yield(r, nil) {
				// WriteRecords stopped early (an error): drain so senders never block.
				for r := range b.ch {
					r.Release()
				}
				return
			}
		}
	}
	go func() {
		defer close(b.done)
		for df, err := range table.WriteRecords(wctx, staged.Table, asc, iter.Seq2[arrow.RecordBatch, error](recs),
			table.WithTargetFileSize(st.run.cfg.TargetFileSizeBytes), table.WithRecordBatchBufferSize(2)) {
			if err != nil {
				b.err = err
				cancel()
				for r := range b.ch {
					r.Release()
				}
				return
			}
			b.files = append(b.files, df)
		}
	}()
	st.open = b
	return nil
}
func (b *batch) send(rec arrow.RecordBatch) error {
	select {
	case b.ch <- rec:
		return nil
	case <-b.done:
		rec.Release()
		if b.err != nil {
			return fmt.Errorf("writing data files: %w", b.err)
		}
		return errors.New("writing data files: the writer stopped")
	}
}

// abort abandons the open batch: its files never become part of a snapshot.
func (st *stream) abort() {
	if st.open == nil {
		return
	}
	b := st.open
	st.open = nil
	b.cancel()
	close(b.ch)
	<-b.done
	b.rb.release()
	removeFiles(st.tbl, b.files)
}

// removeFiles deletes data files no snapshot references; it saves an orphan-file cleanup later.
// Failing to remove them is harmless, so errors are ignored.
func removeFiles(tbl *table.Table, files []iceberg.DataFile) {
	if fs, err := tbl.FS(context.Background()); err == nil {
		if rm, ok := fs.(interface{ Remove(string) error }); ok {
			for _, f := range files {
				_ = rm.Remove(f.FilePath())
			}
		}
	}
}
