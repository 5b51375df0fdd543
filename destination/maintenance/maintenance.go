// Package maintenance keeps the destination's Iceberg tables healthy: it compacts small data
// files (folding position deletes into the files they apply to), merges small manifests, expires
// old snapshots and removes orphan files. Every step is an iceberg-go operation; this package only
// decides when a step is worth running, keeps it safe and reports what it changed.
//
// Safety. A step never removes a file a retained snapshot, a branch or a tag references: the
// snapshots of every ref are kept (the staging branch of an overwrite in flight included), the
// last KeepSnapshots of each branch and everything younger than KeepHistory stay, and expiry only
// deletes files no remaining snapshot references. Orphan removal only touches files older than
// OrphanMinAge, so the files of a sync still writing (not yet committed) are never candidates.
// Compaction and manifest rewrites commit like a sync's batch: on the base they were planned on,
// so a concurrent commit that lands first wins; the step is then planned again on the fresh table
// (a few times) or skipped.
package maintenance

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	iceio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"
	"github.com/apache/iceberg-go/table/compaction"

	"github.com/clockberg/clockberg/retry"
)

// Defaults of Settings: conservative, so that automatic maintenance after every sync is safe for
// a Snowflake table refreshed only now and then.
const (
	DefaultKeepSnapshots      = 10
	DefaultKeepHistoryHours   = 5 * 24
	DefaultOrphanMinAgeHours  = 3 * 24
	MinOrphanMinAgeHours      = 1
	DefaultSmallFileBytes     = 32 << 20
	DefaultMinSmallFiles      = 5
	DefaultMinManifests       = 10
	DefaultDeleteFilesPerFile = 5
)

// Settings is the "maintenance" object of the destination config.
type Settings struct {
	// Enabled turns automatic maintenance after a sync on or off (nil: on).
	Enabled *bool `json:"enabled,omitempty"`
	// KeepSnapshots is how many snapshots of each branch stay, however old.
	KeepSnapshots int `json:"keep_snapshots,omitempty"`
	// KeepHistoryHours is how long a snapshot stays (time travel reaches this far back); nil is
	// the default, 0 keeps only the last KeepSnapshots.
	KeepHistoryHours *float64 `json:"keep_history_hours,omitempty"`
	// OrphanMinAgeHours is the age a file not referenced by the table must reach to be removed.
	OrphanMinAgeHours float64 `json:"orphan_min_age_hours,omitempty"`
	// SmallFileBytes: data files below this size are compacted together.
	SmallFileBytes int64 `json:"small_file_bytes,omitempty"`
	// MinSmallFiles is the number of small files a partition must have to be compacted.
	MinSmallFiles int `json:"min_small_files,omitempty"`
	// MinManifests is the number of small data manifests from which they are merged.
	MinManifests int `json:"min_manifests,omitempty"`
	// DeleteFilesPerFile is the number of delete files on a data file from which the file is
	// rewritten with its deletes applied (1: every file with deletes), whatever its size.
	DeleteFilesPerFile int `json:"delete_files_per_file,omitempty"`
}

// On reports whether automatic maintenance runs after a sync.
func (s Settings) On() bool { return s.Enabled == nil || *s.Enabled }

// Validate names the first setting out of range.
func (s Settings) Validate() error {
	switch {
	case s.KeepSnapshots < 0:
		return fmt.Errorf("maintenance.keep_snapshots is %d; it must be at least 1", s.KeepSnapshots)
	case s.KeepHistoryHours != nil && *s.KeepHistoryHours < 0:
		return fmt.Errorf("maintenance.keep_history_hours is %g; it must not be negative", *s.KeepHistoryHours)
	case s.OrphanMinAgeHours != 0 && s.OrphanMinAgeHours < MinOrphanMinAgeHours:
		return fmt.Errorf("maintenance.orphan_min_age_hours is %g; it must be at least %d (a sync's uncommitted files are orphans until it commits)",
			s.OrphanMinAgeHours, MinOrphanMinAgeHours)
	case s.SmallFileBytes < 0:
		return fmt.Errorf("maintenance.small_file_bytes is %d; it must not be negative", s.SmallFileBytes)
	case s.MinSmallFiles < 0 || s.MinSmallFiles == 1:
		return fmt.Errorf("maintenance.min_small_files is %d; it must be at least 2", s.MinSmallFiles)
	case s.MinManifests < 0 || s.MinManifests == 1:
		return fmt.Errorf("maintenance.min_manifests is %d; it must be at least 2", s.MinManifests)
	case s.DeleteFilesPerFile < 0:
		return fmt.Errorf("maintenance.delete_files_per_file is %d; it must be at least 1", s.DeleteFilesPerFile)
	}
	return nil
}

// Options are the Settings with defaults filled, plus how to run.
type Options struct {
	KeepSnapshots      int
	KeepHistory        time.Duration
	OrphanMinAge       time.Duration
	SmallFileBytes     int64
	MinSmallFiles      int
	MinManifests       int
	DeleteFilesPerFile int
	// DryRun plans every step and reports what it would do, changing nothing.
	DryRun bool
	// Log receives one line per notable event (a step retried or skipped).
	Log func(format string, args ...any)
}

// Options returns the settings with defaults filled in.
func (s Settings) Options() Options {
	o := Options{
		KeepSnapshots:      s.KeepSnapshots,
		KeepHistory:        hours(DefaultKeepHistoryHours),
		OrphanMinAge:       hours(s.OrphanMinAgeHours),
		SmallFileBytes:     s.SmallFileBytes,
		MinSmallFiles:      s.MinSmallFiles,
		MinManifests:       s.MinManifests,
		DeleteFilesPerFile: s.DeleteFilesPerFile,
	}
	if s.KeepHistoryHours != nil {
		o.KeepHistory = hours(*s.KeepHistoryHours)
	}
	if o.KeepSnapshots == 0 {
		o.KeepSnapshots = DefaultKeepSnapshots
	}
	if o.OrphanMinAge == 0 {
		o.OrphanMinAge = hours(DefaultOrphanMinAgeHours)
	}
	if o.SmallFileBytes == 0 {
		o.SmallFileBytes = DefaultSmallFileBytes
	}
	if o.MinSmallFiles == 0 {
		o.MinSmallFiles = DefaultMinSmallFiles
	}
	if o.MinManifests == 0 {
		o.MinManifests = DefaultMinManifests
	}
	if o.DeleteFilesPerFile == 0 {
		o.DeleteFilesPerFile = DefaultDeleteFilesPerFile
	}
	return o
}

func hours(h float64) time.Duration { return time.Duration(h * float64(time.Hour)) }

// Figures describe a table at one moment.
type Figures struct {
	Snapshots     int   `json:"snapshots"`
	DataFiles     int64 `json:"data_files"`
	DeleteFiles   int64 `json:"delete_files"`
	Manifests     int   `json:"manifests"`
	MetadataBytes int64 `json:"metadata_bytes"`
	// TotalBytes is every file under the table's location (all snapshots' files, metadata and
	// orphans), or, on a storage that cannot list, the current snapshot's files and metadata.
	TotalBytes int64 `json:"total_bytes"`
	Files      int64 `json:"files"`
}

// Report is what one table's maintenance did (or, in a dry run, would do).
type Report struct {
	Table            string  `json:"table"`
	DryRun           bool    `json:"dry_run"`
	Before           Figures `json:"before"`
	After            Figures `json:"after"`
	CompactedFiles   int     `json:"compacted_data_files"`
	WrittenFiles     int     `json:"written_data_files"`
	FoldedDeletes    int     `json:"folded_delete_files"`
	MergedManifests  int     `json:"merged_manifests"`
	ExpiredSnapshots int     `json:"expired_snapshots"`
	OldMetadataFiles int     `json:"old_metadata_files"`
	OrphanFiles      int     `json:"orphan_files"`
	OrphanBytes      int64   `json:"orphan_bytes"`
	// Skipped names the steps given up on, with why (a concurrent commit kept winning).
	Skipped []string `json:"skipped,omitempty"`
	// MetadataLocation is the table's metadata after maintenance.
	MetadataLocation string `json:"metadata_location"`
	// Changed reports whether maintenance committed anything (a REFRESH is due for Snowflake).
	Changed bool `json:"changed"`

	oldMetadataBytes int64
}

// Removed describes what maintenance removed, for humans.
func (r Report) Removed() string {
	var parts []string
	if r.CompactedFiles > 0 {
		parts = append(parts, fmt.Sprintf("%d data files compacted into %d", r.CompactedFiles, r.WrittenFiles))
	}
	if r.FoldedDeletes > 0 {
		parts = append(parts, fmt.Sprintf("%d delete files folded in", r.FoldedDeletes))
	}
	if r.MergedManifests > 0 {
		parts = append(parts, fmt.Sprintf("%d manifests merged", r.MergedManifests))
	}
	if r.ExpiredSnapshots > 0 {
		parts = append(parts, fmt.Sprintf("%d snapshots expired", r.ExpiredSnapshots))
	}
	if r.OldMetadataFiles > 0 {
		parts = append(parts, fmt.Sprintf("%d old metadata.json files", r.OldMetadataFiles))
	}
	if r.OrphanFiles > 0 {
		parts = append(parts, fmt.Sprintf("%d orphan files (%d bytes)", r.OrphanFiles, r.OrphanBytes))
	}
	if freed := r.Before.TotalBytes - r.After.TotalBytes; !r.DryRun && freed > 0 {
		parts = append(parts, fmt.Sprintf("%d bytes freed", freed))
	}
	for _, s := range r.Skipped {
		parts = append(parts, "skipped "+s)
	}
	if len(parts) == 0 {
		return "nothing to do"
	}
	return strings.Join(parts, "; ")
}

// SummaryOperation marks the snapshots maintenance commits.
const SummaryOperation = "airbyte.maintenance"

// conflictRetry bounds how often a step is planned again after a concurrent commit won.
var conflictRetry = retry.Policy{MaxAttempts: 3, BaseDelay: 200 * time.Millisecond, MaxDelay: 2 * time.Second, MaxElapsed: 30 * time.Second}

// Run maintains one table: compaction, manifest merge, snapshot expiry, orphan removal, in that
// order (so the files compaction replaced go with the snapshots that expire). It also returns the
// table as maintenance left it, so a caller that goes on with it needs no second load.
func Run(ctx context.Context, cat catalog.Catalog, ident table.Identifier, o Options) (Report, *table.Table, error) {
	name := strings.Join(ident, ".")
	rep := Report{Table: name, DryRun: o.DryRun}
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
	tbl, err := cat.LoadTable(ctx, ident)
	if err != nil {
		return rep, nil, fmt.Errorf("loading table %s: %w", name, err)
	}
	if rep.Before, err = Measure(ctx, tbl); err != nil {
		return rep, nil, fmt.Errorf("table %s: %w", name, err)
	}
	steps := []struct {
		name string
		run  func(ctx context.Context, tbl *table.Table, o Options, rep *Report) (*table.Table, error)
	}{
		{"compaction", compact},
		{"manifest merge", mergeManifests},
		{"snapshot expiry", expire},
	}
	for _, s := range steps {
		if tbl, err = step(ctx, cat, ident, tbl, s.name, func(tbl *table.Table) (*table.Table, error) { return s.run(ctx, tbl, o, &rep) }, o, &rep); err != nil {
			return rep, nil, fmt.Errorf("table %s: %s: %w", name, s.name, err)
		}
	}
	if err := removeOldMetadata(ctx, tbl, o, &rep); err != nil {
		return rep, nil, fmt.Errorf("table %s: old metadata removal: %w", name, err)
	}
	if err := removeOrphans(ctx, tbl, o, &rep); err != nil {
		return rep, nil, fmt.Errorf("table %s: orphan removal: %w", name, err)
	}
	if o.DryRun {
		rep.After = planned(rep)
	} else if rep.After, err = Measure(ctx, tbl); err != nil {
		return rep, nil, fmt.Errorf("table %s: %w", name, err)
	}
	rep.MetadataLocation = tbl.MetadataLocation()
	return rep, tbl, nil
}

// planned estimates the figures after the steps a dry run planned.
func planned(r Report) Figures {
	f := r.Before
	f.Snapshots -= r.ExpiredSnapshots
	if r.CompactedFiles > 0 {
		f.Snapshots++
	}
	if r.MergedManifests > 0 {
		f.Snapshots++
		f.Manifests -= r.MergedManifests - 1
	}
	f.DataFiles -= int64(r.CompactedFiles - r.WrittenFiles)
	f.DeleteFiles -= int64(r.FoldedDeletes)
	f.TotalBytes -= r.OrphanBytes + r.oldMetadataBytes
	f.Files -= int64(r.OrphanFiles + r.OldMetadataFiles)
	return f
}

// step runs one committing step, planning it again on the fresh table when its commit fails
// (a concurrent commit won), and skipping it once the attempts run out.
func step(ctx context.Context, cat catalog.Catalog, ident table.Identifier, tbl *table.Table, name string,
	run func(*table.Table) (*table.Table, error), o Options, rep *Report) (*table.Table, error) {
	attempts := conflictRetry.Begin()
	for {
		next, err := run(tbl)
		if err == nil {
			if next != nil {
				rep.Changed = true
				return next, nil
			}
			return tbl, nil
		}
		if !errors.Is(err, table.ErrCommitFailed) && !errors.Is(err, errCommit) {
			return tbl, err
		}
		fresh, lerr := cat.LoadTable(ctx, ident)
		if lerr != nil {
			return tbl, fmt.Errorf("%w (and reloading the table failed: %v)", err, lerr)
		}
		wait, again := attempts.Next(err)
		if !again {
			rep.Skipped = append(rep.Skipped, fmt.Sprintf("%s (concurrent commits won %d times: %v)", name, attempts.Attempt(), err))
			return fresh, nil
		}
		o.Log("table %s: %s lost to a concurrent commit (attempt %d), planning it again: %v", strings.Join(ident, "."), name, attempts.Attempt(), err)
		if err := retry.Sleep(ctx, wait); err != nil {
			return tbl, err
		}
		tbl = fresh
	}
}

// errCommit marks a failed catalog commit: the step may be planned again on the fresh table.
var errCommit = errors.New("commit failed")

func commitErr(err error) error { return fmt.Errorf("%w: %w", errCommit, err) }

func snapshotProps(what string) iceberg.Properties {
	return iceberg.Properties{SummaryOperation: what}
}

// compact rewrites the small data files of a partition together once it has MinSmallFiles of
// them, and every data file with DeleteFilesPerFile delete files, with the deletes applied.
func compact(ctx context.Context, tbl *table.Table, o Options, rep *Report) (*table.Table, error) {
	snap := tbl.CurrentSnapshot()
	if snap == nil {
		return nil, nil
	}
	target := tbl.Properties().GetInt64(table.WriteTargetFileSizeBytesKey, table.WriteTargetFileSizeBytesDefault)
	cfg := compaction.DefaultConfig()
	cfg.TargetFileSizeBytes = target
	cfg.MinFileSizeBytes = min(o.SmallFileBytes, target)
	cfg.MaxFileSizeBytes = target * 9 / 5
	cfg.MinInputFiles = 1 // a single file with deletes is worth a rewrite; a few small files are not (below)
	cfg.DeleteFileThreshold = o.DeleteFilesPerFile
	cfg.DeleteRatioThreshold = 0
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("planning the table's files: %w", err)
	}
	plan, err := cfg.PlanCompaction(tasks)
	if err != nil {
		return nil, err
	}
	var groups []table.CompactionTaskGroup
	rewritten := map[string]struct{}{}
	deletes := map[string]struct{}{}
	for _, g := range plan.Groups {
		forced := false
		for _, t := range g.Tasks {
			forced = forced || len(t.DeleteFiles)+len(t.DeletionVectorFiles) >= o.DeleteFilesPerFile
		}
		if len(g.Tasks) < o.MinSmallFiles && !forced {
			continue
		}
		groups = append(groups, table.CompactionTaskGroup{PartitionKey: g.PartitionKey, Tasks: g.Tasks, TotalSizeBytes: g.TotalSizeBytes})
		for _, t := range g.Tasks {
			rewritten[t.File.FilePath()] = struct{}{}
			for _, d := range t.DeleteFiles {
				deletes[d.FilePath()] = struct{}{}
			}
		}
	}
	if len(groups) == 0 {
		return nil, nil
	}
	fs, err := tbl.FS(ctx)
	if err != nil {
		return nil, err
	}
	// Delete files that apply only to rewritten files go in the same commit.
	dead, err := compaction.CollectDeadPositionDeletes(ctx, fs, snap, rewritten)
	if err != nil {
		return nil, fmt.Errorf("finding the delete files the rewrite folds in: %w", err)
	}
	if o.DryRun {
		rep.CompactedFiles = len(rewritten)
		folded := map[string]struct{}{}
		for _, d := range dead {
			folded[d.FilePath()] = struct{}{}
		}
		rep.FoldedDeletes = len(folded)
		rep.WrittenFiles = plan.EstOutputFiles
		return nil, nil
	}
	txn := tbl.NewTransaction()
	res, err := txn.RewriteDataFiles(ctx, groups, table.RewriteDataFilesOptions{
		SnapshotProps:            snapshotProps("compaction"),
		ExtraDeleteFilesToRemove: dead,
		GroupOptions:             []table.CompactionGroupOption{table.WithCompactionScanConcurrency(2)},
	})
	if err != nil {
		return nil, fmt.Errorf("rewriting %d data files: %w", len(rewritten), err)
	}
	if res.RewrittenGroups == 0 {
		return nil, nil
	}
	next, err := txn.Commit(ctx)
	if err != nil {
		return nil, commitErr(err)
	}
	rep.CompactedFiles += res.RemovedDataFiles
	rep.WrittenFiles += res.AddedDataFiles
	rep.FoldedDeletes += res.RemovedPositionDeleteFiles + res.RemovedDeletionVectorFiles
	return next, nil
}

// mergeManifests merges the current snapshot's data manifests once there are MinManifests small
// ones (each sync adds one per table).
func mergeManifests(ctx context.Context, tbl *table.Table, o Options, rep *Report) (*table.Table, error) {
	snap := tbl.CurrentSnapshot()
	if snap == nil {
		return nil, nil
	}
	fs, err := tbl.FS(ctx)
	if err != nil {
		return nil, err
	}
	manifests, err := snap.Manifests(fs)
	if err != nil {
		return nil, fmt.Errorf("reading the manifest list: %w", err)
	}
	target := int64(tbl.Properties().GetInt(table.ManifestTargetSizeBytesKey, table.ManifestTargetSizeBytesDefault))
	small := 0
	for _, m := range manifests {
		if m.ManifestContent() == iceberg.ManifestContentData && m.Length() < target/2 {
			small++
		}
	}
	if small < o.MinManifests {
		return nil, nil
	}
	if o.DryRun {
		rep.MergedManifests = small
		return nil, nil
	}
	txn := tbl.NewTransaction()
	res, err := txn.RewriteManifests(ctx, table.WithRewriteManifestPredicate(func(m iceberg.ManifestFile) bool {
		return m.Length() < target/2
	}))
	if err != nil {
		return nil, fmt.Errorf("merging %d manifests: %w", small, err)
	}
	if res.IsNoOp() {
		return nil, nil
	}
	next, err := txn.Commit(ctx)
	if err != nil {
		return nil, commitErr(err)
	}
	rep.MergedManifests += len(res.RewrittenManifests)
	return next, nil
}

// expire removes the snapshots beyond the retention and, once that commit landed, the files only
// they referenced.
func expire(ctx context.Context, tbl *table.Table, o Options, rep *Report) (*table.Table, error) {
	before := len(tbl.Metadata().Snapshots())
	if before <= o.KeepSnapshots {
		return nil, nil
	}
	txn := tbl.NewTransaction()
	if err := txn.ExpireSnapshots(table.WithRetainLast(o.KeepSnapshots), table.WithOlderThan(o.KeepHistory)); err != nil {
		return nil, fmt.Errorf("planning the expiry: %w", err)
	}
	staged, err := txn.StagedTable()
	if err != nil {
		return nil, err
	}
	n := before - len(staged.Metadata().Snapshots())
	if n <= 0 {
		return nil, nil
	}
	if o.DryRun {
		rep.ExpiredSnapshots = n
		return nil, nil
	}
	next, err := txn.Commit(ctx)
	if err != nil {
		return nil, commitErr(err)
	}
	rep.ExpiredSnapshots += n
	return next, nil
}

// removeOldMetadata deletes the metadata.json files older than every one it keeps, on tables whose
// write.metadata.delete-after-commit.enabled says they should be gone. It keeps the versions the
// retention of snapshots keeps: the newest KeepSnapshots and every one younger than KeepHistory
// (a Snowflake table reads the version of its last REFRESH until the next one). Older ones may
// still be listed in the metadata log, which only records history; and the write path's own
// clean-up compares each commit with the base it loaded, so a file trimmed from the log by an
// interleaved commit stays behind until this step. Only older versions go: a commit in flight
// writes a newer one.
func removeOldMetadata(ctx context.Context, tbl *table.Table, o Options, rep *Report) error {
	if !tbl.Properties().GetBool(table.MetadataDeleteAfterCommitEnabledKey, table.MetadataDeleteAfterCommitEnabledDefault) {
		return nil
	}
	type version struct {
		n  int
		ms int64
	}
	cur, ok := metadataVersion(tbl.MetadataLocation())
	if !ok {
		return nil
	}
	versions := []version{{cur, tbl.Metadata().LastUpdatedMillis()}}
	for e := range tbl.Metadata().PreviousFiles() {
		v, ok := metadataVersion(e.MetadataFile)
		if !ok {
			return nil // a naming this rule does not know: leave the files alone
		}
		versions = append(versions, version{v, e.TimestampMs})
	}
	slices.SortFunc(versions, func(a, b version) int { return cmp.Compare(b.n, a.n) })
	since := time.Now().Add(-o.KeepHistory).UnixMilli()
	oldest := cur
	for i, v := range versions {
		if i < max(o.KeepSnapshots, 1) || v.ms >= since {
			oldest = min(oldest, v.n)
		}
	}
	fs, err := tbl.FS(ctx)
	if err != nil {
		return err
	}
	lister, ok := fs.(iceio.ListableIO)
	if !ok {
		return nil
	}
	dir := strings.TrimSuffix(tbl.MetadataLocation(), path.Base(tbl.MetadataLocation()))
	var old []string
	var bytes int64
	err = lister.WalkDir(strings.TrimSuffix(dir, "/"), func(p string, d iofs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if path.Base(path.Dir(p)) != path.Base(strings.TrimSuffix(dir, "/")) {
			return nil // only the folder the current metadata is in
		}
		if v, ok := metadataVersion(p); ok && v < oldest {
			old = append(old, p)
			if info, err := d.Info(); err == nil {
				bytes += info.Size()
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("listing the metadata folder: %w", err)
	}
	rep.OldMetadataFiles, rep.oldMetadataBytes = len(old), bytes
	if o.DryRun {
		return nil
	}
	for _, p := range old {
		if err := fs.Remove(fullPath(dir, p)); err != nil && !errors.Is(err, iofs.ErrNotExist) {
			return fmt.Errorf("removing %s: %w", p, err)
		}
	}
	return nil
}

// fullPath gives a listed path the scheme of the metadata folder when the listing dropped it.
func fullPath(dir, p string) string {
	if strings.Contains(p, "://") || !strings.Contains(dir, "://") {
		return p
	}
	return dir + path.Base(p)
}

// metadataVersion is the version number a metadata file name starts with (00042-<uuid>.metadata.json).
func metadataVersion(loc string) (int, bool) {
	name := path.Base(loc)
	if !strings.HasSuffix(name, ".metadata.json") {
		return 0, false
	}
	num, _, ok := strings.Cut(name, "-")
	if !ok || num == "" {
		return 0, false
	}
	v, err := strconv.Atoi(num)
	return v, err == nil
}

// removeOrphans deletes the files under the table's location that no snapshot references and that
// are older than OrphanMinAge.
func removeOrphans(ctx context.Context, tbl *table.Table, o Options, rep *Report) error {
	fs, err := tbl.FS(ctx)
	if err != nil {
		return err
	}
	if _, ok := fs.(iceio.ListableIO); !ok {
		o.Log("table %s: its storage cannot list files, so orphan files are not looked for", strings.Join(tbl.Identifier(), "."))
		return nil
	}
	res, err := tbl.DeleteOrphanFiles(ctx, table.WithFilesOlderThan(o.OrphanMinAge), table.WithDryRun(o.DryRun),
		table.WithPrefixMismatchMode(table.PrefixMismatchIgnore))
	if err != nil {
		return err
	}
	rep.OrphanFiles = len(res.OrphanFileLocations)
	rep.OrphanBytes = res.TotalSizeBytes
	if !o.DryRun && len(res.DeletedFiles) < len(res.OrphanFileLocations) {
		o.Log("table %s: %d of %d orphan files could not be removed", strings.Join(tbl.Identifier(), "."),
			len(res.OrphanFileLocations)-len(res.DeletedFiles), len(res.OrphanFileLocations))
	}
	return nil
}

// Measure counts a table's snapshots, live files, manifests and bytes.
func Measure(ctx context.Context, tbl *table.Table) (Figures, error) {
	f := Figures{Snapshots: len(tbl.Metadata().Snapshots())}
	fs, err := tbl.FS(ctx)
	if err != nil {
		return f, err
	}
	if mf, err := fs.Open(tbl.MetadataLocation()); err == nil {
		if st, err := mf.Stat(); err == nil {
			f.MetadataBytes = st.Size()
		}
		mf.Close()
	}
	var live int64
	if snap := tbl.CurrentSnapshot(); snap != nil {
		if snap.Summary != nil {
			num := func(k string) int64 { v, _ := strconv.ParseInt(snap.Summary.Properties[k], 10, 64); return v }
			f.DataFiles, f.DeleteFiles, live = num("total-data-files"), num("total-delete-files"), num("total-files-size")
		}
		ms, err := snap.Manifests(fs)
		if err != nil {
			return f, fmt.Errorf("reading the manifest list: %w", err)
		}
		f.Manifests = len(ms)
	}
	lister, ok := fs.(iceio.ListableIO)
	if !ok {
		f.TotalBytes = live + f.MetadataBytes
		return f, nil
	}
	err = lister.WalkDir(tbl.Location(), func(_ string, d iofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		f.TotalBytes += info.Size()
		f.Files++
		return nil
	})
	if err != nil {
		return f, fmt.Errorf("listing the table's files: %w", err)
	}
	return f, nil
}
