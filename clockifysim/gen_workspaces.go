package clockifysim

var _ = register("workspaces", &generator{
	build: func(s *Server, w *workspace) { s.workspaceRecord(w) },
	records: func(s *Server, _ *workspace, _ map[string]string) (recordSet, *apiError) {
		items := make([]item, len(s.ws))
		for i, w := range s.ws {
			items[i] = item{id: w.id, json: s.workspaceRecord(w)}
		}
		return all(items), nil
	},
})

type workspaceSettingsJSON struct {
	TimeRoundingInReports       bool     `json:"timeRoundingInReports"`
	OnlyAdminsSeeBillableRates  bool     `json:"onlyAdminsSeeBillableRates"`
	OnlyAdminsCreateProject     bool     `json:"onlyAdminsCreateProject"`
	OnlyAdminsSeeDashboard      bool     `json:"onlyAdminsSeeDashboard"`
	DefaultBillableProjects     bool     `json:"defaultBillableProjects"`
	LockTimeEntries             *string  `json:"lockTimeEntries"`
	Round                       any      `json:"round"`
	ProjectFavorites            bool     `json:"projectFavorites"`
	CanSeeTimeSheet             bool     `json:"canSeeTimeSheet"`
	CanSeeTracker               bool     `json:"canSeeTracker"`
	ProjectPickerSpecialFilter  bool     `json:"projectPickerSpecialFilter"`
	ForceProjects               bool     `json:"forceProjects"`
	ForceTasks                  bool     `json:"forceTasks"`
	ForceTags                   bool     `json:"forceTags"`
	ForceDescription            bool     `json:"forceDescription"`
	OnlyAdminsSeeAllTimeEntries bool     `json:"onlyAdminsSeeAllTimeEntries"`
	OnlyAdminsSeePublicProjects bool     `json:"onlyAdminsSeePublicProjectsEntries"`
	TrackTimeDownToSecond       bool     `json:"trackTimeDownToSecond"`
	ProjectGroupingLabel        string   `json:"projectGroupingLabel"`
	AdminOnlyPages              []string `json:"adminOnlyPages"`
	AutomaticLock               any      `json:"automaticLock"`
	OnlyAdminsCreateTag         bool     `json:"onlyAdminsCreateTag"`
	OnlyAdminsCreateTask        bool     `json:"onlyAdminsCreateTask"`
	TimeTrackingMode            string   `json:"timeTrackingMode"`
	IsProjectPublicByDefault    bool     `json:"isProjectPublicByDefault"`
	MultiFactorEnabled          bool     `json:"multiFactorEnabled"`
	DurationFormat              string   `json:"durationFormat"`
	NumberFormat                string   `json:"numberFormat"`
	CurrencyFormat              string   `json:"currencyFormat"`
}

type currencyJSON struct {
	ID        string `json:"id"`
	Code      string `json:"code"`
	IsDefault bool   `json:"isDefault"`
}

type subdomainJSON struct {
	Enabled bool    `json:"enabled"`
	Name    *string `json:"name"`
}

type workspaceJSON struct {
	ID                      string                `json:"id"`
	Name                    string                `json:"name"`
	HourlyRate              rateJSON              `json:"hourlyRate"`
	CostRate                rateJSON              `json:"costRate"`
	Memberships             []membershipJSON      `json:"memberships"`
	WorkspaceSettings       workspaceSettingsJSON `json:"workspaceSettings"`
	ImageURL                string                `json:"imageUrl"`
	FeatureSubscriptionType string                `json:"featureSubscriptionType"`
	Features                []string              `json:"features"`
	Currencies              []currencyJSON        `json:"currencies"`
	Subdomain               subdomainJSON         `json:"subdomain"`
	CakeOrganizationID      string                `json:"cakeOrganizationId"`
}

type workspaceRecordKey struct{}

// workspaceRecord is the workspace's own record, as its list and its single route send it.
func (s *Server) workspaceRecord(w *workspace) []byte {
	return memo(w, workspaceRecordKey{}, func() []byte {
		ms := s.members(w)
		memberships := make([]membershipJSON, 0, len(ms))
		for _, u := range ms {
			memberships = append(memberships, s.membership(w, u))
		}
		return mustJSON(workspaceJSON{ID: w.id, Name: w.name,
			HourlyRate: rateJSON{Amount: 2000 + int64(w.idx)*500, Currency: "USD"}, CostRate: rateJSON{Amount: 0, Currency: "USD"},
			Memberships: memberships,
			WorkspaceSettings: workspaceSettingsJSON{DefaultBillableProjects: true, ProjectFavorites: true, CanSeeTimeSheet: true,
				CanSeeTracker: true, TrackTimeDownToSecond: true, ProjectGroupingLabel: "client", AdminOnlyPages: []string{},
				TimeTrackingMode: "DEFAULT", IsProjectPublicByDefault: true, DurationFormat: "FULL", NumberFormat: "COMMA_PERIOD",
				CurrencyFormat: "CURRENCY_SPACE_VALUE"},
			ImageURL: "", FeatureSubscriptionType: w.plan.SubscriptionType(), Features: w.plan.Features(),
			Currencies: []currencyJSON{{ID: s.currencyID(w), Code: "USD", IsDefault: true}},
			Subdomain:  subdomainJSON{}, CakeOrganizationID: oid(s.mask, kindOrganization, 0, uint32(w.idx), w.created())})
	})
}

func (s *Server) currencyID(w *workspace) string {
	return oid(s.mask, kindCurrency, 0, uint32(w.idx), w.created())
}
