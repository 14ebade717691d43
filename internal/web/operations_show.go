package web

import (
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/presenter"
	"github.com/tenantops/onboard/views"
)

// handleOperationShow is GET /admin/workspaces/{ws}/operations/{run_id}: one run's detail;
// with ?fragment=1 the run panel alone (the poll fallback of view "run:<id>"), tagged with
// its rev.
func (s *Server) handleOperationShow(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	run, err := s.deps.Service.Run(r.Context(), m, chi.URLParam(r, "run_id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	var panel views.RunPanelData
	var retry views.RetryView
	if run.DraftID != "" {
		sn, err := s.memberSnapshot(r.Context(), m, run.DraftID)
		if err != nil && !errors.Is(err, fault.ErrNotFound) {
			s.error(w, r, err)
			return
		}
		panel = presenter.RunPanelView(sn.Snapshot, run)
		if err == nil {
			retry = retryView(m, sn, run)
		}
	} else {
		panel = presenter.RunPanelView(onboarding.Snapshot{Draft: onboarding.Draft{Workspace: m.Workspace}}, run)
	}
	panel.Workspace = m.Workspace
	if queryOf(r).get("fragment") == "1" {
		s.writeFragment(w, r, fragmentTag(panel.Rev, "all"), views.RunPanel(panel))
		return
	}
	nav := s.navFor(r)
	nav.Section = "operations"
	s.render(w, r, http.StatusOK, views.RunPage(nav, views.RunData{Panel: panel, Retry: retry, Toasts: s.popToasts(r)}))
}
