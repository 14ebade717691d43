package web

import (
	"context"
	"net/http"

	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/presenter"
	"github.com/tenantops/onboard/views"
)

// Dashboards reads a workspace's dashboard: one query, the same reader as the workspace's
// live topic (livesource.Dashboards), so the page and its pushed fragment never disagree.
type Dashboards interface {
	Dashboard(ctx context.Context, workspaceID int64) (onboarding.Dashboard, error)
}

// handleDashboardShow is GET /admin/workspaces/{ws}: the workspace's landing page, its
// dashboard, live through the workspace topic.
func (s *Server) handleDashboardShow(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	if s.deps.Dashboards == nil {
		http.Redirect(w, r, "/admin/workspaces/"+m.Workspace+"/onboarding", http.StatusSeeOther)
		return
	}
	d, err := s.deps.Dashboards.Dashboard(r.Context(), m.WorkspaceID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	nav := s.navFor(r)
	nav.Section = "dashboard"
	s.render(w, r, http.StatusOK, views.DashboardPage(nav, presenter.DashboardView(d, m.Caps())))
}
