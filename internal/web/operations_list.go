package web

import (
	"net/http"
	"time"

	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/operation"
	"github.com/tenantops/onboard/internal/presenter"
	"github.com/tenantops/onboard/views"
)

// handleOperationsList is GET /admin/workspaces/{ws}/operations?type=&status=&outcome=&draft=&since=:
// the workspace's runs, newest first. Every filter is checked against the vocabulary; an
// unknown value is a 400 page rather than a silently empty list.
func (s *Server) handleOperationsList(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	f, err := operationsFilter(queryOf(r))
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
	}
	if f.Draft != "" {
		if _, ok := tenants[f.Draft]; !ok {
			s.error(w, r, badRequest(operationsDraftDetail))
			return
		}
	}
	// The topic and the clock first: a run created meanwhile is then announced, not missed.
	// RenderedMs is a little early (clock skew between processes): a run the page lists is
	// never announced, and one it does not list but that is this old is at worst announced.
	digest, err := s.deps.Drafts.RunsDigest(r.Context(), m.WorkspaceID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	d.Digest, d.RenderedMs = presenter.RunsDigestView(digest), time.Now().Add(-2*time.Second).UnixMilli()
	rf := onboarding.RunFilter{Type: f.Type, Status: f.Status, DraftID: f.Draft}
	if f.Since != "" {
		rf.CreatedAfter = time.Now().Add(-onboarding.DashboardWindow)
	}
	if f.Outcome != "" {
		// The store filters by status; the outcome is filtered here, over the most runs
		// a page lists.
		rf.Status, rf.Limit = string(operation.StatusCompleted), onboarding.MaxRunLimit
	}
	runs, err := s.deps.Service.WorkspaceRuns(r.Context(), m, rf)
	if err != nil {
		s.error(w, r, err)
		return
	}
	d.Runs = presenter.OperationRows(runs, f.Outcome, tenants)
	nav := s.navFor(r)
	nav.Section = "operations"
	s.render(w, r, http.StatusOK, views.OperationsPage(nav, d))
}

const operationsDraftDetail = "draft must be the id of one of this workspace's onboarding drafts."

// operationsFilter reads the operations list's filters: each one of its vocabulary, and an
// outcome only with the completed status; anything else is a 400.
func operationsFilter(q *query) (views.OperationsFilter, error) {
	f := views.OperationsFilter{
		Type:    q.word("type", validRunType, runTypeDetail),
		Status:  q.word("status", validRunStatus, runStatusDetail),
		Outcome: q.word("outcome", validOutcome, "outcome must be succeeded, partially_succeeded, failed or cancelled."),
		Draft:   q.word("draft", onboarding.IsGUID, operationsDraftDetail),
		Since:   q.word("since", oneOf(presenter.DashboardSince), "since must be 24h (runs created in the last 24 hours) or absent."),
	}
	if f.Outcome != "" && f.Status != "" && f.Status != string(operation.StatusCompleted) {
		q.fail("Only completed runs have an outcome: filter on status completed or leave it empty.")
	}
	return f, q.Err()
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
