package airbyte

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Source is an Airbyte source connector.
type Source interface {
	Spec() *Spec
	// Check returns FAILED (not an error) for bad credentials or config; an error means a bug or outage.
	Check(ctx context.Context, config json.RawMessage) (*ConnectionStatus, error)
	Discover(ctx context.Context, config json.RawMessage) (*Catalog, error)
	// Read emits records, states and statuses on out. A non-nil error exits non-zero; if the source
	// already emitted the TRACE ERRORs it wants, it returns ErrReported.
	Read(ctx context.Context, config json.RawMessage, catalog *ConfiguredCatalog, state *StateInput, out *Writer) error
}

// Destination is an Airbyte destination connector.
type Destination interface {
	Spec() *Spec
	Check(ctx context.Context, config json.RawMessage) (*ConnectionStatus, error)
	Write(ctx context.Context, config json.RawMessage, catalog *ConfiguredCatalog, in io.Reader, out *Writer) error
}

// ErrReported tells a runner that the failure was already reported with TRACE ERRORs: exit
// non-zero without another trace.
var ErrReported = errors.New("airbyte: failure already reported")

// Command-line flags each command accepts.
var commandFlags = map[string][]string{
	"spec":     {},
	"check":    {"config"},
	"discover": {"config"},
	"read":     {"config", "catalog", "state"},
	"write":    {"config", "catalog"},
}

// Args is a parsed command line.
type Args struct {
	Command string
	Config  string
	Catalog string
	State   string
}

// ParseArgs parses `<command> [--flag value | --flag=value]...` by name. --debug is accepted and
// ignored; unknown commands and flags are rejected with an error naming them.
func ParseArgs(args []string, commands ...string) (*Args, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("no command given; want one of %s", strings.Join(commands, ", "))
	}
	a := &Args{Command: args[0]}
	known := false
	for _, c := range commands {
		known = known || c == a.Command
	}
	if !known {
		return nil, fmt.Errorf("unknown command %q; want one of %s", a.Command, strings.Join(commands, ", "))
	}
	allowed := commandFlags[a.Command]
	for i := 1; i < len(args); i++ {
		arg := args[i]
		if !strings.HasPrefix(arg, "--") {
			return nil, fmt.Errorf("unexpected argument %q for command %s", arg, a.Command)
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
		if name == "debug" {
			continue
		}
		ok := false
		for _, f := range allowed {
			ok = ok || f == name
		}
		if !ok {
			if len(allowed) == 0 {
				return nil, fmt.Errorf("unknown flag --%s: command %s takes no flags", name, a.Command)
			}
			return nil, fmt.Errorf("unknown flag --%s for command %s (accepted: --%s)", name, a.Command, strings.Join(allowed, ", --"))
		}
		if !hasValue {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("flag --%s needs a value", name)
			}
			i++
			value = args[i]
		}
		switch name {
		case "config":
			a.Config = value
		case "catalog":
			a.Catalog = value
		case "state":
			a.State = value
		}
	}
	for _, f := range allowed {
		if f == "state" {
			continue
		}
		if (f == "config" && a.Config == "") || (f == "catalog" && a.Catalog == "") {
			return nil, fmt.Errorf("command %s needs --%s <file>", a.Command, f)
		}
	}
	return a, nil
}

// run holds what both runners share.
type run struct {
	out    *Writer
	red    *Redactor
	stderr io.Writer
	spec   *Spec
}

func newRun(stdout, stderr io.Writer, spec *Spec) *run {
	red := NewRedactor()
	r := &run{out: NewWriter(stdout, red), red: red, stderr: red.Writer(stderr), spec: spec}
	redactLibraryLogs(r.stderr)
	return r
}

func (r *run) finish(code int) int {
	if err := r.out.Close(); err != nil && code == 0 {
		fmt.Fprintf(r.stderr, "error: writing stdout: %v\n", err)
		code = 1
	}
	if rw, ok := r.stderr.(*redactingWriter); ok {
		rw.flush()
	}
	return code
}

// fail reports err as a TRACE ERROR (and on stderr) and returns exit code 1.
func (r *run) fail(err error) int {
	if !errors.Is(err, ErrReported) {
		r.out.Error(err)
		fmt.Fprintf(r.stderr, "error: %v\n", AsError(err).Message)
	}
	return 1
}

// loadConfig reads the config file, registers its secrets and validates it against the spec.
func (r *run) loadConfig(path string) (json.RawMessage, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, ConfigErrorf("cannot read the config file %s: %v", path, err)
	}
	b = bytes.TrimSpace(b)
	if !json.Valid(b) || len(b) == 0 || b[0] != '{' {
		return nil, ConfigErrorf("the config file %s is not a JSON object", path)
	}
	// Secrets first: a validation message may quote a value.
	r.red.Add(secretsFromConfig(r.spec.ConnectionSpecification, b)...)
	if err := ValidateConfig(r.spec.ConnectionSpecification, b); err != nil {
		return nil, err
	}
	return json.RawMessage(b), nil
}

// ValidateConfig checks config against a draft-07 connectionSpecification; a violation is a
// config_error that names the offending field.
func ValidateConfig(spec, config json.RawMessage) error {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(spec))
	if err != nil {
		return SystemErrorf("the connector's spec is not valid JSON: %v", err)
	}
	if err := c.AddResource("spec.json", doc); err != nil {
		return SystemErrorf("the connector's spec: %v", err)
	}
	sch, err := c.Compile("spec.json")
	if err != nil {
		return SystemErrorf("the connector's spec is not a valid JSON schema: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(config))
	if err != nil {
		return ConfigErrorf("the config is not valid JSON: %v", err)
	}
	if err := sch.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return ConfigErrorf("the config does not match the connector's spec: %s", describeViolation(ve))
		}
		return ConfigErrorf("the config does not match the connector's spec: %v", err)
	}
	return nil
}

// describeViolation flattens a validation error tree into "at /path: reason" parts.
func describeViolation(ve *jsonschema.ValidationError) string {
	var parts []string
	p := message.NewPrinter(language.English)
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			loc := "/" + strings.Join(e.InstanceLocation, "/")
			parts = append(parts, fmt.Sprintf("at %s: %s", loc, e.ErrorKind.LocalizedString(p)))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	if len(parts) > 5 {
		parts = append(parts[:5], fmt.Sprintf("and %d more", len(parts)-5))
	}
	return strings.Join(parts, "; ")
}

func (r *run) guard(code *int) {
	if p := recover(); p != nil {
		err := &Error{FailureType: SystemError, Message: fmt.Sprintf("internal error: %v", p), Internal: string(debug.Stack())}
		*code = r.fail(err)
	}
}

func (r *run) spec0() int {
	if err := r.out.Send(&Message{Type: TypeSpec, Spec: r.spec}); err != nil {
		return r.fail(err)
	}
	return 0
}

func (r *run) check(ctx context.Context, path string, check func(context.Context, json.RawMessage) (*ConnectionStatus, error)) int {
	cfg, err := r.loadConfig(path)
	if err == nil {
		var st *ConnectionStatus
		st, err = check(ctx, cfg)
		if err == nil {
			st.Message = r.red.String(st.Message)
			r.out.Send(&Message{Type: TypeConnectionStatus, ConnectionStatus: st})
			return 0
		}
	}
	if e := AsError(err); e.FailureType == ConfigError {
		r.out.Send(&Message{Type: TypeConnectionStatus, ConnectionStatus: Failed(r.red.String(e.Message))})
		return 0
	}
	return r.fail(err)
}

// RunSource runs one command of a source and returns the process exit code.
func RunSource(ctx context.Context, s Source, args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	r := newRun(stdout, stderr, s.Spec())
	defer func() { code = r.finish(code) }()
	defer r.guard(&code)
	a, err := ParseArgs(args, "spec", "check", "discover", "read")
	if err != nil {
		return r.fail(ConfigErrorf("%v", err))
	}
	switch a.Command {
	case "spec":
		return r.spec0()
	case "check":
		return r.check(ctx, a.Config, s.Check)
	case "discover":
		cfg, err := r.loadConfig(a.Config)
		if err != nil {
			return r.fail(err)
		}
		cat, err := s.Discover(ctx, cfg)
		if err != nil {
			return r.fail(err)
		}
		if err := r.out.Send(&Message{Type: TypeCatalog, Catalog: cat}); err != nil {
			return r.fail(err)
		}
		return 0
	default: // read
		return r.sync(a.Config, a.Catalog, func(cfg json.RawMessage, cat *ConfiguredCatalog) error {
			st, err := ReadStateInput(a.State)
			if err != nil {
				return err
			}
			return s.Read(ctx, cfg, cat, st, r.out)
		})
	}
}

// RunDestination runs one command of a destination and returns the process exit code.
func RunDestination(ctx context.Context, d Destination, args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	r := newRun(stdout, stderr, d.Spec())
	defer func() { code = r.finish(code) }()
	defer r.guard(&code)
	a, err := ParseArgs(args, "spec", "check", "write")
	if err != nil {
		return r.fail(ConfigErrorf("%v", err))
	}
	switch a.Command {
	case "spec":
		return r.spec0()
	case "check":
		return r.check(ctx, a.Config, d.Check)
	default: // write
		return r.sync(a.Config, a.Catalog, func(cfg json.RawMessage, cat *ConfiguredCatalog) error {
			return d.Write(ctx, cfg, cat, stdin, r.out)
		})
	}
}

// sync loads the config and the configured catalog, then runs a read or a write.
func (r *run) sync(configPath, catalogPath string, fn func(json.RawMessage, *ConfiguredCatalog) error) int {
	cfg, err := r.loadConfig(configPath)
	if err != nil {
		return r.fail(err)
	}
	cat, err := ReadCatalog(catalogPath)
	if err != nil {
		return r.fail(err)
	}
	if err := fn(cfg, cat); err != nil {
		return r.fail(err)
	}
	return 0
}
