// Package clockifysim is a seeded, deterministic simulator of the Clockify REST API v1: every stream
// of the source's registry (package streams), plus GET /workspaces/{ws}. It knows the ground truth a
// complete sync must return and the minimum number of requests a perfect client needs, both derived
// from the registry, and misbehaves on purpose (rate limits, plan gating, chaos) so clients can be
// tested against it.
//
//	sim := clockifysim.New(clockifysim.Acceptance())   // an http.Handler
//	ts := httptest.NewServer(sim)                       // requests go to ts.URL + "/api/v1/..."
//	sim.GroundTruth(); sim.MinimumRequests(5000); sim.Stats(); sim.AddTimeEntries(ws, user, 3)
//
// The routes are the registry's paths as http.ServeMux patterns; paging, envelopes, plan gating
// and parent lookups are generic. The only stream-specific code is one generator per stream
// (gen_<stream>.go): the stream's records and its query filters.
//
// Time entries are never materialised: entry i of a user is computed from (seed, workspace, user, i),
// start times are evenly spaced, so any page and any start/end window is served by index arithmetic
// (a million entries cost no memory; serving runs at about a million entries per second).
//
// Admin routes (no auth, not counted in Stats): GET /_sim/truth[?ids=1], GET /_sim/stats,
// POST /_sim/reset-stats, GET /_sim/minimum-requests?page-size=N, GET /_sim/info, and the time
// entries' POST /_sim/time-entries?workspace=W&user=U&count=N.
//
// Choices where Clockify's documentation marks the real behaviour unconfirmed or says nothing:
//   - Approval requests without status return every request whatever its state (PENDING, APPROVED,
//     WITHDRAWN_APPROVAL, REJECTED, WITHDRAWN_SUBMISSION); status filters to one of the three listable
//     states. Default order is by dateRange.start ascending; sort-column (ID, USER_ID, START,
//     UPDATED_AT) and sort-order (default DESCENDING when a column is given) are honoured.
//   - Time-off policies default to status=ACTIVE; ARCHIVED and ALL as named. page > 1000 is a 400.
//   - Workspace users default to status=ACTIVE (INACTIVE members hidden); memberships=WORKSPACE|ALL
//     fills memberships[], otherwise it is [].
//   - Time-entry start is inclusive and end exclusive, both on timeInterval.start; a fractional second
//     rounds up. in-progress=true keeps only running entries, false only completed ones; hydrated is
//     accepted and ignored. Config.AccountTimeZone reads start/end as wall clock in the key owner's
//     zone, ignoring Z/offsets.
//   - Scheduling assignments require start and end and list an assignment whose period overlaps
//     them; the plan feature is SCHEDULING (Pro and above).
//   - Time-off requests are read with POST and a JSON body (page ≤ 1000, pageSize ≤ 200, statuses,
//     users, start/end on createdAt; userGroups accepted, not applied); the answer is
//     {count, requests}, newest first.
//   - A workspace the key is not a member of answers 403 {"message":"Access Denied","code":3000};
//     plan-gated routes answer PlanGateStatus (403 or 402) with code 3000.
//   - page below the route's first page is a 400/3000 (Clockify says never send it). Errors name the
//     parameter.
//   - Expense and category count and invoice total are the number of matching rows over all pages.
//   - X-Addon-Token is accepted when it equals the API key, else 401/4017.
//   - Every authenticated request costs a rate-limit token, including ones answered 4xx; requests that
//     fail authentication do not. Chaos acts after authentication and rate limiting.
//   - A truncated answer announces the full Content-Length and closes the connection half-way.
//   - GroundTruth lists one id per record: the key owner is a member of every workspace and appears once
//     per workspace among the workspace's members.
package clockifysim
