package clockifysim

import (
	"encoding/json"
	"fmt"
	"time"
)

// JSON shapes of clockify-api.md §6. Field order follows the examples; nullable fields are pointers or
// `any` without omitempty so that null is always sent explicitly.

type rateJSON struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

type membershipJSON struct {
	UserID           string    `json:"userId"`
	HourlyRate       *rateJSON `json:"hourlyRate"`
	CostRate         *rateJSON `json:"costRate"`
	TargetID         string    `json:"targetId"`
	MembershipType   string    `json:"membershipType"`
	MembershipStatus string    `json:"membershipStatus"`
}

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

type groupJSON struct {
	ID           string        `json:"id"`
	Name         string        `json:"name"`
	WorkspaceID  string        `json:"workspaceId"`
	UserIDs      []string      `json:"userIds"`
	TeamManagers []userRefJSON `json:"teamManagers"`
}

// userRefJSON is UserRedactedDtoV1, as in a group's teamManagers.
type userRefJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type estimateJSON struct {
	Estimate string `json:"estimate"`
	Type     string `json:"type"`
}

type timeEstimateJSON struct {
	Estimate           string  `json:"estimate"`
	Type               string  `json:"type"`
	ResetOption        *string `json:"resetOption"`
	Active             bool    `json:"active"`
	IncludeNonBillable bool    `json:"includeNonBillable"`
}

type budgetEstimateJSON struct {
	Estimate        int64   `json:"estimate"`
	Type            string  `json:"type"`
	ResetOption     *string `json:"resetOption"`
	Active          bool    `json:"active"`
	IncludeExpenses bool    `json:"includeExpenses"`
}

type projectJSON struct {
	ID             string              `json:"id"`
	Name           string              `json:"name"`
	ClientID       string              `json:"clientId"`
	ClientName     string              `json:"clientName"`
	WorkspaceID    string              `json:"workspaceId"`
	Color          string              `json:"color"`
	Archived       bool                `json:"archived"`
	Billable       bool                `json:"billable"`
	Public         bool                `json:"public"`
	Template       bool                `json:"template"`
	Note           string              `json:"note"`
	Duration       string              `json:"duration"`
	HourlyRate     *rateJSON           `json:"hourlyRate"`
	CostRate       *rateJSON           `json:"costRate"`
	Estimate       estimateJSON        `json:"estimate"`
	TimeEstimate   timeEstimateJSON    `json:"timeEstimate"`
	BudgetEstimate *budgetEstimateJSON `json:"budgetEstimate"`
	EstimateReset  any                 `json:"estimateReset"`
	Memberships    []membershipJSON    `json:"memberships"`
}

type clientJSON struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	WorkspaceID  string   `json:"workspaceId"`
	Archived     bool     `json:"archived"`
	Address      string   `json:"address"`
	Email        *string  `json:"email"`
	Note         string   `json:"note"`
	CCEmails     []string `json:"ccEmails"`
	CurrencyID   string   `json:"currencyId"`
	CurrencyCode string   `json:"currencyCode"`
}

type tagJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	WorkspaceID string `json:"workspaceId"`
	Archived    bool   `json:"archived"`
}

type taskJSON struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	ProjectID      string    `json:"projectId"`
	AssigneeID     string    `json:"assigneeId"`
	AssigneeIDs    []string  `json:"assigneeIds"`
	UserGroupIDs   []string  `json:"userGroupIds"`
	Estimate       string    `json:"estimate"`
	Duration       string    `json:"duration"`
	Status         string    `json:"status"`
	Billable       bool      `json:"billable"`
	BudgetEstimate int64     `json:"budgetEstimate"`
	HourlyRate     *rateJSON `json:"hourlyRate"`
	CostRate       *rateJSON `json:"costRate"`
}

type categoryJSON struct {
	ID           string  `json:"id"`
	WorkspaceID  string  `json:"workspaceId"`
	Name         string  `json:"name"`
	Unit         string  `json:"unit"`
	PriceInCents int64   `json:"priceInCents"`
	HasUnitPrice bool    `json:"hasUnitPrice"`
	Archived     bool    `json:"archived"`
	Status       *string `json:"status"`
}

type expenseCategoryRefJSON struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Unit         string `json:"unit"`
	PriceInCents int64  `json:"priceInCents"`
	HasUnitPrice bool   `json:"hasUnitPrice"`
	Archived     bool   `json:"archived"`
	WorkspaceID  string `json:"workspaceId"`
}

type expenseProjectRefJSON struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	ClientID   string `json:"clientId"`
	ClientName string `json:"clientName"`
	Color      string `json:"color"`
}

type expenseTaskRefJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type expenseJSON struct {
	ID          string                 `json:"id"`
	WorkspaceID string                 `json:"workspaceId"`
	UserID      string                 `json:"userId"`
	Date        string                 `json:"date"`
	Category    expenseCategoryRefJSON `json:"category"`
	Project     *expenseProjectRefJSON `json:"project"`
	Task        *expenseTaskRefJSON    `json:"task"`
	Notes       string                 `json:"notes"`
	Quantity    float64                `json:"quantity"`
	Total       float64                `json:"total"`
	Billable    bool                   `json:"billable"`
	Locked      bool                   `json:"locked"`
	FileID      *string                `json:"fileId"`
	FileName    *string                `json:"fileName"`
}

type invoiceJSON struct {
	ID         string `json:"id"`
	Number     string `json:"number"`
	ClientID   string `json:"clientId"`
	ClientName string `json:"clientName"`
	Currency   string `json:"currency"`
	IssuedDate string `json:"issuedDate"`
	DueDate    string `json:"dueDate"`
	Amount     int64  `json:"amount"`
	Balance    int64  `json:"balance"`
	Paid       int64  `json:"paid"`
	Status     string `json:"status"`
}

type dateRangeJSON struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type approvalOwnerJSON struct {
	UserID      string `json:"userId"`
	UserName    string `json:"userName"`
	TimeZone    string `json:"timeZone"`
	StartOfWeek string `json:"startOfWeek"`
}

type approvalStatusJSON struct {
	State             string  `json:"state"`
	UpdatedBy         string  `json:"updatedBy"`
	UpdatedByUserName string  `json:"updatedByUserName"`
	UpdatedAt         string  `json:"updatedAt"`
	Note              *string `json:"note"`
}

type approvalCreatorJSON struct {
	UserID    string `json:"userId"`
	UserName  string `json:"userName"`
	UserEmail string `json:"userEmail"`
}

type approvalRequestJSON struct {
	ID          string              `json:"id"`
	WorkspaceID string              `json:"workspaceId"`
	DateRange   dateRangeJSON       `json:"dateRange"`
	Owner       approvalOwnerJSON   `json:"owner"`
	Status      approvalStatusJSON  `json:"status"`
	Creator     approvalCreatorJSON `json:"creator"`
}

type approvalWrapperJSON struct {
	ApprovalRequest approvalRequestJSON `json:"approvalRequest"`
	ApprovedTime    string              `json:"approvedTime"`
	PendingTime     string              `json:"pendingTime"`
	TrackedTime     string              `json:"trackedTime"`
	BillableTime    string              `json:"billableTime"`
	BreakTime       string              `json:"breakTime"`
	BillableAmount  float64             `json:"billableAmount"`
	CostAmount      float64             `json:"costAmount"`
	ExpenseTotal    float64             `json:"expenseTotal"`
	Entries         []any               `json:"entries"`
	Expenses        []any               `json:"expenses"`
}

type datePeriodJSON struct {
	StartDate string `json:"startDate"`
	EndDate   string `json:"endDate"`
}

type holidayJSON struct {
	ID                         string         `json:"id"`
	WorkspaceID                string         `json:"workspaceId"`
	Name                       string         `json:"name"`
	DatePeriod                 datePeriodJSON `json:"datePeriod"`
	OccursAnnually             bool           `json:"occursAnnually"`
	EveryoneIncludingNew       bool           `json:"everyoneIncludingNew"`
	UserIDs                    []string       `json:"userIds"`
	UserGroupIDs               []string       `json:"userGroupIds"`
	AutomaticTimeEntryCreation bool           `json:"automaticTimeEntryCreation"`
	ProjectID                  *string        `json:"projectId"`
	TaskID                     *string        `json:"taskId"`
}

type projectDefaultValueJSON struct {
	ProjectID string `json:"projectId"`
	Status    string `json:"status"`
	Value     any    `json:"value"`
}

type customFieldJSON struct {
	ID                    string                    `json:"id"`
	WorkspaceID           string                    `json:"workspaceId"`
	Name                  string                    `json:"name"`
	Type                  string                    `json:"type"`
	EntityType            string                    `json:"entityType"`
	Description           string                    `json:"description"`
	Placeholder           string                    `json:"placeholder"`
	Status                string                    `json:"status"`
	Required              bool                      `json:"required"`
	OnlyAdminCanEdit      bool                      `json:"onlyAdminCanEdit"`
	AllowedValues         []string                  `json:"allowedValues"`
	WorkspaceDefaultValue any                       `json:"workspaceDefaultValue"`
	ProjectDefaultValues  []projectDefaultValueJSON `json:"projectDefaultValues"`
}

type policyApproveJSON struct {
	RequiresApproval bool     `json:"requiresApproval"`
	SpecificMembers  bool     `json:"specificMembers"`
	TeamManagers     bool     `json:"teamManagers"`
	UserIDs          []string `json:"userIds"`
}

type accrualJSON struct {
	Amount   float64 `json:"amount"`
	Period   string  `json:"period"`
	TimeUnit string  `json:"timeUnit"`
}

type defaultEntitiesJSON struct {
	ProjectID *string `json:"projectId"`
	TaskID    *string `json:"taskId"`
}

type autoTimeEntryJSON struct {
	Enabled         bool                `json:"enabled"`
	DefaultEntities defaultEntitiesJSON `json:"defaultEntities"`
}

type negativeBalanceJSON struct {
	Amount      float64 `json:"amount"`
	Period      string  `json:"period"`
	TimeUnit    string  `json:"timeUnit"`
	ShouldReset bool    `json:"shouldReset"`
}

type policyJSON struct {
	ID                         string               `json:"id"`
	WorkspaceID                string               `json:"workspaceId"`
	Name                       string               `json:"name"`
	TimeUnit                   string               `json:"timeUnit"`
	AllowHalfDay               bool                 `json:"allowHalfDay"`
	AllowNegativeBalance       bool                 `json:"allowNegativeBalance"`
	Archived                   bool                 `json:"archived"`
	Approve                    policyApproveJSON    `json:"approve"`
	AutomaticAccrual           *accrualJSON         `json:"automaticAccrual"`
	AutomaticTimeEntryCreation autoTimeEntryJSON    `json:"automaticTimeEntryCreation"`
	NegativeBalance            *negativeBalanceJSON `json:"negativeBalance"`
	EveryoneIncludingNew       bool                 `json:"everyoneIncludingNew"`
	UserIDs                    []string             `json:"userIds"`
	UserGroupIDs               []string             `json:"userGroupIds"`
	ProjectID                  *string              `json:"projectId"`
	Color                      string               `json:"color"`
	Icon                       string               `json:"icon"`
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("clockifysim: encoding %T: %v", v, err))
	}
	return b
}

func strp(s string) *string { return &s }

const (
	instantLayout = "2006-01-02T15:04:05Z"
	dateLayout    = "2006-01-02"
)

func instant(ts int64) string { return time.Unix(ts, 0).UTC().Format(instantLayout) }
func date(ts int64) string    { return time.Unix(ts, 0).UTC().Format(dateLayout) }
