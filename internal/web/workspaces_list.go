package web

import (
	"net/http"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/views"
)

// handleWorkspacesList is GET /admin: the operator's workspaces and the drafts of each.
func (s *Server) handleWorkspacesList(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	ms, err := s.deps.Accounts.Memberships(r.Context(), u)
	if err != nil {
		s.error(w, r, err)
		return
	}
	nav := s.navFor(r) // the same chrome as every page: the user's live bell included
	var list []views.WorkspaceSummary
	for _, m := range ms {
		sum := views.WorkspaceSummary{Slug: m.Workspace, Name: m.WorkspaceName, Role: string(m.Role)}
		if m.Can(access.View) && s.deps.Drafts != nil {
			if sum.Drafts, err = s.listDraftRows(r.Context(), m.WorkspaceID); err != nil {
				s.error(w, r, err)
				return
			}
		}
		list = append(list, sum)
	}
	s.render(w, r, http.StatusOK, views.Workspaces(nav, list))
}
