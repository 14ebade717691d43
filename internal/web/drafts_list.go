package web

import (
	"context"
	"net/http"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/views"
)

// handleDraftsPage is GET /admin/workspaces/{ws}/onboarding?lifecycle=: the drafts, filtered
// by lifecycle state, with the number of drafts per state and the start form when capable.
func (s *Server) handleDraftsPage(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	lifecycle := r.URL.Query().Get("lifecycle")
	if lifecycle != "" {
		if _, err := onboarding.ParseLifecycle(lifecycle); err != nil {
			s.error(w, r, badRequest("lifecycle must be one of draft, verifying, action_required, bootstrapping, ready_for_activation, completed, cancelled."))
			return
		}
	}
	d, err := s.draftsPageData(r.Context(), m, lifecycle)
	if err != nil {
		s.error(w, r, err)
		return
	}
	d.Toasts = s.popToasts(r)
	s.renderDrafts(w, r, http.StatusOK, d)
}

// draftsPageData reads the workspace's drafts once and derives the filtered rows and the
// counts per state from them.
func (s *Server) draftsPageData(ctx context.Context, m access.Member, lifecycle string) (views.DraftsPageData, error) {
	rows, err := s.listDraftRows(ctx, m.WorkspaceID)
	if err != nil {
		return views.DraftsPageData{}, err
	}
	d := views.DraftsPageData{Workspace: m.Workspace, Lifecycle: lifecycle, Counts: map[string]int{}, CanCreate: m.Can(access.DraftCreate)}
	for _, row := range rows {
		d.Counts[row.Lifecycle]++
		if lifecycle == "" || row.Lifecycle == lifecycle {
			row.UpdatedBy = actorName(row.UpdatedBy)
			d.Rows = append(d.Rows, row)
		}
	}
	return d, nil
}

func (s *Server) renderDrafts(w http.ResponseWriter, r *http.Request, status int, d views.DraftsPageData) {
	nav := s.navFor(r)
	nav.Section = "onboarding"
	s.render(w, r, status, views.DraftsPage(nav, d))
}
