package clockify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/clockberg/clockberg/clockifysim"
)

// Against the simulator with seeded chaos (5xx, bodies cut mid-way, 429 bursts) the client
// must hand back exactly the bodies a calm simulator with the same seed serves.
func TestChaoticSimulatorYieldsCalmBodies(t *testing.T) {
	calmCfg := clockifysim.Demo()
	chaosCfg := clockifysim.Demo()
	chaosCfg.Chaos = clockifysim.Chaos{Seed: 7, Error5xx: 0.1, Truncate: 0.1, Burst429: 0.05, Burst429Len: 3}
	calmSim, err := clockifysim.NewChecked(calmCfg)
	if err != nil {
		t.Fatal(err)
	}
	chaosSim, err := clockifysim.NewChecked(chaosCfg)
	if err != nil {
		t.Fatal(err)
	}
	calmSrv, chaosSrv := httptest.NewServer(calmSim), httptest.NewServer(chaosSim)
	defer calmSrv.Close()
	defer chaosSrv.Close()
	calm, _ := newTestClient(t, calmSrv, Options{APIKey: clockifysim.DefaultAPIKey})
	chaotic, _ := newTestClient(t, chaosSrv, Options{APIKey: clockifysim.DefaultAPIKey, MaxAttempts: 12})
	// 429 bursts cut the rate; recover quickly so the test stays short.
	chaotic.aimd.interval, chaotic.aimd.step = 5*time.Millisecond, 200
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	type req struct {
		path string
		q    url.Values
	}
	reqs := []req{{"/workspaces", nil}, {"/user", nil}}
	for _, ws := range calmSim.WorkspaceIDs() {
		reqs = append(reqs, req{"/workspaces/" + ws + "/tags", url.Values{"archived": {"true"}}})
		resp, err := calm.Get(ctx, "/workspaces/"+ws+"/users", url.Values{"status": {"ALL"}})
		if err != nil {
			t.Fatal(err)
		}
		var users []struct{ ID string }
		if err := json.Unmarshal(resp.Body, &users); err != nil || len(users) == 0 {
			t.Fatalf("users of %s: %v (%d users)", ws, err, len(users))
		}
		for _, u := range users {
			for page := 1; page <= 4; page++ {
				reqs = append(reqs, req{"/workspaces/" + ws + "/user/" + u.ID + "/time-entries",
					url.Values{"page": {fmt.Sprint(page)}, "page-size": {"40"}}})
			}
		}
	}
	for _, r := range reqs {
		want, err := calm.Get(ctx, r.path, r.q)
		if err != nil {
			t.Fatal(err)
		}
		got, err := chaotic.Get(ctx, r.path, r.q)
		if err != nil {
			t.Fatalf("chaotic simulator: %v", err)
		}
		if string(got.Body) != string(want.Body) || (got.LastPage == nil) != (want.LastPage == nil) ||
			(got.LastPage != nil && *got.LastPage != *want.LastPage) {
			t.Fatalf("GET %s?%s: chaotic body (%d bytes, last %v) differs from calm body (%d bytes, last %v)",
				r.path, r.q.Encode(), len(got.Body), got.LastPage, len(want.Body), want.LastPage)
		}
		got.Release()
		want.Release()
	}
	s := chaotic.Stats()
	faults := chaosSim.Stats().ChaosFaults
	if s.ServerErrors == 0 || s.BadBodies == 0 || s.Throttled == 0 {
		t.Fatalf("the chaos did not reach the client (stats %+v, faults %v); the test proves nothing", s, faults)
	}
	t.Logf("%d requests; client %+v; simulator faults %v", len(reqs), s, faults)
}
