package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/operation"
)

// handleAPIRunsList is GET /api/v1/workspaces/{ws}/operation-runs?draft=&type=&status=.
func (s *Server) handleAPIRunsList(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	q := r.URL.Query()
	f := onboarding.RunFilter{DraftID: q.Get("draft"), Type: q.Get("type"), Status: q.Get("status"), Limit: 200}
	if f.Status != "" {
		if _, err := operation.ParseStatus(f.Status); err != nil {
			s.error(w, r, badRequest("status must be queued, running or completed."))
			return
		}
	}
	if f.Type != "" {
		if _, err := operation.ParseType(f.Type); err != nil {
			s.error(w, r, badRequest("type must be verify_access or bootstrap.<operation>."))
			return
		}
	}
	if f.DraftID != "" {
		// The draft must be one of this workspace: an id of another workspace (or of nothing,
		// or not an id at all) is 404, as everywhere, not an empty list.
		if !onboarding.IsGUID(f.DraftID) {
			s.error(w, r, errNotFound)
			return
		}
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
