package airbyte

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"

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

// Command is a helper command of a connector binary, beside the protocol commands.
type Command struct {
	Name    string
	Summary string // one line in the binary's help
	// Run gets the arguments after the command name and returns the exit code. It must answer
	// -h and --help with its usage on stdout and exit code 0.
	Run func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

// Program is a connector binary: the protocol commands of its Source or Destination (exactly one
// is set), its helper Commands, and the help for all of them.
type Program struct {
	Name        string // the binary's name, used in help and messages
	Summary     string // one line saying what it is
	Docs        string // where people read more, e.g. "README.md#running-by-hand"
	Source      Source
	Destination Destination
	Commands    []Command
}

// protocolCommand is one of the commands the Airbyte protocol defines.
type protocolCommand struct {
	name      string
	source    bool // a source command
	dest      bool // a destination command
	summary   string
	about     string
	flags     []string // in help order
	required  []string
	takesJSON bool // reads --config
}

var protocolCommands = []protocolCommand{
	{name: "spec", source: true, dest: true, flags: []string{"debug"},
		summary: "print the connector's specification (one SPEC message)",
		about:   "Prints the connector's specification: the JSON schema of its config, which the Airbyte platform turns into a form."},
	{name: "check", source: true, dest: true, flags: []string{"config", "quiet", "debug"}, required: []string{"config"}, takesJSON: true,
		summary: "test the config: CONNECTION_STATUS SUCCEEDED or FAILED, exit code 0 either way",
		about: "Tests the config and the connection and prints one CONNECTION_STATUS message, SUCCEEDED or FAILED.\n" +
			"The exit code is 0 in both cases (the Airbyte protocol's rule); it is non-zero only when check itself\n" +
			"could not run. A script tests the status, not the exit code:\n" +
			"  {prog} check --config c.json | grep -q '\"status\":\"SUCCEEDED\"'"},
	{name: "discover", source: true, flags: []string{"config", "quiet", "debug"}, required: []string{"config"}, takesJSON: true,
		summary: "print the streams and their schemas (one CATALOG message)",
		about:   "Prints the streams this source can read with their JSON schemas, keys and cursors (one CATALOG message).\nPipe it into `{prog} configure-catalog` to get a configured catalog for read."},
	{name: "read", source: true, flags: []string{"config", "catalog", "state", "quiet", "progress-interval", "debug"}, required: []string{"config", "catalog"}, takesJSON: true,
		summary: "read the configured streams: RECORD, STATE and TRACE messages on stdout",
		about: "Reads the streams of the configured catalog and prints RECORD, STATE and TRACE messages on stdout,\n" +
			"one JSON object per line. Progress goes to stderr every few seconds, with a summary at the end."},
	{name: "write", dest: true, flags: []string{"config", "catalog", "state-file", "quiet", "progress-interval", "debug"}, required: []string{"config", "catalog"}, takesJSON: true,
		summary: "write the RECORD messages on stdin; echo each STATE once its records are committed",
		about: "Reads Airbyte messages on stdin (a source's read output), writes the records and echoes each STATE on\n" +
			"stdout once every record before it is committed. Progress goes to stderr every few seconds, with a\n" +
			"summary at the end."},
}

// flagDefs describes every flag a protocol command may take.
var flagDefs = map[string]struct{ arg, help string }{
	"config":            {"<file>", "the connector's config, a JSON object (fields below)"},
	"catalog":           {"<file>", "the configured catalog (configure-catalog prints one)"},
	"state":             {"<file>", "the state to continue from: a destination's --state-file, or the platform's state"},
	"state-file":        {"<file>", "keep the latest state of every stream in this file, rewritten atomically after each echoed STATE (streams this run does not touch keep theirs); the source reads it with --state"},
	"quiet":             {"", "no progress lines and no summary on stderr (warnings and errors still go there)"},
	"progress-interval": {"<duration>", "time between progress lines on stderr (default 5s)"},
	"debug":             {"", "accepted and ignored (the Airbyte platform may pass it)"},
}

// Args is a parsed command line of a protocol command.
type Args struct {
	Command          string
	Config           string
	Catalog          string
	State            string
	StateFile        string
	Quiet            bool
	ProgressInterval time.Duration
}

// errHelp reports that the command line asked for help.
var errHelp = errors.New("help requested")

func findProtocolCommand(name string) (protocolCommand, bool) {
	i := slices.IndexFunc(protocolCommands, func(c protocolCommand) bool { return c.name == name })
	if i < 0 {
		return protocolCommand{}, false
	}
	return protocolCommands[i], true
}

// ParseArgs parses `<command> [--flag value | --flag=value]...` for one of the given protocol
// commands. --debug is accepted and ignored; unknown commands and flags are rejected with an error
// naming them.
func ParseArgs(args []string, commands ...string) (*Args, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("no command given; want one of %s", strings.Join(commands, ", "))
	}
	pc, ok := findProtocolCommand(args[0])
	if !ok || !slices.Contains(commands, args[0]) {
		return nil, fmt.Errorf("unknown command %q; want one of %s%s", args[0], strings.Join(commands, ", "), suggest(args[0], commands))
	}
	return parseFlags(pc, args[1:])
}

// parseFlags parses a protocol command's flags with a flag.FlagSet.
func parseFlags(pc protocolCommand, args []string) (*Args, error) {
	a := &Args{Command: pc.name, ProgressInterval: 5 * time.Second}
	fs := newFlagSet(pc, a)
	if err := checkFlagNames(fs, pc, args); err != nil {
		return nil, err
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, errHelp
		}
		return nil, fmt.Errorf("command %s: %v", pc.name, err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q for command %s (flags take the form --name value)", fs.Arg(0), pc.name)
	}
	for _, f := range pc.required {
		if fs.Lookup(f).Value.String() == "" {
			return nil, fmt.Errorf("command %s needs --%s %s", pc.name, f, flagDefs[f].arg)
		}
	}
	if a.ProgressInterval <= 0 {
		return nil, fmt.Errorf("--progress-interval must be positive, got %s", a.ProgressInterval)
	}
	return a, nil
}

// run holds what every protocol command shares.
type run struct {
	prog     string
	out      *Writer
	red      *Redactor
	stderr   io.Writer
	spec     *Spec
	human    bool     // warnings and errors for people on stderr (off inside the platform)
	progress bool     // progress lines and summaries on stderr too (human and not --quiet)
	warnings []string // about the config, for check's status message
}

func newRun(prog string, stdout, stderr io.Writer, spec *Spec) *run {
	red := NewRedactor()
	r := &run{prog: prog, out: NewWriter(stdout, red), red: red, stderr: red.Writer(stderr), spec: spec}
	redactLibraryLogs(r.stderr)
	return r
}

func (r *run) finish(code int) int {
	if err := r.out.Close(); err != nil && code == 0 {
		fmt.Fprintf(r.stderr, "%s: error: writing stdout: %v\n", r.prog, err)
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
		if !r.human || r.out.watch == nil {
			// With a watcher the TRACE is already mirrored on stderr.
			fmt.Fprintf(r.stderr, "%s: error: %v\n", r.prog, AsError(err).Message)
		}
	}
	return 1
}

// loadConfig reads the config file, registers its secrets, validates it against the spec and warns
// about fields the spec does not know.
func (r *run) loadConfig(path string) (json.RawMessage, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, ConfigErrorf("cannot read the config file %s: %v", path, err)
	}
	if err := jsonObjectError(raw); err != nil {
		return nil, ConfigErrorf("the config file %s %v", path, err)
	}
	b := bytes.TrimSpace(raw)
	// Secrets first: a validation message may quote a value.
	r.red.Add(secretsFromConfig(r.spec.ConnectionSpecification, b)...)
	if err := ValidateConfig(r.spec.ConnectionSpecification, b); err != nil {
		return nil, err
	}
	for _, u := range UnknownFields(r.spec.ConnectionSpecification, b) {
		w := u.String()
		r.warnings = append(r.warnings, w)
		r.out.Log(LogWarn, "%s", w)
		if r.human {
			fmt.Fprintf(r.stderr, "%s: WARN: %s\n", r.prog, r.red.String(w))
		}
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
			return r.status(st)
		}
	}
	if e := AsError(err); e.FailureType == ConfigError {
		return r.status(Failed(e.Message))
	}
	return r.fail(err)
}

// status prints check's CONNECTION_STATUS, with the config warnings added to its message.
func (r *run) status(st *ConnectionStatus) int {
	msg := st.Message
	if len(r.warnings) > 0 {
		note := "warning: " + strings.Join(r.warnings, "; ")
		if msg == "" {
			msg = note
		} else {
			msg += "; " + note
		}
	}
	st = &ConnectionStatus{Status: st.Status, Message: r.red.String(msg)}
	r.out.Send(&Message{Type: TypeConnectionStatus, ConnectionStatus: st})
	if r.progress {
		line := string(st.Status)
		if st.Message != "" {
			line += ": " + st.Message
		}
		fmt.Fprintf(r.stderr, "%s check: %s\n", r.prog, line)
	}
	return 0
}

// RunSource runs one protocol command of a source and returns the process exit code.
func RunSource(ctx context.Context, s Source, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return (&Program{Name: "source", Source: s}).Main(ctx, args, stdin, stdout, stderr)
}

// RunDestination runs one protocol command of a destination and returns the process exit code.
func RunDestination(ctx context.Context, d Destination, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return (&Program{Name: "destination", Destination: d}).Main(ctx, args, stdin, stdout, stderr)
}

func (p *Program) spec() *Spec {
	if p.Source != nil {
		return p.Source.Spec()
	}
	return p.Destination.Spec()
}

// protocol returns the protocol commands of the program's kind.
func (p *Program) protocol() []protocolCommand {
	var out []protocolCommand
	for _, c := range protocolCommands {
		if (p.Source != nil && c.source) || (p.Destination != nil && c.dest) {
			out = append(out, c)
		}
	}
	return out
}

func (p *Program) commandNames() []string {
	var names []string
	for _, c := range p.protocol() {
		names = append(names, c.name)
	}
	for _, c := range p.Commands {
		names = append(names, c.Name)
	}
	return names
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help" || arg == "help"
}

// Main runs the command line args (without the program name) and returns the exit code:
// `help`, `-h` and `--help` print the usage on stdout; a protocol command runs through the
// Source or Destination; a helper command runs its Run. A bad command line is a TRACE ERROR on
// stdout (what the Airbyte platform reads), a message on stderr, and exit code 1.
func (p *Program) Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && isHelp(args[0]) {
		if len(args) == 1 {
			p.help(stdout)
			return 0
		}
		if len(args) > 2 {
			return p.badCommandLine(stdout, stderr, fmt.Errorf("help takes at most one command, got %q", args[1:]))
		}
		args = []string{args[1], "--help"}
	}
	if len(args) == 0 {
		return p.badCommandLine(stdout, stderr, fmt.Errorf("no command given; want one of %s", strings.Join(p.commandNames(), ", ")))
	}
	for _, pc := range p.protocol() {
		if pc.name == args[0] {
			return p.runProtocol(ctx, pc, args[1:], stdin, stdout, stderr)
		}
	}
	for _, c := range p.Commands {
		if c.Name == args[0] {
			return c.Run(ctx, args[1:], stdin, stdout, stderr)
		}
	}
	return p.badCommandLine(stdout, stderr, fmt.Errorf("unknown command %q; want one of %s%s",
		args[0], strings.Join(p.commandNames(), ", "), suggest(args[0], p.commandNames())))
}

// badCommandLine reports a command line the program cannot run.
func (p *Program) badCommandLine(stdout, stderr io.Writer, err error) int {
	r := newRun(p.Name, stdout, stderr, nil)
	r.out.Error(ConfigErrorf("%v", err))
	fmt.Fprintf(r.stderr, "%s: %v\nRun `%s help` for usage.\n", p.Name, err, p.Name)
	r.finish(1)
	return 1
}

func (p *Program) runProtocol(ctx context.Context, pc protocolCommand, args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	a, err := parseFlags(pc, args)
	if errors.Is(err, errHelp) {
		p.commandHelp(stdout, pc)
		return 0
	}
	if err != nil {
		return p.badCommandLine(stdout, stderr, fmt.Errorf("%v (run `%s help %s` for its flags)", err, p.Name, pc.name))
	}
	r := newRun(p.Name, stdout, stderr, p.spec())
	r.human = os.Getenv("WORKER_JOB_ID") == ""
	r.progress = r.human && !a.Quiet
	defer func() { code = r.finish(code) }()
	defer r.guard(&code)
	switch pc.name {
	case "spec":
		return r.spec0()
	case "check":
		if p.Source != nil {
			return r.check(ctx, a.Config, p.Source.Check)
		}
		return r.check(ctx, a.Config, p.Destination.Check)
	case "discover":
		cfg, err := r.loadConfig(a.Config)
		if err != nil {
			return r.fail(err)
		}
		cat, err := p.Source.Discover(ctx, cfg)
		if err != nil {
			return r.fail(err)
		}
		if err := r.out.Send(&Message{Type: TypeCatalog, Catalog: cat}); err != nil {
			return r.fail(err)
		}
		return 0
	case "read":
		return r.sync(a, stdin, func(cfg json.RawMessage, cat *ConfiguredCatalog, _ io.Reader) error {
			st, err := ReadStateInput(a.State)
			if err != nil {
				return err
			}
			return p.Source.Read(ctx, cfg, cat, st, r.out)
		})
	default: // write
		return r.sync(a, stdin, func(cfg json.RawMessage, cat *ConfiguredCatalog, in io.Reader) error {
			return p.Destination.Write(ctx, cfg, cat, in, r.out)
		})
	}
}

// sync loads the config and the configured catalog, then runs a read or a write with a watcher
// on the writer for progress, the summary and the state file.
func (r *run) sync(a *Args, stdin io.Reader, fn func(json.RawMessage, *ConfiguredCatalog, io.Reader) error) int {
	cfg, err := r.loadConfig(a.Config)
	if err != nil {
		return r.fail(err)
	}
	cat, err := ReadCatalog(a.Catalog)
	if err != nil {
		return r.fail(err)
	}
	var sf *stateFile
	if a.StateFile != "" {
		if sf, err = openStateFile(a.StateFile); err != nil {
			return r.fail(err)
		}
	}
	w := newWatcher(r.prog, a.Command, cat, r.stderr, r.human, r.progress, a.ProgressInterval, sf)
	r.out.watch = w
	var in io.Reader
	if stdin != nil {
		in = w.countLines(stdin)
	}
	w.start()
	err = fn(cfg, cat, in)
	w.stop()
	if err != nil {
		return r.fail(err)
	}
	return 0
}

// newFlagSet defines the command's flags on a FlagSet that stores them in a.
func newFlagSet(pc protocolCommand, a *Args) *flag.FlagSet {
	fs := flag.NewFlagSet(pc.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	for _, name := range pc.flags {
		help := flagDefs[name].help
		switch name {
		case "config":
			fs.StringVar(&a.Config, name, "", help)
		case "catalog":
			fs.StringVar(&a.Catalog, name, "", help)
		case "state":
			fs.StringVar(&a.State, name, "", help)
		case "state-file":
			fs.StringVar(&a.StateFile, name, "", help)
		case "quiet":
			fs.BoolVar(&a.Quiet, name, false, help)
		case "progress-interval":
			fs.DurationVar(&a.ProgressInterval, name, a.ProgressInterval, help)
		case "debug":
			fs.Bool(name, false, help)
		}
	}
	return fs
}

// checkFlagNames walks args as fs.Parse will and rejects a flag the command does not take with a
// message naming it, the command's flags and the nearest one (the flag package would only say
// "flag provided but not defined").
func checkFlagNames(fs *flag.FlagSet, pc protocolCommand, args []string) error {
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" || len(arg) < 2 || arg[0] != '-' {
			return nil // the flags end here; Parse reports what follows
		}
		name, _, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-"), "=")
		if name == "h" || name == "help" {
			return errHelp
		}
		f := fs.Lookup(name)
		if f == nil {
			var names []string
			fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
			if len(names) == 1 { // --debug only
				return fmt.Errorf("unknown flag --%s: command %s takes no flags", name, pc.name)
			}
			return fmt.Errorf("unknown flag --%s for command %s%s (accepted: --%s)", name, pc.name,
				suggestFlag(name, names), strings.Join(names, ", --"))
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				return fmt.Errorf("flag --%s of command %s needs a value %s", name, pc.name, flagDefs[name].arg)
			}
			i++
		}
	}
	return nil
}

// RepeatedFlag is a flag.Value that collects every occurrence of a repeatable flag.
type RepeatedFlag []string

func (r *RepeatedFlag) String() string     { return strings.Join(*r, ",") }
func (r *RepeatedFlag) Set(v string) error { *r = append(*r, v); return nil }
