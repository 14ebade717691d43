package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/account"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/views"
)

// AccountService is the signed-in person's own sessions and password, and the security
// record of sign-ins (account.Service).
type AccountService interface {
	Sessions(ctx context.Context, u access.User, current string) ([]account.Session, error)
	SignedIn(ctx context.Context, u access.User, token string, c account.Client) error
	Rebind(ctx context.Context, u access.User, token string, c account.Client) error
	SignInFailed(ctx context.Context, u access.User, c account.Client) error
	SignedOut(ctx context.Context, u access.User, c account.Client) error
	EndSessions(ctx context.Context, u access.User, current string, id int64, c account.Client) (int64, error)
	ChangePassword(ctx context.Context, u access.User, current string, p account.PasswordChange, c account.Client) (int64, error)
}

// clientOf is where r came from, as sessions and security events record it.
func (s *Server) clientOf(r *http.Request) account.Client {
	return account.Client{UserAgent: r.UserAgent(), Address: clientAddress(r, s.cfg.ClientIPHeader)}
}

// handleProfileShow is GET /admin/profile: the password form and the person's sessions.
func (s *Server) handleProfileShow(w http.ResponseWriter, r *http.Request) {
	s.renderProfile(w, r, http.StatusOK, nil)
}

func (s *Server) renderProfile(w http.ResponseWriter, r *http.Request, status int, errs map[string]string) {
	u, _ := userFrom(r.Context())
	list, err := s.deps.Account.Sessions(r.Context(), u, s.sessions.Token(r.Context()))
	if err != nil {
		s.error(w, r, err)
		return
	}
	d := views.ProfilePageData{Email: u.Email, Name: u.Name, Errors: errs}
	for _, x := range list {
		d.Sessions = append(d.Sessions, views.SessionRow{ID: x.ID, CreatedAt: x.CreatedAt, LastSeenAt: x.LastSeenAt,
			UserAgent: x.UserAgent, Address: x.Address, Current: x.Current})
	}
	nav := s.navFor(r)
	nav.Section = "profile"
	var toasts []views.Toast
	if status == http.StatusOK {
		toasts = s.popToasts(r)
	}
	s.render(w, r, status, views.ProfilePage(nav, d, toasts))
}

// changePassword checks the current password under a limit of its own (a stolen session must
// not become a way to guess the password, nor to lock the owner out of signing in), changes it, ends every other session and gives this
// one a fresh token.
func (s *Server) changePassword(r *http.Request, p account.PasswordChange) (int64, error) {
	ctx := r.Context()
	u, _ := userFrom(ctx)
	if err := account.CheckPasswordChange(u, p); err != nil {
		return 0, err
	}
	done, err := s.gate.acquire()
	if err != nil {
		return 0, err
	}
	defer done()
	charged, err := s.gate.reservePasswordCheck(ctx, u.ID, s.cfg.LoginLimit, s.cfg.LoginWindow)
	if err != nil {
		return 0, err
	}
	n, err := s.deps.Account.ChangePassword(ctx, u, s.sessions.Token(ctx), p, s.clientOf(r))
	if err != nil {
		return 0, err
	}
	if err := s.gate.release(ctx, charged); err != nil {
		return 0, err
	}
	if err := s.renewSession(r, u); err != nil {
		return 0, err
	}
	s.log.InfoContext(ctx, "password changed", "user_id", u.ID, "sessions_ended", n)
	return n, nil
}

// renewSession gives the request's session a fresh token, stores it and records it as u's.
func (s *Server) renewSession(r *http.Request, u access.User) error {
	ctx := r.Context()
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	token, _, err := s.sessions.Commit(ctx)
	if err != nil {
		return err
	}
	return s.deps.Account.Rebind(ctx, u, token, s.clientOf(r))
}

// handleProfilePassword is POST /admin/profile/password.
func (s *Server) handleProfilePassword(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		s.error(w, r, badRequest("The form could not be read."))
		return
	}
	n, err := s.changePassword(r, account.PasswordChange{
		Current: r.PostForm.Get("current_password"), New: r.PostForm.Get("new_password"), Confirm: r.PostForm.Get("confirm_password"),
	})
	var ve *onboarding.ValidationError
	switch {
	case errors.As(err, &ve):
		s.renderProfile(w, r, http.StatusUnprocessableEntity, ve.Fields)
	case err != nil:
		s.error(w, r, err)
	default:
		s.flash(r, views.Toast{Tone: "success", Text: "Password changed" + endedText(n)})
		http.Redirect(w, r, "/admin/profile", http.StatusSeeOther)
	}
}

func endedText(n int64) string {
	switch n {
	case 0:
		return ""
	case 1:
		return "; 1 other session signed out"
	}
	return "; " + strconv.FormatInt(n, 10) + " other sessions signed out"
}

// endSessions ends the signed-in user's session named in the path, or every other one when
// none is named; it returns the id named (0: none) and how many sessions ended. The page and
// the API answer it in their own ways.
func (s *Server) endSessions(r *http.Request) (id, ended int64, err error) {
	if id, err = sessionIDParam(r); err != nil {
		return 0, 0, err
	}
	u, _ := userFrom(r.Context())
	ended, err = s.deps.Account.EndSessions(r.Context(), u, s.sessions.Token(r.Context()), id, s.clientOf(r))
	return id, ended, err
}

// handleProfileSessionsEnd is POST /admin/profile/sessions/end (every other session) and
// POST /admin/profile/sessions/{session_id}/end (one of them).
func (s *Server) handleProfileSessionsEnd(w http.ResponseWriter, r *http.Request) {
	_, n, err := s.endSessions(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	text := strings.TrimPrefix(endedText(n), "; ")
	if n == 0 {
		text = "No other session was signed in"
	}
	s.flash(r, views.Toast{Tone: "success", Text: strings.ToUpper(text[:1]) + text[1:]})
	http.Redirect(w, r, "/admin/profile", http.StatusSeeOther)
}

// sessionIDParam reads {session_id}: 0 when the route has none, a 404 when it is no id.
func sessionIDParam(r *http.Request) (int64, error) {
	v := chi.URLParam(r, "session_id")
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		return 0, errNotFound
	}
	return id, nil
}

// handleProfileRedirect answers a profile form's URL opened as a page: back to the profile.
func (s *Server) handleProfileRedirect(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/admin/profile", http.StatusSeeOther)
}
