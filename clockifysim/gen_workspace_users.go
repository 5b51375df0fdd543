package clockifysim

import (
	"fmt"
	"strings"
)

var _ = register("workspace_users", &generator{
	build: func(s *Server, w *workspace) { s.member(w, "") },
	records: func(s *Server, w *workspace, _ map[string]string) (recordSet, *apiError) {
		return memberSet{list: s.members(w)}, nil
	},
	// status defaults to ACTIVE (inactive members hidden); memberships=WORKSPACE|ALL fills
	// memberships[], otherwise it is [].
	filter: func(s *Server, w *workspace, set recordSet, req *request) (recordSet, *apiError) {
		q := req.query
		status, err := oneOf(q, "status", "ACTIVE", "PENDING", "ACTIVE", "DECLINED", "INACTIVE", "ALL")
		if err != nil {
			return nil, err
		}
		mem, err := oneOf(q, "memberships", "NONE", "ALL", "NONE", "WORKSPACE", "PROJECT", "USERGROUP")
		if err != nil {
			return nil, err
		}
		out := memberSet{withMemberships: mem == "ALL" || mem == "WORKSPACE"}
		for _, u := range set.(memberSet).list {
			switch {
			case status == "ALL", status == "ACTIVE" && !u.inactive, status == "INACTIVE" && u.inactive:
				out.list = append(out.list, u)
			}
		}
		return out, nil
	},
})

// member is a person in one workspace. Users[0] of every workspace is the key owner, the same
// person (and id) everywhere.
type member struct {
	idx      int
	id       string
	name     string
	email    string
	inactive bool

	n       int   // generated (lazy) completed time entries
	first   int64 // start of generated entry 0
	spacing int64
	maxDur  int64

	// explicit entries follow the generated ones in time (running timer, AddTimeEntries); guarded
	// by Server.mu.
	explicit []explicitEntry

	rec, recMem []byte // without / with the workspace membership
}

func (u *member) genStart(i int) int64 { return u.first + int64(i)*u.spacing }

type memberSet struct {
	list            []*member
	withMemberships bool
}

func (m memberSet) Len() int        { return len(m.list) }
func (m memberSet) ID(i int) string { return m.list[i].id }
func (m memberSet) Append(dst []byte, i int) []byte {
	if m.withMemberships {
		return append(dst, m.list[i].recMem...)
	}
	return append(dst, m.list[i].rec...)
}

var timeZones = []string{"Europe/Belgrade", "America/Denver", "Asia/Tokyo", "UTC", "Europe/London", "Australia/Sydney"}

type userSettingsJSON struct {
	WeekStart           string `json:"weekStart"`
	TimeZone            string `json:"timeZone"`
	TimeFormat          string `json:"timeFormat"`
	DateFormat          string `json:"dateFormat"`
	MyStartOfDay        string `json:"myStartOfDay"`
	ProjectListCollapse int    `json:"projectListCollapse"`
	Lang                string `json:"lang"`
	Theme               string `json:"theme"`
}

type userJSON struct {
	ID               string            `json:"id"`
	Email            string            `json:"email"`
	Name             *string           `json:"name"`
	Status           string            `json:"status"`
	ProfilePicture   string            `json:"profilePicture"`
	ActiveWorkspace  string            `json:"activeWorkspace"`
	DefaultWorkspace string            `json:"defaultWorkspace"`
	Memberships      []membershipJSON  `json:"memberships"`
	CustomFields     []any             `json:"customFields"`
	Settings         *userSettingsJSON `json:"settings"`
}

type membersKey struct{}

// members are the workspace's members in configuration order, with their records.
func (s *Server) members(w *workspace) []*member {
	return memo(w, membersKey{}, func() []*member {
		seed := s.seed
		ownerID := s.ownerID()
		// Ids of members other than the owner are numbered across workspaces.
		next := uint32(1)
		for _, prev := range s.cfg.Workspaces[:w.idx] {
			next += uint32(len(prev.Users) - 1)
		}
		var list []*member
		for ui, us := range w.spec.Users {
			u := &member{idx: ui, inactive: us.Inactive, n: us.TimeEntries}
			if ui == 0 {
				u.id = ownerID
			} else {
				u.id = oid(s.mask, kindUser, 0, next, createdBase+int64(next)*3600)
				next++
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
			list = append(list, u)
		}
		for _, u := range list {
			h := hash(seed, uint64(kindUser), uint64(w.idx), uint64(u.idx), 0)
			var settings *userSettingsJSON
			if !u.inactive || h%2 == 0 {
				tz := pick(timeZones, h>>8)
				if u.id == ownerID {
					tz = s.cfg.OwnerTimeZone
				}
				settings = &userSettingsJSON{WeekStart: "MONDAY", TimeZone: tz, TimeFormat: "HOUR24",
					DateFormat: "DD/MM/YYYY", MyStartOfDay: "09:00", ProjectListCollapse: 50, Lang: "EN", Theme: "DEFAULT"}
			}
			uj := userJSON{ID: u.id, Email: u.email, Name: strp(u.name), Status: "ACTIVE",
				ProfilePicture: "https://img.clockify.me/no-user-image.png", ActiveWorkspace: w.id, DefaultWorkspace: w.id,
				Memberships: []membershipJSON{}, CustomFields: []any{}, Settings: settings}
			if settings == nil {
				uj.Status = "NOT_REGISTERED"
			}
			u.rec = mustJSON(uj)
			uj.Memberships = []membershipJSON{s.membership(w, u)}
			u.recMem = mustJSON(uj)
		}
		return list
	})
}

func (s *Server) ownerID() string { return oid(s.mask, kindUser, 0, 0, createdBase) }

type memberIndexKey struct{}

// member returns the workspace's member with this id, or nil.
func (s *Server) member(w *workspace, id string) *member {
	byID := memo(w, memberIndexKey{}, func() map[string]*member {
		m := map[string]*member{}
		for _, u := range s.members(w) {
			m[u.id] = u
		}
		return m
	})
	return byID[id]
}

func (s *Server) membership(w *workspace, u *member) membershipJSON {
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
