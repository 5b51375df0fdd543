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

// prepareCheck lets check run without creating anything the config names. A local warehouse
// folder of a SQL catalog that does not exist yet cannot be probed without creating it: check
// then only proves that the first write can create it (the nearest existing folder is writable),
// and st is that answer. A SQLite catalog that does not exist yet is replaced, for the probe, by a
// temporary one in a scratch folder (cfg is changed; cleanup removes the folder), after checking
// that its own folder can be created; note says so, for the status message.
func prepareCheck(cfg *Config) (st *airbyte.ConnectionStatus, note string, cleanup func(), err error) {
	cleanup = func() {}
	var notes []string
	n, err := cfg.Settings.Normalized()
	if err != nil {
		return nil, "", cleanup, nil // opening the catalog reports it
	}
	for _, t := range localTargets(cfg.Settings) {
		if _, err := os.Stat(t.path); err == nil {
			continue
		}
		if !t.file && n.Catalog.Type != catalogs.TypeSQL {
			continue // a REST or Glue catalog must be reached; its probe may create the folder
		}
		dir := t.path
		if t.file {
			dir = filepath.Dir(dir)
		}
		parent, err := nearestExisting(dir)
		if err != nil {
			return airbyte.Failed(fmt.Sprintf("%s %s does not exist and cannot be created: %v", t.what, t.path, err)), "", cleanup, nil
		}
		if err := probeWritable(parent); err != nil {
			return airbyte.Failed(fmt.Sprintf("%s %s does not exist and cannot be created in %s: %v", t.what, t.path, parent, err)), "", cleanup, nil
		}
		notes = append(notes, fmt.Sprintf("%s %s does not exist yet; the first write creates it (%s is writable)", t.what, t.path, parent))
		if !t.file {
			// Without the warehouse there is nothing to probe; the catalog is noted as well.
			continue
		}
		if len(notes) > 1 {
			break
		}
		scratch, err := os.MkdirTemp("", "clockberg-check-")
		if err != nil {
			return nil, "", cleanup, err
		}
		cfg.Settings.Catalog.URI = filepath.Join(scratch, catalogs.DefaultSQLiteFile)
		return nil, notes[0] + "; the probe used a temporary catalog", func() { os.RemoveAll(scratch) }, nil
	}
	if len(notes) == 0 {
		return nil, "", cleanup, nil
	}
	return airbyte.Succeeded(strings.Join(notes, "; ") + "; nothing was written"), "", cleanup, nil
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
