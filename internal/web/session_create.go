package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/alexedwards/scs/v2"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/password"
	"github.com/tenantops/onboard/views"
)

var errBadCredentials = &httpError{Status: http.StatusUnauthorized, Title: "Unauthorized", Detail: "Email or password is wrong."}

// signIn checks credentials and starts a fresh session (new token, so a fixated session id is
// never promoted). The order bounds the cost of a flood: a hashing slot first (none free →
// 503 at once), then one attempt charged to the account, the client address and the pair
// before the password is checked (over a limit → 429, see reserveSignIn), so parallel
// attempts cannot outrun the count.
func (s *Server) signIn(ctx context.Context, r *http.Request, email, pw string) (access.User, error) {
	done, err := s.gate.acquire()
	if err != nil {
		return access.User{}, err
	}
	defer done()
	charged, err := s.gate.reserveSignIn(ctx, clientAddress(r, s.cfg.ClientIPHeader), strings.ToLower(strings.TrimSpace(email)),
		signInLimits{Pair: s.cfg.LoginLimit, Account: s.cfg.LoginAccountLimit, Address: s.cfg.LoginAddressLimit}, s.cfg.LoginWindow)
	if err != nil {
		return access.User{}, err
	}
	u, hash, err := s.deps.Accounts.UserCredentials(ctx, email)
	if err != nil {
		// Hash anyway so unknown emails take as long as wrong passwords. An unknown email
		// belongs to no workspace: the log line is its only record (without what was typed,
		// which may be a password).
		_, _ = s.verify(dummyHash(), pw)
		s.log.InfoContext(ctx, "sign-in refused", "known_account", false)
		return access.User{}, errBadCredentials
	}
	if ok, err := s.verify(hash, pw); err != nil || !ok {
		s.log.InfoContext(ctx, "sign-in refused", "known_account", true, "user_id", u.ID)
		if err := s.deps.Account.SignInFailed(ctx, u, s.clientOf(r)); err != nil {
			return access.User{}, err
		}
		return access.User{}, errBadCredentials
	}
	if err := s.gate.release(ctx, charged); err != nil {
		return access.User{}, err
	}
	if err := s.startSession(ctx, r, u); err != nil {
		return access.User{}, err
	}
	return u, nil
}

// startSession signs u in on the request's session: a fresh token (a fixated session id is
// never promoted), stored and recorded as u's with the sign-in event.
func (s *Server) startSession(ctx context.Context, r *http.Request, u access.User) error {
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.sessions.Put(ctx, sessionUserKey, u.ID)
	// Store the session now (LoadAndSave would at the end of the request) so that its row
	// can be recorded as u's, with the sign-in, in one transaction.
	token, _, err := s.sessions.Commit(ctx)
	if err != nil {
		return err
	}
	if err := s.deps.Account.SignedIn(ctx, u, token, s.clientOf(r)); err != nil {
		// Unrecorded, it is no sign-in: the stored session must not work either. The client
		// may have gone away (that is often why recording failed), so the removal must not
		// depend on the request's context.
		_ = s.sessions.Destroy(context.WithoutCancel(ctx))
		return err
	}
	s.log.InfoContext(ctx, "signed in", "user_id", u.ID)
	return nil
}

// dummyHash is verified against when the email is unknown, so both answers cost one hash.
// It is made on first use: every binary that links web would otherwise pay a hash at start.
var dummyHash = sync.OnceValue(func() string {
	h, _ := password.Hash("not-a-real-password")
	return h
})

func (s *Server) verify(hash, pw string) (bool, error) {
	if s.deps.VerifyPW != nil {
		return s.deps.VerifyPW(hash, pw)
	}
	return password.Verify(hash, pw)
}

type sessionRequest struct {
	Email    *string `json:"email"`
	Password *string `json:"password"`
}

// handleSessionCreate is POST /api/v1/session: 204 with the session cookie, 401 otherwise.
func (s *Server) handleSessionCreate(w http.ResponseWriter, r *http.Request) {
	var req sessionRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.error(w, r, err)
		return
	}
	fields := map[string]string{}
	if req.Email == nil || strings.TrimSpace(*req.Email) == "" {
		fields["email"] = "is required"
	}
	if req.Password == nil || *req.Password == "" {
		fields["password"] = "is required"
	}
	if len(fields) > 0 {
		s.error(w, r, &httpError{Status: http.StatusUnprocessableEntity, Title: "Invalid input", Detail: "Some fields are missing.", Extra: map[string]any{"errors": fields}})
		return
	}
	if _, err := s.signIn(r.Context(), r, *req.Email, *req.Password); err != nil {
		s.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleLoginShow is GET /admin/login.
func (s *Server) handleLoginShow(w http.ResponseWriter, r *http.Request) {
	if _, ok := userFrom(r.Context()); ok {
		http.Redirect(w, r, safeNext(queryOf(r).get("next")), http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, views.Login(views.LoginData{Next: safeNext(queryOf(r).get("next"))}))
}

// handleLoginSubmit is POST /admin/login (the browser form).
func (s *Server) handleLoginSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.render(w, r, http.StatusBadRequest, views.Login(views.LoginData{Error: "The form could not be read."}))
		return
	}
	email, pw, next := r.PostForm.Get("email"), r.PostForm.Get("password"), safeNext(r.PostForm.Get("next"))
	if strings.TrimSpace(email) == "" || pw == "" {
		s.render(w, r, http.StatusUnprocessableEntity, views.Login(views.LoginData{Email: email, Next: next, Error: "Enter your email and password."}))
		return
	}
	u, err := s.signIn(r.Context(), r, email, pw)
	if err != nil {
		setRetryAfter(w, err)
		he := statusOf(err)
		if he == nil {
			s.error(w, r, err)
			return
		}
		s.render(w, r, he.Status, views.Login(views.LoginData{Email: email, Next: next, Error: he.Detail}))
		return
	}
	if next == "/admin" {
		// Without a page to return to, a member of one workspace lands on its dashboard.
		if ms, err := s.deps.Accounts.Memberships(r.Context(), u); err == nil && len(ms) == 1 {
			next = "/admin/workspaces/" + ms[0].Workspace
		}
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// maxNext bounds the page a sign-in returns to.
const maxNext = 2048

// safeNext keeps redirects after sign-in on this site, to a path that is clean text.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if next == "" || !cleanText(next, maxNext) || err != nil || u.IsAbs() || u.Host != "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, `\`) {
		return "/admin"
	}
	return next
}

// SessionOwner reads the signed-in user's id out of a stored session's data (scs's default
// gob encoding, the one New's session manager uses); false for an anonymous session or data
// it cannot read. cmd/onboard gives it to postgres.DB.BindSessionOwners.
func SessionOwner(data []byte) (int64, bool) {
	_, values, err := scs.GobCodec{}.Decode(data)
	if err != nil {
		return 0, false
	}
	id, ok := values[sessionUserKey].(int64)
	return id, ok && id > 0
}
