package clockifysim

import (
	"fmt"
	"strings"
)

const (
	// anchorTS (2026-01-01T00:00:00Z) is when every user's generated time entries end; generation must
	// not depend on the wall clock, so it is fixed.
	anchorTS = 1767225600
	// createdBase (2019-03-01) is the timestamp part of ids of entities other than time entries.
	createdBase = 1551398400
	// spanSeconds is how far back a user's generated entries reach when they are few (3 years).
	spanSeconds = 3 * 365 * 86400
)

// item is one pre-encoded record plus the attributes the filters need.
type item struct {
	id       string
	json     []byte
	archived bool
	status   string // task, approval, invoice, custom-field status; user membership status
	userID   string // expenses
}

type explicitEntry struct {
	start, end int64 // end < 0 ⇒ running
}

type wsUser struct {
	idx      int
	id       string
	name     string
	email    string
	inactive bool

	n       int   // generated (lazy) completed entries
	first   int64 // start of generated entry 0
	spacing int64
	maxDur  int64

	// explicit entries follow the generated ones in time (running timer, AddTimeEntries); guarded by
	// Server.mu.
	explicit []explicitEntry

	rec, recMem []byte // without / with the workspace membership
}

func (u *wsUser) genStart(i int) int64 { return u.first + int64(i)*u.spacing }

type approvalMeta struct{ userID, start, updatedAt string }

type teField struct {
	id, name string
	values   []string
}

type workspace struct {
	idx        int
	id         string
	name       string
	plan       Plan
	features   map[string]bool
	rec        []byte
	users      []*wsUser
	userByID   map[string]*wsUser
	projects   []item
	projByID   map[string]int
	tasks      [][]item
	tagIDs     []string
	field      *teField // the TIMEENTRY custom field whose values time entries carry, if any
	groups     []item
	clients    []item
	tags       []item
	expenses   []item
	categories []item
	invoices   []item
	approvals  []item
	// approvalMeta holds the sort keys of approvals (same index).
	approvalMeta []approvalMeta
	holidays     []item
	fields       []item
	policies     []item
}

var (
	words = []string{"Standup", "Code review", "Planning", "Client call", "Design", "Bug fixing", "Research",
		"Documentation", "Testing", "Deployment", "Support", "Interview", "Retro", "Workshop", "Emails",
		"Onboarding", "Refactoring", "Sprint demo", "Budget review", "Travel"}
	colors     = []string{"#FF5722", "#03A9F4", "#8BC34A", "#9C27B0", "#FFC107", "#607D8B", "#E91E63", "#009688"}
	cities     = []string{"Berlin", "London", "New York", "Belgrade", "Tokyo", "Lagos"}
	tagNames   = []string{"urgent", "internal", "meeting", "billable-review", "overtime", "remote", "onsite", "R&D"}
	categNames = []string{"Travel", "Meals", "Hardware", "Software", "Training", "Lodging", "Mileage", "Office"}
	timeZones  = []string{"Europe/Belgrade", "America/Denver", "Asia/Tokyo", "UTC", "Europe/London", "Australia/Sydney"}
)

func pick(list []string, h uint64) string { return list[h%uint64(len(list))] }

func (s *Server) build() error {
	seed := s.seed
	ownerID := oid(s.mask, kindUser, 0, 0, createdBase)
	nextUser := uint32(1)
	for wi := range s.cfg.Workspaces {
		spec := &s.cfg.Workspaces[wi]
		w := &workspace{idx: wi, name: spec.Name, plan: spec.Plan, features: map[string]bool{},
			userByID: map[string]*wsUser{}, projByID: map[string]int{}}
		if w.name == "" {
			w.name = fmt.Sprintf("Workspace %d", wi+1)
		}
		for _, f := range spec.Plan.Features() {
			w.features[f] = true
		}
		ow := uint32(wi)
		wsTS := int64(createdBase + wi*86400)
		w.id = oid(s.mask, kindWorkspace, 0, uint32(wi), wsTS)
		ws := w.id

		// users
		for ui, us := range spec.Users {
			u := &wsUser{idx: ui, inactive: us.Inactive, n: us.TimeEntries}
			if ui == 0 {
				u.id = ownerID
			} else {
				u.id = oid(s.mask, kindUser, 0, nextUser, createdBase+int64(nextUser)*3600)
				nextUser++
			}
			u.name = us.Name
			if u.name == "" {
				u.name = fmt.Sprintf("User %d", ui+1)
			}
			u.email = strings.ToLower(strings.ReplaceAll(u.name, " ", ".")) + fmt.Sprintf(".%s@example.com", u.id[18:])
			if ui == 0 {
				u.email = "owner@example.com"
			}
			if u.n > 0 {
				sp := int64(spanSeconds / u.n)
				sp = max(60, min(sp, 3*86400))
				u.spacing = sp
				u.first = anchorTS - int64(u.n)*sp + int64(ui%8)*7
				u.maxDur = min(sp*3/4, 8*3600)
			}
			if us.Running {
				u.explicit = append(u.explicit, explicitEntry{start: anchorTS + 3600 + int64(ui)*60, end: -1})
			}
			w.users = append(w.users, u)
			w.userByID[u.id] = u
		}
		memberships := make([]membershipJSON, 0, len(w.users))
		for _, u := range w.users {
			memberships = append(memberships, s.membership(w, u))
		}
		for _, u := range w.users {
			h := hash(seed, uint64(kindUser), uint64(wi), uint64(u.idx), 0)
			var settings *userSettingsJSON
			if !u.inactive || h%2 == 0 {
				tz := pick(timeZones, h>>8)
				if u.id == ownerID {
					tz = s.cfg.OwnerTimeZone
				}
				settings = &userSettingsJSON{WeekStart: "MONDAY", TimeZone: tz, TimeFormat: "HOUR24",
					DateFormat: "DD/MM/YYYY", MyStartOfDay: "09:00", ProjectListCollapse: 50, Lang: "EN", Theme: "DEFAULT"}
			}
			name := strp(u.name)
			uj := userJSON{ID: u.id, Email: u.email, Name: name, Status: "ACTIVE",
				ProfilePicture: "https://img.clockify.me/no-user-image.png", ActiveWorkspace: ws, DefaultWorkspace: ws,
				Memberships: []membershipJSON{}, CustomFields: []any{}, Settings: settings}
			if settings == nil {
				uj.Status = "NOT_REGISTERED"
			}
			u.rec = mustJSON(uj)
			uj.Memberships = []membershipJSON{s.membership(w, u)}
			u.recMem = mustJSON(uj)
		}

		// workspace record
		currencyID := oid(s.mask, kindCurrency, 0, uint32(wi), wsTS)
		w.rec = mustJSON(workspaceJSON{ID: ws, Name: w.name,
			HourlyRate: rateJSON{Amount: 2000 + int64(wi)*500, Currency: "USD"}, CostRate: rateJSON{Amount: 0, Currency: "USD"},
			Memberships: memberships,
			WorkspaceSettings: workspaceSettingsJSON{DefaultBillableProjects: true, ProjectFavorites: true, CanSeeTimeSheet: true,
				CanSeeTracker: true, TrackTimeDownToSecond: true, ProjectGroupingLabel: "client", AdminOnlyPages: []string{},
				TimeTrackingMode: "DEFAULT", IsProjectPublicByDefault: true, DurationFormat: "FULL", NumberFormat: "COMMA_PERIOD",
				CurrencyFormat: "CURRENCY_SPACE_VALUE"},
			ImageURL: "", FeatureSubscriptionType: spec.Plan.SubscriptionType(), Features: spec.Plan.Features(),
			Currencies: []currencyJSON{{ID: currencyID, Code: "USD", IsDefault: true}},
			Subdomain:  subdomainJSON{}, CakeOrganizationID: oid(s.mask, kindOrganization, 0, uint32(wi), wsTS)})

		// clients
		nClients := spec.Clients + spec.ArchivedClients
		clientNames := make([]string, nClients)
		clientIDs := make([]string, nClients)
		for i := 0; i < nClients; i++ {
			h := hash(seed, uint64(kindClient), uint64(wi), uint64(i), 0)
			id := oid(s.mask, kindClient, ow, uint32(i), createdBase+int64(i)*5003)
			name := fmt.Sprintf("Client %s %d", pick(cities, h), i+1)
			clientNames[i], clientIDs[i] = name, id
			var email *string
			if h%3 != 0 {
				email = strp(fmt.Sprintf("billing%d@client%d.example.com", i+1, i+1))
			}
			archived := i >= spec.Clients
			w.clients = append(w.clients, item{id: id, archived: archived, json: mustJSON(clientJSON{ID: id, Name: name,
				WorkspaceID: ws, Archived: archived, Address: pick(cities, h>>8), Email: email, Note: "",
				CCEmails: []string{}, CurrencyID: currencyID, CurrencyCode: "USD"})})
		}

		// tags
		for i := 0; i < spec.Tags+spec.ArchivedTags; i++ {
			id := oid(s.mask, kindTag, ow, uint32(i), createdBase+int64(i)*4001)
			archived := i >= spec.Tags
			name := fmt.Sprintf("%s-%d", pick(tagNames, uint64(i)), i+1)
			w.tags = append(w.tags, item{id: id, archived: archived, json: mustJSON(tagJSON{ID: id, Name: name, WorkspaceID: ws, Archived: archived})})
			w.tagIDs = append(w.tagIDs, id)
		}

		// groups
		for i := 0; i < spec.Groups; i++ {
			id := oid(s.mask, kindGroup, ow, uint32(i), createdBase+int64(i)*6007)
			uids := []string{}
			for _, u := range w.users {
				if hash(seed, uint64(kindGroup), uint64(wi), uint64(i), uint64(u.idx))%2 == 0 {
					uids = append(uids, u.id)
				}
			}
			tm := []userRefJSON{}
			if i == 0 {
				tm = append(tm, userRefJSON{ID: ownerID, Name: w.users[0].name})
			}
			w.groups = append(w.groups, item{id: id, json: mustJSON(groupJSON{ID: id, Name: fmt.Sprintf("Team %d", i+1),
				WorkspaceID: ws, UserIDs: uids, TeamManagers: tm})})
		}

		// projects and tasks
		for pi, ps := range spec.Projects {
			h := hash(seed, uint64(kindProject), uint64(wi), uint64(pi), 0)
			id := oid(s.mask, kindProject, ow, uint32(pi), createdBase+int64(pi)*7001)
			p := projectJSON{ID: id, Name: fmt.Sprintf("%s project %d", pick(words, h), pi+1), WorkspaceID: ws,
				Color: pick(colors, h>>8), Archived: ps.Archived, Billable: h>>16%2 == 0, Public: true, Note: "",
				Duration: "PT0S", HourlyRate: &rateJSON{Amount: int64(h>>20%100) * 100, Currency: "USD"},
				Estimate:     estimateJSON{Estimate: "PT0S", Type: "AUTO"},
				TimeEstimate: timeEstimateJSON{Estimate: "PT0S", Type: "AUTO", IncludeNonBillable: true},
				Memberships:  []membershipJSON{}}
			if nClients > 0 && h>>24%4 != 0 {
				c := int(h >> 28 % uint64(nClients))
				p.ClientID, p.ClientName = clientIDs[c], clientNames[c]
			}
			if h>>32%3 == 0 {
				p.BudgetEstimate = &budgetEstimateJSON{Estimate: int64(h>>36%1000) * 60000, Type: "MANUAL",
					ResetOption: strp("MONTHLY"), Active: true, IncludeExpenses: false}
			}
			w.projByID[id] = pi
			w.projects = append(w.projects, item{id: id, archived: ps.Archived, json: mustJSON(p)})
			var tasks []item
			owner := ow<<16 | uint32(pi)
			for ti := 0; ti < ps.Tasks; ti++ {
				th := hash(seed, uint64(kindTask), uint64(owner), uint64(ti), 0)
				tid := oid(s.mask, kindTask, owner, uint32(ti), createdBase+int64(pi)*7001+int64(ti)*61)
				status := "ACTIVE"
				if ti < ps.DoneTask {
					status = "DONE"
				}
				var assignees []string
				assignee := ""
				if th%3 == 0 {
					u := w.users[int(th>>8%uint64(len(w.users)))]
					assignees, assignee = []string{u.id}, u.id
				} else {
					assignees = []string{}
				}
				var cost *rateJSON
				if th>>16%4 == 0 {
					cost = &rateJSON{Amount: int64(th>>20%50) * 100, Currency: "USD"}
				}
				tasks = append(tasks, item{id: tid, status: status, json: mustJSON(taskJSON{ID: tid,
					Name: fmt.Sprintf("%s task %d", pick(words, th>>24), ti+1), ProjectID: id, AssigneeID: assignee,
					AssigneeIDs: assignees, UserGroupIDs: []string{}, Estimate: "PT0S", Duration: "PT0S", Status: status,
					Billable: th>>28%2 == 0, BudgetEstimate: 0,
					HourlyRate: &rateJSON{Amount: int64(th>>32%300) * 100, Currency: "USD"}, CostRate: cost})})
			}
			w.tasks = append(w.tasks, tasks)
		}

		gated := func(f string) bool { return !w.features[f] }

		// custom fields
		if !gated(FeatureCustomFields) {
			entityTypes := []string{"TIMEENTRY", "PROJECT", "USER"}
			for i := 0; i < spec.CustomFields; i++ {
				id := oid(s.mask, kindCustomField, ow, uint32(i), createdBase+int64(i)*3001)
				cf := customFieldJSON{ID: id, WorkspaceID: ws, EntityType: entityTypes[i%3], Description: "",
					Status: "VISIBLE", AllowedValues: []string{}, ProjectDefaultValues: []projectDefaultValueJSON{}}
				if i%5 == 4 {
					cf.Status = "INACTIVE"
				}
				switch i % 4 {
				case 0:
					cf.Name, cf.Type, cf.Placeholder = "Location", "DROPDOWN_SINGLE", "Location"
					cf.AllowedValues = cities
					cf.WorkspaceDefaultValue = cities[0]
					if len(w.projects) > 0 {
						cf.ProjectDefaultValues = []projectDefaultValueJSON{{ProjectID: w.projects[0].id, Status: "VISIBLE", Value: cities[1]}}
					}
				case 1:
					cf.Name, cf.Type, cf.Placeholder = "Cost center", "NUMBER", "0"
					cf.WorkspaceDefaultValue = 0
				case 2:
					cf.Name, cf.Type, cf.Placeholder = "Reviewed", "CHECKBOX", ""
					cf.WorkspaceDefaultValue = false
				case 3:
					cf.Name, cf.Type, cf.Placeholder = "Ticket", "LINK", "https://"
				}
				cf.Name = fmt.Sprintf("%s %d", cf.Name, i+1)
				if i == 0 {
					w.field = &teField{id: id, name: cf.Name, values: cities}
				}
				w.fields = append(w.fields, item{id: id, status: cf.Status, json: mustJSON(cf)})
			}
		}

		// expense categories and expenses
		if !gated(FeatureExpenses) {
			nCat := spec.ExpenseCategories + spec.ArchivedExpenseCategories
			refs := make([]expenseCategoryRefJSON, nCat)
			for i := 0; i < nCat; i++ {
				id := oid(s.mask, kindCategory, ow, uint32(i), createdBase+int64(i)*2003)
				archived := i >= spec.ExpenseCategories
				c := categoryJSON{ID: id, WorkspaceID: ws, Name: fmt.Sprintf("%s %d", pick(categNames, uint64(i)), i+1),
					Unit: "piece", PriceInCents: int64(i+1) * 1000, HasUnitPrice: i%2 == 0, Archived: archived}
				refs[i] = expenseCategoryRefJSON{ID: id, Name: c.Name, Unit: c.Unit, PriceInCents: c.PriceInCents,
					HasUnitPrice: c.HasUnitPrice, Archived: archived, WorkspaceID: ws}
				w.categories = append(w.categories, item{id: id, archived: archived, json: mustJSON(c)})
			}
			for i := 0; i < spec.Expenses && nCat > 0; i++ {
				h := hash(seed, uint64(kindExpense), uint64(wi), uint64(i), 0)
				ts := int64(anchorTS - (spec.Expenses-i)*86400/4)
				id := oid(s.mask, kindExpense, ow, uint32(i), ts)
				u := w.users[int(h%uint64(len(w.users)))]
				e := expenseJSON{ID: id, WorkspaceID: ws, UserID: u.id, Date: date(ts), Category: refs[int(h>>8%uint64(nCat))],
					Notes: pick(words, h>>16), Quantity: float64(h>>20%5 + 1), Billable: h>>24%2 == 0, Locked: h>>25%8 == 0}
				e.Total = e.Quantity*float64(e.Category.PriceInCents) + float64(h>>28%100)/2
				if len(w.projects) > 0 && h>>32%3 != 0 {
					pi := int(h >> 36 % uint64(len(w.projects)))
					var pj projectJSON
					mustUnmarshal(w.projects[pi].json, &pj)
					e.Project = &expenseProjectRefJSON{ID: pj.ID, Name: pj.Name, ClientID: pj.ClientID, ClientName: pj.ClientName, Color: pj.Color}
					if ts := w.tasks[pi]; len(ts) > 0 && h>>44%2 == 0 {
						var tj taskJSON
						mustUnmarshal(ts[int(h>>46%uint64(len(ts)))].json, &tj)
						e.Task = &expenseTaskRefJSON{ID: tj.ID, Name: tj.Name}
					}
				}
				if h>>50%4 == 0 {
					e.FileID, e.FileName = strp(oid(s.mask, kindExpense, ow|0x800000, uint32(i), ts)), strp("receipt.pdf")
				} else if h>>50%4 == 1 {
					e.FileID = strp("")
				}
				w.expenses = append(w.expenses, item{id: id, userID: u.id, json: mustJSON(e)})
			}
		}

		// invoices
		if !gated(FeatureInvoicing) {
			statuses := []string{"UNSENT", "SENT", "PAID", "PARTIALLY_PAID", "VOID", "OVERDUE"}
			for i := 0; i < spec.Invoices; i++ {
				h := hash(seed, uint64(kindInvoice), uint64(wi), uint64(i), 0)
				ts := int64(anchorTS - (spec.Invoices-i)*86400*3)
				id := oid(s.mask, kindInvoice, ow, uint32(i), ts)
				inv := invoiceJSON{ID: id, Number: fmt.Sprintf("INV-%d-%05d", wi+1, i+1), Currency: "USD",
					IssuedDate: instant(ts), DueDate: instant(ts + 30*86400), Amount: int64(h%100000+100) * 100,
					Status: statuses[i%len(statuses)]}
				if nClients > 0 {
					c := int(h >> 20 % uint64(nClients))
					inv.ClientID, inv.ClientName = clientIDs[c], clientNames[c]
				}
				switch inv.Status {
				case "PAID":
					inv.Paid = inv.Amount
				case "PARTIALLY_PAID":
					inv.Paid = inv.Amount / 2
				}
				inv.Balance = inv.Amount - inv.Paid
				w.invoices = append(w.invoices, item{id: id, status: inv.Status, json: mustJSON(inv)})
			}
		}

		// approval requests
		if !gated(FeatureApproval) {
			states := []string{"PENDING", "APPROVED", "WITHDRAWN_APPROVAL", "APPROVED", "REJECTED", "WITHDRAWN_SUBMISSION"}
			owner := w.users[0]
			for i := 0; i < spec.ApprovalRequests; i++ {
				h := hash(seed, uint64(kindApproval), uint64(wi), uint64(i), 0)
				week := int64(anchorTS - (spec.ApprovalRequests-i)*7*86400)
				id := oid(s.mask, kindApproval, ow, uint32(i), week+9*86400)
				u := w.users[int(h%uint64(len(w.users)))]
				tracked := int64(h>>8%40+1) * 3600
				state := states[i%len(states)]
				approved := int64(0)
				if state == "APPROVED" {
					approved = tracked
				}
				pending := int64(0)
				if state == "PENDING" {
					pending = tracked
				}
				a := approvalWrapperJSON{ApprovalRequest: approvalRequestJSON{ID: id, WorkspaceID: ws,
					DateRange: dateRangeJSON{Start: instant(week), End: instant(week + 7*86400 - 1)},
					Owner:     approvalOwnerJSON{UserID: u.id, UserName: u.name, TimeZone: "Europe/Belgrade", StartOfWeek: "MONDAY"},
					Status: approvalStatusJSON{State: state, UpdatedBy: owner.id, UpdatedByUserName: owner.name,
						UpdatedAt: instant(week + 9*86400 + int64(h>>16%86400)), Note: strp("")},
					Creator: approvalCreatorJSON{UserID: u.id, UserName: u.name, UserEmail: u.email}},
					ApprovedTime: isoDuration(approved), PendingTime: isoDuration(pending), TrackedTime: isoDuration(tracked),
					BillableTime: isoDuration(tracked * 4 / 5), BreakTime: "PT0S",
					BillableAmount: float64(tracked/3600) * 25, CostAmount: float64(tracked/3600) * 10, ExpenseTotal: 0,
					Entries: []any{}, Expenses: []any{}}
				w.approvals = append(w.approvals, item{id: id, status: state, json: mustJSON(a)})
				w.approvalMeta = append(w.approvalMeta, approvalMeta{userID: u.id, start: a.ApprovalRequest.DateRange.Start, updatedAt: a.ApprovalRequest.Status.UpdatedAt})
			}
		}

		// holidays and policies
		if !gated(FeatureTimeOff) {
			hol := []string{"New Year's Day", "Labour Day", "Independence Day", "Christmas Day", "Boxing Day", "Company retreat"}
			for i := 0; i < spec.Holidays; i++ {
				ts := int64(anchorTS + i*29*86400)
				id := oid(s.mask, kindHoliday, ow, uint32(i), createdBase+int64(i)*1009)
				uids := []string{}
				for _, u := range w.users {
					if !u.inactive {
						uids = append(uids, u.id)
					}
				}
				w.holidays = append(w.holidays, item{id: id, json: mustJSON(holidayJSON{ID: id, WorkspaceID: ws,
					Name: fmt.Sprintf("%s %d", pick(hol, uint64(i)), i+1), DatePeriod: datePeriodJSON{StartDate: date(ts), EndDate: date(ts + int64(i%2)*86400)},
					OccursAnnually: i%3 == 0, EveryoneIncludingNew: i%2 == 0, UserIDs: uids, UserGroupIDs: []string{}})})
			}
			icons := []string{"UMBRELLA", "SICK", "BABY", "HOME", "PLANE"}
			for i := 0; i < spec.Policies+spec.ArchivedPolicies; i++ {
				h := hash(seed, uint64(kindPolicy), uint64(wi), uint64(i), 0)
				id := oid(s.mask, kindPolicy, ow, uint32(i), createdBase+int64(i)*997)
				archived := i >= spec.Policies
				p := policyJSON{ID: id, WorkspaceID: ws, Name: fmt.Sprintf("Policy %d", i+1), TimeUnit: "DAYS",
					AllowHalfDay: h%2 == 0, AllowNegativeBalance: h>>1%2 == 0, Archived: archived,
					Approve:                    policyApproveJSON{RequiresApproval: true, TeamManagers: true, UserIDs: []string{}},
					AutomaticTimeEntryCreation: autoTimeEntryJSON{},
					EveryoneIncludingNew:       h>>2%2 == 0, UserIDs: []string{}, UserGroupIDs: []string{},
					Color: pick(colors, h>>8), Icon: pick(icons, h>>12)}
				if h>>16%2 == 0 {
					p.TimeUnit = "HOURS"
				}
				if h>>17%2 == 0 {
					p.AutomaticAccrual = &accrualJSON{Amount: 1.5, Period: "MONTH", TimeUnit: p.TimeUnit}
				}
				if p.AllowNegativeBalance {
					p.NegativeBalance = &negativeBalanceJSON{Amount: 3, Period: "YEAR", TimeUnit: p.TimeUnit, ShouldReset: true}
				}
				st := "ACTIVE"
				if archived {
					st = "ARCHIVED"
				}
				w.policies = append(w.policies, item{id: id, archived: archived, status: st, json: mustJSON(p)})
			}
		}
		s.ws = append(s.ws, w)
		s.wsByID[w.id] = w
	}
	return nil
}

func (s *Server) membership(w *workspace, u *wsUser) membershipJSON {
	st := "ACTIVE"
	if u.inactive {
		st = "INACTIVE"
	}
	var rate *rateJSON
	if h := hash(s.seed, uint64(kindUser), uint64(w.idx), uint64(u.idx), 1); h%3 != 0 {
		rate = &rateJSON{Amount: int64(h>>8%100+10) * 100, Currency: "USD"}
	}
	return membershipJSON{UserID: u.id, HourlyRate: rate, CostRate: nil, TargetID: w.id, MembershipType: "WORKSPACE", MembershipStatus: st}
}
