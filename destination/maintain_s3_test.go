package destination

import (
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go/table"
)

// startMoto runs moto's S3 server on a free loopback port ($MOTO_SERVER, the interop suite's
// virtualenv or PATH), skipping with a message where it is not installed, and creates a bucket.
func startMoto(t *testing.T, bucket string) string {
	t.Helper()
	bin := os.Getenv("MOTO_SERVER")
	if bin == "" {
		for _, p := range []string{"../interop/.venv/bin/moto_server", "moto_server"} {
			if lp, err := exec.LookPath(p); err == nil {
				bin = lp
				break
			}
		}
	}
	if bin == "" {
		t.Skip("no moto_server ($MOTO_SERVER, interop/.venv or PATH; `make interop-setup` installs it)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", port)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ep := "http://127.0.0.1:" + port
	for i := 0; ; i++ {
		if resp, err := http.Get(ep + "/moto-api/"); err == nil {
			resp.Body.Close()
			break
		}
		if i == 100 {
			t.Fatalf("moto_server did not answer on %s", ep)
		}
		time.Sleep(100 * time.Millisecond)
	}
	s3Do(t, http.MethodPut, ep+"/"+bucket, "")
	return ep
}

func s3Do(t *testing.T, method, url, body string) []byte {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %s %s", method, url, resp.Status, b)
	}
	return b
}

// s3Keys lists the keys under prefix.
func s3Keys(t *testing.T, ep, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	token := ""
	for page := 0; page < 100; page++ {
		u := fmt.Sprintf("%s/%s?list-type=2&prefix=%s", ep, bucket, prefix)
		if token != "" {
			u += "&continuation-token=" + token
		}
		var res struct {
			Contents []struct {
				Key string `xml:"Key"`
			} `xml:"Contents"`
			Truncated bool   `xml:"IsTruncated"`
			Next      string `xml:"NextContinuationToken"`
		}
		if err := xml.Unmarshal(s3Do(t, http.MethodGet, u, ""), &res); err != nil {
			t.Fatal(err)
		}
		for _, c := range res.Contents {
			keys = append(keys, c.Key)
		}
		if !res.Truncated {
			break
		}
		token = res.Next
	}
	return keys
}

// Maintenance on an S3 warehouse (SQLite catalog, moto): compaction folds the deletes in with the
// rows unchanged, expiry keeps the retention, metadata.json files older than the log go, a young
// orphan stays, and the dry run changes no object.
func TestMaintainOnS3(t *testing.T) {
	const bucket = "maint"
	ep := startMoto(t, bucket)
	h := newHarness(t)
	h.cfg["warehouse"] = "s3://" + bucket + "/wh"
	h.cfg["catalog"] = map[string]any{"catalog_type": "sql", "uri": filepath.Join(h.dir, "catalog.db")}
	h.cfg["storage"] = map[string]any{"storage_type": "s3", "endpoint": ep, "region": "us-east-1",
		"access_key_id": "testing", "secret_access_key": "testing", "path_style_access": true}
	h.cfg["maintenance"] = noMaintenance
	months := []string{"2025-01-05T10:00:00Z", "2025-02-05T10:00:00Z"}
	var in []string
	for i := 0; i < 20; i++ {
		in = append(in, entry(fmt.Sprint("e", i), "v0", months[i%2]))
	}
	h.mustWrite(entriesCatalog("append_dedup"), lines(append(in, state("entries", 1, 1))...))
	// A short metadata log, so that the oldest versions leave it.
	first, err := h.catalog().LoadTable(t.Context(), table.Identifier{"clockify", "entries"})
	if err != nil {
		t.Fatal(err)
	}
	txn := first.NewTransaction()
	if err := txn.SetProperties(map[string]string{"write.metadata.previous-versions-max": "2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := txn.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	for s := 1; s <= 3; s++ {
		h.mustWrite(entriesCatalog("append_dedup"), lines(entry(fmt.Sprint("e", s), fmt.Sprint("v", s), months[s%2]),
			deletion(fmt.Sprint("e", 10+s), months[(10+s)%2]), state("entries", s+1, s+1)))
	}
	rowsBefore := allRows(h, "entries", "id")
	tbl := h.table("clockify", "entries")
	prefix := strings.TrimPrefix(tbl.Location(), "s3://"+bucket+"/")
	planted := prefix + "/metadata/00000-planted.metadata.json"
	young := prefix + "/data/young-orphan.parquet"
	s3Do(t, http.MethodPut, ep+"/"+bucket+"/"+planted, "{}")
	s3Do(t, http.MethodPut, ep+"/"+bucket+"/"+young, "x")
	before := s3Keys(t, ep, bucket, prefix)
	manifestList := map[int64]string{}
	for _, s := range tbl.Metadata().Snapshots() {
		manifestList[s.SnapshotID] = strings.TrimPrefix(s.ManifestList, "s3://"+bucket+"/")
	}

	o := onlyOptions()
	o.MinSmallFiles, o.DeleteFilesPerFile, o.SmallFileBytes = 2, 1, 32<<20
	o.KeepSnapshots, o.KeepHistory, o.OrphanMinAge = 2, 0, time.Hour
	o.DryRun = true
	// Two metadata files go: the planted one and the log's oldest version, beyond the two kept.
	dry := run(t, h, "entries", o)
	if dry.CompactedFiles == 0 || dry.ExpiredSnapshots == 0 || dry.OldMetadataFiles != 2 {
		t.Errorf("dry run plans: %+v", dry)
	}
	if got := s3Keys(t, ep, bucket, prefix); !slices.Equal(got, before) {
		t.Fatalf("the dry run changed objects")
	}
	o.DryRun = false
	r := run(t, h, "entries", o)
	if r.After.DeleteFiles != 0 || r.After.DataFiles != 2 || r.After.Snapshots != 2 || r.OldMetadataFiles != 2 {
		t.Errorf("maintenance on S3: %+v", r)
	}
	keys := s3Keys(t, ep, bucket, prefix)
	if slices.Contains(keys, planted) || !slices.Contains(keys, young) {
		t.Errorf("planted old metadata kept (%v) or young orphan removed (%v)", slices.Contains(keys, planted), !slices.Contains(keys, young))
	}
	if got := allRows(h, "entries", "id"); !slices.Equal(got, rowsBefore) {
		t.Errorf("rows changed by maintenance on S3")
	}
	after := h.table("clockify", "entries")
	for id, ml := range manifestList {
		retained := after.Metadata().SnapshotByID(id) != nil
		if slices.Contains(keys, ml) != retained {
			t.Errorf("snapshot %d (retained %v): its manifest list on S3: %v", id, retained, slices.Contains(keys, ml))
		}
	}
	for _, s := range after.Metadata().Snapshots() {
		if _, err := after.Scan(table.WithSnapshotID(s.SnapshotID)).ToArrowTable(t.Context()); err != nil {
			t.Errorf("retained snapshot %d unreadable: %v", s.SnapshotID, err)
		}
	}
}
