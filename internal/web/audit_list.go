package web

import (
	"context"
	"net/http"

	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/views"
)

// AuditLister reads the workspace audit log.
type AuditLister interface {
	AuditEntries(ctx context.Context, workspaceID int64, limit int) ([]onboarding.AuditRecord, error)
}

// handleAuditList is GET /admin/workspaces/{ws}/audit (capability audit.view).
func (s *Server) handleAuditList(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	records, err := s.deps.Audit.AuditEntries(r.Context(), m.WorkspaceID, 200)
	if err != nil {
		s.error(w, r, err)
		return
	}
	entries := make([]views.AuditEntry, 0, len(records))
	for _, e := range records {
		entries = append(entries, views.AuditEntry{ID: e.ID, Actor: e.Actor, Action: e.Action,
			SubjectType: e.SubjectType, SubjectID: e.SubjectID, Metadata: e.Metadata, At: e.At})
	}
	nav := s.navFor(r)
	nav.Section = "audit"
	s.render(w, r, http.StatusOK, views.AuditPage(nav, entries))
}
