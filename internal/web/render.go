package web

import (
	"net/http"

	"github.com/a-h/templ"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/live"
	"github.com/tenantops/onboard/internal/presenter"
	"github.com/tenantops/onboard/views"
)

// render writes a full page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := c.Render(r.Context(), w); err != nil {
		s.log.ErrorContext(r.Context(), "render page", "path", r.URL.Path, "err", err)
	}
}

// navFor builds the page chrome for the request's user and workspace.
func (s *Server) navFor(r *http.Request) views.Nav {
	var nav views.Nav
	u, ok := userFrom(r.Context())
	if !ok {
		return nav
	}
	nav.UserEmail = u.Email
	if m, ok := memberFrom(r.Context()); ok {
		nav.Workspace, nav.WSName, nav.CanAudit = m.Workspace, m.WorkspaceName, m.Can(access.AuditView)
		nav.CanMembers = m.Can(access.MembersManage)
	}
	nav.Bell = views.BellData{Topic: live.UserTopic(u.ID)}
	if s.deps.Notifications != nil {
		if b, err := s.deps.Notifications.Bell(r.Context(), u.ID); err == nil {
			nav.Bell = presenter.BellView(b)
		}
	}
	if ms, err := s.deps.Accounts.Memberships(r.Context(), u); err == nil {
		for _, m := range ms {
			nav.Workspaces = append(nav.Workspaces, views.WorkspaceLink{Slug: m.Workspace, Name: m.WorkspaceName, Role: string(m.Role)})
		}
	}
	return nav
}
