// Package source is the Clockify source connector: config, the stream table, and one engine that
// walks the table concurrently under the client's adaptive rate limit, emitting Airbyte records,
// states and stream statuses.
package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/schemas"
	"github.com/clockberg/clockberg/source/clockify"
	"github.com/clockberg/clockberg/source/streams"
)

// Source implements airbyte.Source for Clockify.
type Source struct {
	// stateEvery overrides the least interval between progress STATEs of long streams (tests).
	stateEvery time.Duration
	// tune adjusts the read's client options (tests shorten the retry bounds).
	tune func(*clockify.Options)
}

// New returns the Clockify source.
func New() *Source { return &Source{} }

var _ airbyte.Source = (*Source)(nil)

// Spec returns the connector specification.
func (s *Source) Spec() *airbyte.Spec {
	return &airbyte.Spec{
		DocumentationURL:        documentationURL,
		ConnectionSpecification: json.RawMessage(connectionSpecification),
		ProtocolVersion:         "0.2.0",
	}
}

// Check lists the key's workspaces: it proves the URL, the key and the configured workspaces.
func (s *Source) Check(ctx context.Context, config json.RawMessage) (*airbyte.ConnectionStatus, error) {
	cfg, err := parseConfig(config)
	if err != nil {
		return nil, err
	}
	c, err := checkClient(cfg)
	if err != nil {
		return nil, err
	}
	list := streams.WorkspaceList()
	resp, err := c.Get(ctx, list.Path, nil)
	if err != nil {
		ae, st := apiStatus(err)
		var re *clockify.RetryError
		switch {
		case st == 401:
			return airbyte.Failed(fmt.Sprintf("Clockify rejected the API key (HTTP 401: %s). Check api_key; a key generated for a subdomain workspace only works with that workspace's API URL.", ae.Message)), nil
		case ae != nil:
			return airbyte.Failed(fmt.Sprintf("Clockify refused to list workspaces at %s: %v", cfg.baseURL, err)), nil
		case errors.As(err, &re) && re.Status == 0:
			return airbyte.Failed(fmt.Sprintf("could not reach Clockify at %s (check api_url): %v", cfg.baseURL, err)), nil
		}
		if ctx.Err() != nil {
			return nil, airbyte.TransientErrorf("listing workspaces at %s was interrupted: %v", cfg.baseURL, err)
		}
		// Reachable but wrong (an HTML page, a body that is not JSON, 5xx on every attempt, a
		// redirect elsewhere, an endless body): the protocol's answer is FAILED, not a crash.
		return airbyte.Failed(fmt.Sprintf("%s did not answer like the Clockify API (check api_url): %v", cfg.baseURL, err)), nil
	}
	defer resp.Release()
	var ws []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal(resp.Body, &ws); err != nil {
		return airbyte.Failed(fmt.Sprintf("%s%s did not answer with a list of workspaces; is api_url a Clockify API host? (%v)", cfg.baseURL, list.Path, err)), nil
	}
	visible := map[string]bool{}
	for _, w := range ws {
		if w.ID == "" {
			return airbyte.Failed(fmt.Sprintf("%s/workspaces answered a list whose items have no workspace id; is api_url a Clockify API host?", cfg.baseURL)), nil
		}
		visible[w.ID] = true
	}
	var missing []string
	for _, id := range cfg.workspaceIDs {
		if !visible[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return airbyte.Failed(fmt.Sprintf("workspace(s) %s are not visible to this API key at %s", strings.Join(missing, ", "), cfg.baseURL)), nil
	}
	if len(ws) == 0 {
		return airbyte.Failed("the API key sees no workspace"), nil
	}
	n := len(ws)
	if len(cfg.workspaceIDs) > 0 {
		n = len(cfg.workspaceIDs)
	}
	return airbyte.Succeeded(fmt.Sprintf("connected to %s; %d workspace(s) will be read", cfg.baseURL, n)), nil
}

// Discover returns the registry's streams. It needs no request: the streams and their schemas
// are fixed.
func (s *Source) Discover(ctx context.Context, config json.RawMessage) (*airbyte.Catalog, error) {
	if _, err := parseConfig(config); err != nil {
		return nil, err
	}
	return catalog()
}

func catalog() (*airbyte.Catalog, error) {
	cat := &airbyte.Catalog{}
	for _, d := range streams.All {
		sch, ok := schemas.Get(d.Name)
		if !ok {
			return nil, airbyte.SystemErrorf("no JSON schema for stream %s", d.Name)
		}
		resumable := true
		st := airbyte.Stream{
			Name:                    d.Name,
			JSONSchema:              sch,
			SupportedSyncModes:      []airbyte.SyncMode{airbyte.FullRefresh},
			SourceDefinedPrimaryKey: d.Key,
			IsResumable:             &resumable,
		}
		if d.Cursor != nil {
			st.SupportedSyncModes = append(st.SupportedSyncModes, airbyte.Incremental)
			st.SourceDefinedCursor = true
			st.DefaultCursorField = d.Cursor
		}
		cat.Streams = append(cat.Streams, st)
	}
	return cat, nil
}

// Read syncs the configured streams.
func (s *Source) Read(ctx context.Context, config json.RawMessage, cat *airbyte.ConfiguredCatalog, state *airbyte.StateInput, out *airbyte.Writer) error {
	cfg, err := parseConfig(config)
	if err != nil {
		return err
	}
	if err := cat.Validate(); err != nil {
		return err
	}
	e := &engine{s: cfg, out: out, byName: map[string]*streamRun{}, q: newJobQueue(), stateEvery: s.stateEvery, now: time.Now}
	e.started = e.now()
	if e.stateEvery == 0 {
		e.stateEvery = stateEvery
	}
	if msg := foreignState(state); msg != "" {
		out.Log(airbyte.LogWarn, "%s", msg)
	}
	for i := range cat.Streams {
		cs := &cat.Streams[i]
		d := streams.ByName(cs.Stream.Name)
		desc := cs.Stream.Descriptor()
		if d == nil {
			return airbyte.ConfigErrorf("the configured catalog names stream %q, which this source does not have (streams: %s)",
				desc.String(), strings.Join(streams.Names(), ", ")).WithStream(desc)
		}
		if e.byName[d.Name] != nil {
			return airbyte.ConfigErrorf("the configured catalog lists stream %q twice (in different namespaces); Clockify has one", d.Name).WithStream(desc)
		}
		incremental := cs.SyncMode == airbyte.Incremental
		if incremental && d.Cursor == nil {
			// Clients such as PyAirbyte ask for incremental on every stream; like Airbyte's CDK,
			// read what the stream supports instead of failing the sync.
			out.Log(airbyte.LogWarn, "stream %s supports only full_refresh; the catalog asks for incremental, so it is read in full", desc)
			incremental = false
		}
		r := newRun(d, desc, true, cfg.pageSize)
		r.incremental = incremental
		r.syncID = cs.SyncID
		ri, perr := parseStreamState(inputState(state, desc), cs.SyncID)
		if perr != nil {
			out.Log(airbyte.LogWarn, "stream %s: ignoring a state this source cannot read (%v); reading the stream from the start", desc, perr)
		}
		r.resume = ri
		if r.incremental {
			for k, v := range ri.raw {
				r.cursors[k] = v
				r.cursorTimes[k] = ri.cursors[k]
			}
		}
		e.byName[d.Name] = r
		e.runs = append(e.runs, r)
	}
	// Parents (and theirs) that feed configured children are walked even when not configured
	// or already finished in this sync; a child finished earlier needs nothing from its parent.
	attached := map[*streamRun]bool{}
	var attach func(r *streamRun)
	attach = func(r *streamRun) {
		pd := r.def.ParentStream()
		if pd == nil || attached[r] {
			return
		}
		attached[r] = true
		p := e.byName[pd.Name]
		if p == nil {
			p = newRun(pd, airbyte.StreamDescriptor{Name: pd.Name}, false, cfg.pageSize)
			p.resume, _ = parseStreamState(nil, nil)
			e.byName[pd.Name] = p
			e.runs = append(e.runs, p)
		}
		p.children = append(p.children, r)
		attach(p)
	}
	for _, r := range slices.Clone(e.runs) {
		if !r.resume.skipAll {
			attach(r)
		}
	}

	c, err := readClient(cfg, out, s.tune)
	if err != nil {
		return err
	}
	e.c = c
	out.SetFigures(requestFigures(c, time.Now()))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	e.cancel = cancel
	out.Log(airbyte.LogInfo, "source-clockify read: %s; %d stream(s)", cfg, len(cat.Streams))
	err = e.run(ctx)
	st := c.Stats()
	out.Log(airbyte.LogInfo, "clockify requests: %d (retries %d, 429s %d, 5xx %d, network errors %d, bad bodies %d); final rate %.1f/s",
		st.Requests, st.Retries, st.Throttled, st.ServerErrors, st.NetworkErrors, st.BadBodies, st.Rate)
	return err
}

func newRun(d *streams.Stream, desc airbyte.StreamDescriptor, emit bool, pageSize int) *streamRun {
	r := &streamRun{def: d, desc: desc, emit: emit, completed: map[string]bool{},
		cursors: map[string]string{}, cursorTimes: map[string]time.Time{}}
	r.pageSize.Store(int64(min(pageSize, max(d.Paging.Max, 1))))
	return r
}
