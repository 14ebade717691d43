package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/operation"
	"github.com/tenantops/onboard/internal/presenter"
	"github.com/tenantops/onboard/views"
)

// operationsList is the operations list's shape: by start (newest first), type or status;
// paged by keyset (runs are added all the time).
func operationsList(ws string) listSpec {
	return listSpec{name: "runs", noun: "runs", path: "/admin/workspaces/" + ws + "/operations",
		sorts: map[string]sortSpec{"started": {desc: true, kind: cursorTime}, "type": {kind: cursorText},
			"status": {kind: cursorText}},
		defaultSort: "started", idKind: cursorGUID,
		searchLabel: "Search runs", searchHint: "Operation, person or tenant"}
}

// handleOperationsList is GET /admin/workspaces/{ws}/operations?type=&status=&outcome=&draft=
// (or tenant=, a tenant's name as the combobox sends it)&q=&since=24h (the dashboard's window): the workspace's runs, sorted
// (sort=started|type|status, dir=), in numbered and keyset pages; format=csv exports them.
// Every filter is checked against the vocabulary; an unknown value is a 400 page rather than
// a silently empty list.
func (s *Server) handleOperationsList(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	spec := operationsList(m.Workspace)
	q := queryOf(r)
	p, f, tenantName, err := operationsFilter(q, r, spec)
	if err != nil {
		s.error(w, r, err)
		return
	}
	rows, err := s.listDraftRows(r.Context(), m.WorkspaceID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	tenants := map[string]string{}
	d := views.OperationsData{Workspace: m.Workspace, Filter: f}
	for _, row := range rows {
		label := presenter.FirstNonEmpty(row.DisplayName, row.TenantID)
		tenants[row.ID] = label
		d.Drafts = append(d.Drafts, views.DraftOption{ID: row.ID, Label: label})
		if tenantName != "" && d.Filter.Draft == "" && strings.EqualFold(label, tenantName) {
			d.Filter.Draft = row.ID
		}
	}
	if tenantName != "" && d.Filter.Draft == "" {
		s.error(w, r, badRequest("tenant must be the name of one of this workspace's tenants."))
		return
	}
	if _, ok := tenants[d.Filter.Draft]; d.Filter.Draft != "" && !ok {
		s.error(w, r, badRequest(operationsDraftDetail))
		return
	}
	f = d.Filter
	d.TenantName = tenants[f.Draft]
	rf := onboarding.RunPageFilter{Type: f.Type, Status: f.Status, Outcome: f.Outcome, DraftID: f.Draft, Q: p.Q, Sort: p.Sort,
		ListPage: onboarding.ListPage{Desc: p.Desc}}
	if f.Since != "" {
		rf.CreatedAfter = time.Now().Add(-onboarding.DashboardWindow)
	}
	if q.get("format") == "csv" {
		s.operationsCSV(w, r, m, rf, tenants)
		return
	}
	s.rememberPerPage(w, spec, p)
	// The topic and the clock first: a run created meanwhile is then announced, not missed.
	// RenderedMs is a little early (clock skew between processes): a run the page lists is
	// never announced, and one it does not list but that is this old is at worst announced.
	digest, err := s.deps.Drafts.RunsDigest(r.Context(), m.WorkspaceID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	d.Digest, d.RenderedMs = presenter.RunsDigestView(digest), time.Now().Add(-2*time.Second).UnixMilli()
	total, err := s.deps.Drafts.RunCount(r.Context(), m.WorkspaceID, rf)
	if err != nil {
		s.error(w, r, err)
		return
	}
	page, err := fetchPage(&p, func(lp onboarding.ListPage) ([]operation.Run, error) {
		rf.ListPage = lp
		return s.deps.Drafts.RunPage(r.Context(), m.WorkspaceID, rf)
	})
	if err != nil {
		s.error(w, r, err)
		return
	}
	keep := url.Values{}
	for k, v := range map[string]string{"type": f.Type, "status": f.Status, "outcome": f.Outcome, "draft": f.Draft, "since": f.Since} {
		if v != "" {
			keep.Set(k, v)
		}
	}
	var first, last onboarding.Cursor
	if n := len(page.rows); n > 0 {
		first, last = runCursor(p.Sort, page.rows[0]), runCursor(p.Sort, page.rows[n-1])
	}
	d.List = listMeta(spec, p, keep, total, len(page.rows), page.hasPrev, page.hasNext, first, last)
	for _, c := range []struct{ key, label string }{{"type", "Type: " + views.RunTypeText(f.Type)},
		{"status", "Status: " + views.RunBadge(f.Status, "").Label}, {"outcome", "Outcome: " + views.RunBadge("completed", f.Outcome).Label},
		{"draft", "Tenant: " + d.TenantName}, {"since", "Created in the last 24 hours"}, {"q", "Search: " + quoted(p.Q)}} {
		if keep.Get(c.key) != "" || c.key == "q" && p.Q != "" {
			addChip(&d.List, c.label, c.key)
		}
	}
	d.List.CSVURL = csvURL(d.List)
	d.Runs = presenter.OperationRows(page.rows, tenants)
	nav := s.navFor(r)
	nav.Section = "operations"
	s.render(w, r, http.StatusOK, views.OperationsPage(nav, d))
}

// runCursor is a run's position in the list sorted by sort.
func runCursor(sort string, run operation.Run) onboarding.Cursor {
	c := onboarding.Cursor{ID: run.ID}
	switch sort {
	case "type":
		c.Value = string(run.Type)
	case "status":
		c.Value = string(run.Status)
	default:
		c.Value = run.CreatedAt.UTC().Format(time.RFC3339Nano)
	}
	return c
}

// operationsCSV exports the runs the filters select, in the list's order, at most csvLimit.
func (s *Server) operationsCSV(w http.ResponseWriter, r *http.Request, m access.Member, f onboarding.RunPageFilter, tenants map[string]string) {
	f.ListPage = onboarding.ListPage{Desc: f.Desc, Limit: csvLimit}
	runs, err := s.deps.Drafts.RunPage(r.Context(), m.WorkspaceID, f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	at := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	rows := make([][]string, 0, len(runs))
	for _, run := range runs {
		rows = append(rows, []string{run.ID, string(run.Type), string(run.Status), string(run.Outcome), tenants[run.DraftID],
			run.TenantID, run.DraftID, presenter.FirstNonEmpty(run.InitiatorEmail, "system"), at(run.CreatedAt), at(run.StartedAt), at(run.CompletedAt)})
	}
	writeCSV(w, "operations", m.Workspace, []string{"id", "type", "status", "outcome", "tenant", "tenant_id", "draft_id",
		"initiator", "created_at", "started_at", "completed_at"}, rows)
}

const operationsDraftDetail = "draft must be the id of one of this workspace's onboarding drafts."

// operationsFilter reads the operations list's filters: each one of its vocabulary, and an
// outcome only with the completed status; anything else is a 400. tenant is a tenant's name
// (the combobox), resolved to its draft by the caller.
func operationsFilter(q *query, r *http.Request, spec listSpec) (listParams, views.OperationsFilter, string, error) {
	p := readList(q, r, spec)
	f := views.OperationsFilter{
		Type:    q.word("type", validRunType, runTypeDetail),
		Status:  q.word("status", validRunStatus, runStatusDetail),
		Outcome: q.word("outcome", validOutcome, "outcome must be succeeded, partially_succeeded, failed or cancelled."),
		Draft:   q.guid("draft", operationsDraftDetail),
		Since:   q.word("since", oneOf(presenter.DashboardSince), "since must be 24h (runs created in the last 24 hours) or absent."),
	}
	tenant := q.text("tenant", 4*onboarding.MaxDisplayNameRunes, "tenant must be a tenant's name.")
	if f.Outcome != "" && f.Status != "" && f.Status != string(operation.StatusCompleted) {
		q.fail("Only completed runs have an outcome: filter on status completed or leave it empty.")
	}
	if v := q.get("format"); v != "" && v != "csv" {
		q.fail("format must be csv.")
	}
	return p, f, tenant, q.Err()
}

// The run filters the operations list and the API share.
const (
	runTypeDetail   = "type must be verify_access or bootstrap.<operation>."
	runStatusDetail = "status must be queued, running or completed."
)

func validRunType(v string) bool {
	_, err := operation.ParseType(v)
	return err == nil
}

func validRunStatus(v string) bool {
	_, err := operation.ParseStatus(v)
	return err == nil
}

// validOutcome: a completed run's outcome (not OutcomeNone, the outcome of a run not yet done).
func validOutcome(v string) bool {
	o, err := operation.ParseOutcome(v)
	return err == nil && o != operation.OutcomeNone
}
