package web

import "net/http"

// handleSessionDelete is DELETE /api/v1/session and POST /admin/logout: the session is
// destroyed on the server, not only forgotten by the browser.
func (s *Server) handleSessionDelete(w http.ResponseWriter, r *http.Request) {
	if u, ok := userFrom(r.Context()); ok {
		if err := s.deps.Account.SignedOut(r.Context(), u, s.clientOf(r)); err != nil {
			s.error(w, r, err)
			return
		}
	}
	if err := s.sessions.Destroy(r.Context()); err != nil {
		s.error(w, r, err)
		return
	}
	if isAPI(r) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}
