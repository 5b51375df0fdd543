package main

import "context"

// step is one addition to a demo run: it prints its name and runs. when, if set, says on which
// syncs it runs (for example only from the second on: func(d *demo) bool { return d.incremental() }).
type step struct {
	name string
	when func(d *demo) bool
	run  func(ctx context.Context, d *demo) error
}

// beforeSync runs after the simulator is up and the catalog is configured, before read | write:
// the place to change the simulated account (edit or delete records through d.simRequest) so the
// sync has something to carry over. The comparison with the simulator's ground truth afterwards
// then checks that the tables followed.
var beforeSync = []step{}

// afterSync runs after the sync, before every table is compared with the ground truth: the place
// for table maintenance (d.output(ctx, nil, "destination-iceberg", ...)) that must leave every
// table correct.
var afterSync = []step{}
