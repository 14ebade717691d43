package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/tenantops/onboard/internal/onboarding"
)

// handleAPIRunsList is GET /api/v1/workspaces/{ws}/operation-runs?draft=&type=&status=.
func (s *Server) handleAPIRunsList(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	f, err := runsFilter(queryOf(r))
	if err != nil {
		s.error(w, r, err)
		return
	}
	if f.DraftID != "" {
		// The draft must be one of this workspace: an id of another workspace is 404, as
		// everywhere, not an empty list.
		if _, err := s.deps.Service.Get(r.Context(), m, f.DraftID); err != nil {
			s.error(w, r, err)
			return
		}
	}
	runs, err := s.deps.Service.WorkspaceRuns(r.Context(), m, f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toRunsJSON(runs))
}

// handleAPIRunShow is GET /api/v1/workspaces/{ws}/operation-runs/{run_id}.
func (s *Server) handleAPIRunShow(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	run, err := s.deps.Service.Run(r.Context(), m, chi.URLParam(r, "run_id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toRunJSON(run))
}

// runsFilter reads the API's run filters: status and type of their vocabulary (else 400),
// draft a draft id; anything else there (or of nothing, or not an id at all) is the 404 of a
// draft of another workspace.
func runsFilter(q *query) (onboarding.RunFilter, error) {
	f := onboarding.RunFilter{Limit: 200,
		Status: q.word("status", validRunStatus, runStatusDetail),
		Type:   q.word("type", validRunType, runTypeDetail)}
	if err := q.Err(); err != nil {
		return f, err
	}
	if f.DraftID = q.get("draft"); f.DraftID != "" && !onboarding.IsGUID(f.DraftID) {
		return f, errNotFound
	}
	return f, nil
}
