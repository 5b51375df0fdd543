package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
)

// From the second sync on, the demo runs `destination-iceberg maintain` with a short retention
// (the sync itself already ran the conservative default maintenance) and shows its row per table;
// verify then checks that every table still holds the ground truth.
func init() {
	afterSync = append(afterSync, step{
		name: "table maintenance with a short retention: destination-iceberg maintain (keep 3 snapshots, fold every delete file in)",
		when: (*demo).incremental,
		run:  maintainTables,
	})
}

func maintainTables(ctx context.Context, d *demo) error {
	raw, err := os.ReadFile(d.destConfig)
	if err != nil {
		return err
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return fmt.Errorf("%s: %w", d.destConfig, err)
	}
	cfg["maintenance"] = map[string]any{"keep_snapshots": 3, "keep_history_hours": 0, "min_small_files": 2, "delete_files_per_file": 1}
	path := d.path("maintain.json")
	if err := writeJSON(path, cfg); err != nil {
		return err
	}
	out, err := d.output(ctx, nil, "destination-iceberg", "maintain", "--config", path)
	if err != nil {
		return err
	}
	fmt.Printf("\n`destination-iceberg maintain --config %s`:\n%s", path, out)
	return nil
}
