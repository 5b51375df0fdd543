package cmd

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// binaries builds the three commands once, with the build flags of the environment (the
// Makefile's under `make test`).
func binaries(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "clockberg-bin-")
		if binErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", binDir+"/", "./...")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = err
			t.Logf("%s", out)
		}
	})
	if binErr != nil {
		t.Fatalf("building the commands: %v", binErr)
	}
	return binDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

type helpRun struct {
	code           int
	stdout, stderr string
}

func runBin(t *testing.T, name string, args ...string) helpRun {
	t.Helper()
	cmd := exec.Command(filepath.Join(binaries(t), name), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %q: %v", name, args, err)
	}
	return helpRun{code, out.String(), errb.String()}
}

// readmeAnchors are the GitHub anchors of README.md's headings.
func readmeAnchors(t *testing.T) []string {
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile(`(?m)^#+ (.+)$`).FindAllStringSubmatch(string(b), -1) {
		a := strings.ToLower(strings.TrimSpace(m[1]))
		a = regexp.MustCompile("[^a-z0-9 _-]").ReplaceAllString(a, "")
		out = append(out, strings.ReplaceAll(a, " ", "-"))
	}
	return out
}

// specDefaults returns "name" -> default for every top-level field of a connector's spec that
// has one, read from the binary's own SPEC output.
func specDefaults(t *testing.T, bin string) map[string]string {
	r := runBin(t, bin, "spec")
	var m struct {
		Spec struct {
			ConnectionSpecification struct {
				Properties map[string]map[string]any `json:"properties"`
			} `json:"connectionSpecification"`
		} `json:"spec"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("%s spec: %v\n%s", bin, err, r.stdout)
	}
	out := map[string]string{}
	for name, p := range m.Spec.ConnectionSpecification.Properties {
		if d, ok := p["default"]; ok {
			b, _ := json.Marshal(d)
			out[name] = string(b)
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: the spec has no defaults to check", bin)
	}
	return out
}

// TestHelpOnEveryBinaryAndCommand runs -h, --help and help on every binary and each of its
// commands: usage on stdout, nothing on stderr, exit code 0, every command with its line, the
// config fields with the spec's defaults, and a pointer to a README section that exists.
func TestHelpOnEveryBinaryAndCommand(t *testing.T) {
	anchors := readmeAnchors(t)
	commands := map[string][]string{
		"source-clockify":     {"spec", "check", "discover", "read", "configure-catalog"},
		"destination-iceberg": {"spec", "check", "write", "snowflake", "tables", "maintain"},
		"clockify-sim":        nil,
	}
	for bin, cmds := range commands {
		var top string
		for _, form := range [][]string{{"-h"}, {"--help"}, {"help"}} {
			r := runBin(t, bin, form...)
			if r.code != 0 || r.stderr != "" || !strings.Contains(strings.ToLower(r.stdout), "usage") {
				t.Errorf("%s %q: exit %d, stderr %q, stdout:\n%s", bin, form, r.code, r.stderr, r.stdout)
			}
			if top != "" && r.stdout != top {
				t.Errorf("%s %q prints other help than %s -h", bin, form, bin)
			}
			top = r.stdout
		}
		m := regexp.MustCompile(`#([a-z0-9-]+)\)`).FindStringSubmatch(top)
		if m == nil || !slices.Contains(anchors, m[1]) {
			t.Errorf("%s's help points at no README section that exists (%v):\n%s", bin, m, top)
		}
		for _, c := range cmds {
			if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(c) + ` +\S`).MatchString(top) {
				t.Errorf("%s's help has no line for %s:\n%s", bin, c, top)
			}
			var first string
			for _, form := range [][]string{{c, "-h"}, {c, "--help"}, {"help", c}} {
				r := runBin(t, bin, form...)
				if r.code != 0 || r.stderr != "" || !strings.Contains(strings.ToLower(r.stdout), "usage: "+bin+" "+c) {
					t.Errorf("%s %q: exit %d, stderr %q, stdout:\n%s", bin, form, r.code, r.stderr, r.stdout)
				}
				if first != "" && r.stdout != first {
					t.Errorf("%s %q differs from %s %s -h", bin, form, bin, c)
				}
				first = r.stdout
			}
		}
		if bin == "clockify-sim" {
			if !strings.Contains(top, "sim-key-") || !strings.Contains(top, "--source-config") {
				t.Errorf("clockify-sim's help must give its key and how to configure the source:\n%s", top)
			}
			continue
		}
		for name, def := range specDefaults(t, bin) {
			if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(name) + ` .*default ` + regexp.QuoteMeta(def)).MatchString(top) {
				t.Errorf("%s's help does not give %s's default %s:\n%s", bin, name, def, top)
			}
		}
	}
}

// TestBadCommandLines: an unknown command or flag is a TRACE ERROR naming it, and exit 1.
func TestBadCommandLines(t *testing.T) {
	for _, c := range []struct {
		bin  string
		args []string
		want string
	}{
		{"source-clockify", []string{"--version"}, `unknown command \"--version\"`},
		{"source-clockify", []string{"read", "--config", "c", "--catalog", "k", "--sate", "s"}, "unknown flag --sate"},
		{"destination-iceberg", []string{"wirte"}, `did you mean \"write\"?`},
		{"destination-iceberg", []string{"write", "--config", "c"}, "command write needs --catalog"},
	} {
		r := runBin(t, c.bin, c.args...)
		if r.code != 1 || !strings.HasPrefix(r.stdout, `{"type":"TRACE"`) || !strings.Contains(r.stdout, c.want) || !strings.Contains(r.stderr, "help` for usage") {
			t.Errorf("%s %q: exit %d\nstdout %s\nstderr %s", c.bin, c.args, r.code, r.stdout, r.stderr)
		}
	}
	if r := runBin(t, "clockify-sim", "--bogus"); r.code != 2 || !strings.Contains(r.stderr, "-bogus") {
		t.Errorf("clockify-sim --bogus: exit %d, stderr %q", r.code, r.stderr)
	}
}
