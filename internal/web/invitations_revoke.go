package web

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/views"
)

// handleInvitationRevoke is POST …/members/invitations/{invitation_id}/revoke (the page asks
// first): the invitation's link stops working.
func (s *Server) handleInvitationRevoke(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	id, err := strconv.ParseInt(chi.URLParam(r, "invitation_id"), 10, 64)
	if err != nil || id < 1 {
		s.error(w, r, fault.ErrNotFound)
		return
	}
	inv, err := s.deps.Invitations.Revoke(r.Context(), m, id)
	s.membersDone(w, r, err, views.Toast{Tone: "success", Text: "Invitation of " + inv.Email + " revoked"})
}
