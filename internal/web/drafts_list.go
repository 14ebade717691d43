package web

import (
	"net/http"

	"github.com/tenantops/onboard/internal/access"

	"github.com/tenantops/onboard/views"
)

// handleDraftsPage is GET /admin/workspaces/{ws}/onboarding.
func (s *Server) handleDraftsPage(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	rows, err := s.deps.Drafts.DraftRows(r.Context(), m.WorkspaceID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	nav := s.navFor(r)
	nav.Section = "onboarding"
	s.render(w, r, http.StatusOK, views.DraftsPage(nav, views.DraftsPageData{Workspace: m.Workspace, Rows: rows, CanCreate: m.Can(access.DraftCreate)}))
}
