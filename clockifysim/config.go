package clockifysim

import (
	"fmt"
	"time"

	"github.com/clockberg/clockberg/source/streams"
)

// Plan is a workspace subscription tier. It decides featureSubscriptionType, features[] and which
// routes are gated.
type Plan string

const (
	PlanFree       Plan = "FREE"
	PlanStandard   Plan = "STANDARD"
	PlanPro        Plan = "PRO"
	PlanEnterprise Plan = "ENTERPRISE"
)

// tier is the plan's place in Clockify's order.
func (p Plan) tier() streams.Plan {
	switch p {
	case PlanStandard:
		return streams.Standard
	case PlanPro:
		return streams.Pro
	case PlanEnterprise:
		return streams.Enterprise
	default:
		return streams.Free
	}
}

// Features returns the features[] a workspace on this plan advertises: those of every stream
// the registry gates at this plan or below. Gating follows this list.
func (p Plan) Features() []string { return streams.Features(p.tier()) }

// SubscriptionType is the featureSubscriptionType value of a workspace on this plan.
func (p Plan) SubscriptionType() string {
	switch p {
	case PlanStandard:
		return "STANDARD_2021"
	case PlanPro:
		return "PRO_2021"
	case PlanEnterprise:
		return "ENTERPRISE_2021"
	default:
		return "FREE"
	}
}

// UserSpec describes one member of a workspace. Users[0] of every workspace is the key owner (the
// same person, hence the same user id, in every workspace).
type UserSpec struct {
	Name        string
	Inactive    bool // membership INACTIVE: hidden from /users unless status=ALL or INACTIVE
	TimeEntries int  // completed entries, generated lazily
	Running     bool // one extra running entry (end and duration null), newest of the user
}

// ProjectSpec describes one project and how many tasks it has.
type ProjectSpec struct {
	Archived bool
	Tasks    int
	DoneTask int // how many of Tasks are DONE (the rest ACTIVE)
}

// WorkspaceSpec describes one workspace the key can see.
type WorkspaceSpec struct {
	Name     string
	Plan     Plan
	Users    []UserSpec
	Projects []ProjectSpec

	Groups, Clients, ArchivedClients, Tags, ArchivedTags int
	// The following only matter when the plan allows the stream; otherwise the route is gated.
	ExpenseCategories, ArchivedExpenseCategories, Expenses int
	Invoices, ApprovalRequests, Holidays, CustomFields     int
	Policies, ArchivedPolicies                             int
}

// Chaos configures seeded random faults on /api/v1 requests. The zero value is off.
type Chaos struct {
	Seed        int64         // 0 ⇒ Config.Seed
	Error5xx    float64       // probability of a 500/502/503 answer
	Truncate    float64       // probability of a connection closed mid-body (short Content-Length)
	Slow        float64       // probability of an extra delay of SlowDelay
	SlowDelay   time.Duration // default 2s
	Burst429    float64       // probability that a burst of Burst429Len 429 answers starts
	Burst429Len int           // default 5
}

// Enabled reports whether any fault has a non-zero probability.
func (c Chaos) Enabled() bool {
	return c.Error5xx > 0 || c.Truncate > 0 || c.Slow > 0 || c.Burst429 > 0
}

// Config is everything the simulator serves. The zero value of every knob is the realistic default.
type Config struct {
	Seed       int64
	APIKey     string // the one valid key; default DefaultAPIKey
	Workspaces []WorkspaceSpec

	RateLimit float64       // requests per second per key; 0 = off
	Burst     int           // bucket size; default max(1, ceil(RateLimit))
	Latency   time.Duration // added to every /api/v1 request

	PlanGateStatus   int  // 403 (default) or 402
	EmptyTooManyBody bool // 429 with an empty body instead of {"message":"Too many requests","code":429}
	RetryAfter       bool // send Retry-After: 1 on 429 (the real server does not)
	// AccountTimeZone makes time-entry start/end filters keep the wall clock of the given value and
	// read it in the key owner's settings.timeZone, ignoring Z/offsets (the observed server quirk).
	AccountTimeZone bool
	// OwnerTimeZone is the key owner's settings.timeZone; default "Europe/Belgrade".
	OwnerTimeZone string

	Chaos Chaos
}

// DefaultAPIKey is the key accepted when Config.APIKey is empty. It is a fixed demo value, not a secret.
const DefaultAPIKey = "sim-key-0000000000000000000000000000000000000000"

func (c *Config) normalize() error {
	if c.APIKey == "" {
		c.APIKey = DefaultAPIKey
	}
	if c.PlanGateStatus == 0 {
		c.PlanGateStatus = 403
	}
	if c.PlanGateStatus != 402 && c.PlanGateStatus != 403 {
		return fmt.Errorf("clockifysim: PlanGateStatus must be 402 or 403, got %d", c.PlanGateStatus)
	}
	if c.RateLimit < 0 {
		return fmt.Errorf("clockifysim: RateLimit must be >= 0, got %v", c.RateLimit)
	}
	if c.Burst <= 0 {
		c.Burst = int(c.RateLimit + 0.999999)
		if c.Burst < 1 {
			c.Burst = 1
		}
	}
	if c.OwnerTimeZone == "" {
		c.OwnerTimeZone = "Europe/Belgrade"
	}
	if _, err := time.LoadLocation(c.OwnerTimeZone); err != nil {
		return fmt.Errorf("clockifysim: OwnerTimeZone %q: %w", c.OwnerTimeZone, err)
	}
	if c.Chaos.Seed == 0 {
		c.Chaos.Seed = c.Seed
	}
	if c.Chaos.SlowDelay <= 0 {
		c.Chaos.SlowDelay = 2 * time.Second
	}
	if c.Chaos.Burst429Len <= 0 {
		c.Chaos.Burst429Len = 5
	}
	if len(c.Workspaces) == 0 {
		return fmt.Errorf("clockifysim: Config has no workspaces")
	}
	if len(c.Workspaces) > 255 {
		return fmt.Errorf("clockifysim: at most 255 workspaces, got %d", len(c.Workspaces))
	}
	for i := range c.Workspaces {
		w := &c.Workspaces[i]
		if w.Plan == "" {
			w.Plan = PlanFree
		}
		switch w.Plan {
		case PlanFree, PlanStandard, PlanPro, PlanEnterprise:
		default:
			return fmt.Errorf("clockifysim: workspace %d: unknown plan %q", i, w.Plan)
		}
		if len(w.Users) == 0 {
			return fmt.Errorf("clockifysim: workspace %d has no users (Users[0] is the key owner)", i)
		}
		if w.Users[0].Inactive {
			return fmt.Errorf("clockifysim: workspace %d: the key owner (Users[0]) cannot be inactive", i)
		}
		if len(w.Users) > 65535 || len(w.Projects) > 65535 {
			return fmt.Errorf("clockifysim: workspace %d: at most 65535 users and projects", i)
		}
		if w.CustomFields > 50 {
			return fmt.Errorf("clockifysim: workspace %d: at most 50 custom fields, got %d", i, w.CustomFields)
		}
		for j, p := range w.Projects {
			if p.DoneTask > p.Tasks {
				return fmt.Errorf("clockifysim: workspace %d project %d: DoneTask %d > Tasks %d", i, j, p.DoneTask, p.Tasks)
			}
		}
	}
	return nil
}

// Demo is small and quick (a few thousand records); every stream is non-empty in some workspace.
func Demo() Config {
	return Config{
		Seed: 1,
		Workspaces: []WorkspaceSpec{
			{
				Name: "Demo Free", Plan: PlanFree,
				Users: []UserSpec{
					{Name: "Owner", TimeEntries: 120},
					{Name: "Ana", TimeEntries: 80, Running: true},
					{Name: "Ben", Inactive: true, TimeEntries: 15},
				},
				Projects: []ProjectSpec{{Tasks: 4, DoneTask: 1}, {Tasks: 2}, {Archived: true, Tasks: 3}},
				Groups:   2, Clients: 3, ArchivedClients: 1, Tags: 4, ArchivedTags: 1,
			},
			{
				Name: "Demo Enterprise", Plan: PlanEnterprise,
				Users: []UserSpec{
					{Name: "Owner", TimeEntries: 300, Running: true},
					{Name: "Cleo", TimeEntries: 250},
					{Name: "Dan", TimeEntries: 60},
					{Name: "Eve", Inactive: true, TimeEntries: 40},
				},
				Projects: []ProjectSpec{{Tasks: 60, DoneTask: 10}, {Tasks: 5}, {Archived: true, Tasks: 7, DoneTask: 7}, {}},
				Groups:   3, Clients: 5, ArchivedClients: 2, Tags: 8, ArchivedTags: 2,
				ExpenseCategories: 4, ArchivedExpenseCategories: 1, Expenses: 70,
				Invoices: 25, ApprovalRequests: 12, Holidays: 6, CustomFields: 3,
				Policies: 5, ArchivedPolicies: 2,
			},
		},
	}
}

// Acceptance is the preset of the acceptance tests: a FREE and an ENTERPRISE workspace, a user with
// more than 10,000 time entries, one with exactly 5,000, a project with more than 5,000 tasks, more than
// 200 time-off policies, an inactive member with entries, and one running timer.
func Acceptance() Config {
	return Config{
		Seed: 20260101,
		Workspaces: []WorkspaceSpec{
			{
				Name: "Acme Free", Plan: PlanFree,
				Users: []UserSpec{
					{Name: "Owner", TimeEntries: 740},
					{Name: "Milo", TimeEntries: 5000},
					{Name: "Nia", TimeEntries: 310},
					{Name: "Otto", Inactive: true, TimeEntries: 95},
				},
				Projects: []ProjectSpec{{Tasks: 12, DoneTask: 2}, {Tasks: 50}, {Archived: true, Tasks: 9}},
				Groups:   4, Clients: 6, ArchivedClients: 2, Tags: 12, ArchivedTags: 3,
			},
			{
				Name: "Acme Enterprise", Plan: PlanEnterprise,
				Users: []UserSpec{
					{Name: "Owner", TimeEntries: 1200, Running: true},
					{Name: "Pia", TimeEntries: 10437},
					{Name: "Quin", TimeEntries: 2500},
					{Name: "Rhea", TimeEntries: 0},
					{Name: "Sven", Inactive: true, TimeEntries: 420},
				},
				Projects: []ProjectSpec{
					{Tasks: 5123, DoneTask: 400}, {Tasks: 40, DoneTask: 5}, {Tasks: 0},
					{Archived: true, Tasks: 75, DoneTask: 75}, {Tasks: 3},
				},
				Groups: 5, Clients: 9, ArchivedClients: 3, Tags: 25, ArchivedTags: 5,
				ExpenseCategories: 7, ArchivedExpenseCategories: 2, Expenses: 1234,
				Invoices: 160, ApprovalRequests: 75, Holidays: 11, CustomFields: 6,
				Policies: 215, ArchivedPolicies: 20,
			},
		},
	}
}

// Scaled has about timeEntries time entries in total (over 10 users of one PRO workspace), for benchmarks.
// One user carries half of them, so a single partition is deep.
func Scaled(timeEntries int) Config {
	if timeEntries < 0 {
		timeEntries = 0
	}
	const users = 10
	big := timeEntries / 2
	rest := timeEntries - big
	us := make([]UserSpec, users)
	for i := range us {
		us[i] = UserSpec{Name: fmt.Sprintf("User %d", i+1), TimeEntries: rest / (users - 1)}
	}
	us[0].TimeEntries = big + rest - (rest/(users-1))*(users-1)
	us[1].Running = true
	us[users-1].Inactive = true
	return Config{
		Seed: 42,
		Workspaces: []WorkspaceSpec{{
			Name: "Scaled Pro", Plan: PlanPro, Users: us,
			Projects: []ProjectSpec{{Tasks: 20}, {Tasks: 10}, {Tasks: 5}, {Archived: true, Tasks: 2}},
			Groups:   2, Clients: 4, Tags: 10,
			ExpenseCategories: 3, Expenses: 100, Invoices: 20, ApprovalRequests: 10, Holidays: 5,
			CustomFields: 2, Policies: 4,
		}},
	}
}
