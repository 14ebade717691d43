package web

import (
	"net/http"
	"time"

	"github.com/tenantops/onboard/internal/account"
)

// sessionJSON is one of the caller's sessions in the API (never its token).
type sessionJSON struct {
	ID         int64     `json:"id"`
	Current    bool      `json:"current"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	UserAgent  string    `json:"user_agent"`
	Address    string    `json:"address"`
}

// handleAPISessionsList is GET /api/v1/sessions: the caller's own sessions.
func (s *Server) handleAPISessionsList(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	list, err := s.deps.Account.Sessions(r.Context(), u, s.sessions.Token(r.Context()))
	if err != nil {
		s.error(w, r, err)
		return
	}
	out := make([]sessionJSON, 0, len(list))
	for _, x := range list {
		out = append(out, sessionJSON{ID: x.ID, Current: x.Current, CreatedAt: x.CreatedAt.UTC(), LastSeenAt: x.LastSeenAt.UTC(),
			ExpiresAt: x.Expires.UTC(), UserAgent: x.UserAgent, Address: x.Address})
	}
	writeJSON(w, http.StatusOK, out)
}

// handleAPISessionsEnd is POST /api/v1/sessions/end-others (200 {"ended": n}) and
// DELETE /api/v1/sessions/{session_id} (204; the current session or another user's is 404:
// the current one ends with DELETE /api/v1/session).
func (s *Server) handleAPISessionsEnd(w http.ResponseWriter, r *http.Request) {
	id, n, err := s.endSessions(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if id != 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int64{"ended": n})
}

type passwordRequest struct {
	CurrentPassword *string `json:"current_password"`
	NewPassword     *string `json:"new_password"`
}

// handleAPIPasswordUpdate is PUT /api/v1/password {"current_password","new_password"}: 200
// {"ended": n} with a fresh session cookie; every other session of the caller ends.
func (s *Server) handleAPIPasswordUpdate(w http.ResponseWriter, r *http.Request) {
	var req passwordRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.error(w, r, err)
		return
	}
	var p account.PasswordChange
	if req.CurrentPassword != nil {
		p.Current = *req.CurrentPassword
	}
	if req.NewPassword != nil {
		p.New, p.Confirm = *req.NewPassword, *req.NewPassword
	}
	n, err := s.changePassword(r, p)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int64{"ended": n})
}
