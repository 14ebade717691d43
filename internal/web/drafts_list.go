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

// handleDraftsList is GET /api/v1/workspaces/{ws}/onboarding/drafts.
func (s *Server) handleDraftsList(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	rows, err := s.deps.Drafts.DraftRows(r.Context(), m.WorkspaceID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	out := make([]map[string]any, 0, len(rows))
	for _, d := range rows {
		out = append(out, map[string]any{
			"id": d.ID, "workspace": d.Workspace, "version": d.Version, "lifecycle_state": d.Lifecycle,
			"current_checkpoint": d.Checkpoint, "tenant_id": d.TenantID, "display_name": d.DisplayName,
			"primary_domain": d.PrimaryDomain, "updated_by": d.UpdatedBy, "updated_at": d.UpdatedAt,
		})
	}
	writeJSON(w, http.StatusOK, out)
}
