package destination

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/destination/catalogs"
)

// localTarget is a folder or file of the embedded default that opening the catalog creates when
// it is missing: a local warehouse folder, or a SQLite catalog file.
type localTarget struct {
	what, path string
	file       bool
}

func localTargets(s catalogs.Settings) []localTarget {
	n, err := s.Normalized()
	if err != nil {
		return nil
	}
	var out []localTarget
	if dir, ok := localWarehouse(n); ok {
		out = append(out, localTarget{what: "the warehouse folder", path: dir})
	}
	if p, ok := n.SQLitePath(); ok {
		out = append(out, localTarget{what: "the SQLite catalog", path: p, file: true})
	}
	return out
}

// localWarehouse returns the folder of a local warehouse.
func localWarehouse(s catalogs.Settings) (string, bool) {
	n, err := s.Normalized()
	if err != nil {
		return "", false
	}
	return catalogs.LocalPath(n.Warehouse)
}

// checkUnborn answers check for a config whose warehouse folder or SQLite catalog does not exist
// yet, without creating them: opening the catalog would, and check must leave nothing behind. It
// proves instead that the first write can create them (the nearest existing folder is writable).
// It returns nil when everything exists, and check then runs its probe.
func checkUnborn(cfg *Config) *airbyte.ConnectionStatus {
	var missing []string
	for _, t := range localTargets(cfg.Settings) {
		if _, err := os.Stat(t.path); err == nil {
			continue
		}
		dir := t.path
		if t.file {
			dir = filepath.Dir(dir)
		}
		parent, err := nearestExisting(dir)
		if err != nil {
			return airbyte.Failed(fmt.Sprintf("%s %s does not exist and cannot be created: %v", t.what, t.path, err))
		}
		if err := probeWritable(parent); err != nil {
			return airbyte.Failed(fmt.Sprintf("%s %s does not exist and cannot be created in %s: %v", t.what, t.path, parent, err))
		}
		missing = append(missing, fmt.Sprintf("%s %s does not exist yet; the first write creates it (%s is writable)", t.what, t.path, parent))
	}
	if len(missing) == 0 {
		return nil
	}
	return airbyte.Succeeded(strings.Join(missing, "; ") + "; nothing was written")
}

// checkWritable fails with "permission denied" when an existing local target cannot be written,
// before SQLite says only "unable to open database file".
func checkWritable(s catalogs.Settings) error {
	for _, t := range localTargets(s) {
		st, err := os.Stat(t.path)
		if err != nil {
			continue // missing: opening creates it, or says why not
		}
		dir := t.path
		if t.file {
			f, err := os.OpenFile(t.path, os.O_RDWR, 0)
			if err != nil {
				return airbyte.ConfigErrorf("%s %s is not writable: %v", t.what, t.path, unwrapPath(err))
			}
			f.Close()
			dir = filepath.Dir(t.path) // SQLite also writes its journal beside the file
		} else if !st.IsDir() {
			return airbyte.ConfigErrorf("%s %s is not a folder", t.what, t.path)
		}
		if err := probeWritable(dir); err != nil {
			return airbyte.ConfigErrorf("%s %s is not writable: %v", t.what, t.path, err)
		}
	}
	return nil
}

// nearestExisting returns path or its closest existing ancestor, which must be a folder.
func nearestExisting(path string) (string, error) {
	for p := path; ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err == nil {
			if !st.IsDir() {
				return "", fmt.Errorf("%s is a file, not a folder", p)
			}
			return p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", unwrapPath(err)
		}
		if filepath.Dir(p) == p {
			return "", err
		}
	}
}

// probeWritable creates and removes a file in dir; the error does not repeat dir.
func probeWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".clockberg-probe-*")
	if err != nil {
		return unwrapPath(err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// unwrapPath drops the operation and path of a *fs.PathError, whose path the caller already names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// removeEmptyDirs removes dir and the folders under it when they hold no files: what a dropped
// probe table leaves on a local warehouse.
func removeEmptyDirs(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() {
			removeEmptyDirs(filepath.Join(dir, e.Name()))
		}
	}
	os.Remove(dir) // fails, harmlessly, when something is left
}
