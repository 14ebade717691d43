package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/presenter"
	"github.com/tenantops/onboard/views"
)

// Notifications are the signed-in user's in-app notifications (finished runs they started).
type Notifications interface {
	Notifications(ctx context.Context, userID int64, limit int) ([]onboarding.Notification, error)
	UnreadCount(ctx context.Context, userID int64) (int, error)
	// Bell reads the top bar's notifications menu (the user's live topic).
	Bell(ctx context.Context, userID int64) (onboarding.Bell, error)
	MarkNotificationsRead(ctx context.Context, userID int64) error
	MarkNotificationRead(ctx context.Context, userID, id int64) error
}

// notificationsShown is how many notifications the page lists.
const notificationsShown = 50

// handleNotificationsList is GET /admin/notifications: the signed-in user's notifications
// across the workspaces they are still a member of (others are left out: their links would
// be 404 now).
func (s *Server) handleNotificationsList(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	list, err := s.deps.Notifications.Notifications(r.Context(), u.ID, notificationsShown)
	if err != nil {
		s.error(w, r, err)
		return
	}
	ms, err := s.deps.Accounts.Memberships(r.Context(), u)
	if err != nil {
		s.error(w, r, err)
		return
	}
	slugs := map[int64]string{}
	for _, m := range ms {
		slugs[m.WorkspaceID] = m.Workspace
	}
	// Tenant names come from each workspace's draft list, read once per workspace.
	tenants := map[int64]map[string]string{}
	out := make([]views.NotificationView, 0, len(list))
	for _, n := range list {
		slug, ok := slugs[n.WorkspaceID]
		if !ok {
			continue
		}
		names, ok := tenants[n.WorkspaceID]
		if !ok {
			names = map[string]string{}
			if rows, err := s.listDraftRows(r.Context(), n.WorkspaceID); err == nil {
				for _, row := range rows {
					names[row.ID] = presenter.FirstNonEmpty(row.DisplayName, row.TenantID)
				}
			}
			tenants[n.WorkspaceID] = names
		}
		out = append(out, presenter.NotificationView(n, slug, names[n.DraftID]))
	}
	s.render(w, r, http.StatusOK, views.NotificationsPage(s.navFor(r), out))
}

// handleNotificationsRead is POST /admin/notifications/read: mark all read, back to the list.
func (s *Server) handleNotificationsRead(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	if err := s.deps.Notifications.MarkNotificationsRead(r.Context(), u.ID); err != nil {
		s.error(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/notifications", http.StatusSeeOther)
}

// handleNotificationRead is POST /admin/notifications/{id}/read: mark one read (another
// user's or an unknown id is 404), back to the list.
func (s *Server) handleNotificationRead(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id < 1 {
		s.error(w, r, errNotFound)
		return
	}
	if err := s.deps.Notifications.MarkNotificationRead(r.Context(), u.ID, id); err != nil {
		s.error(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/notifications", http.StatusSeeOther)
}
