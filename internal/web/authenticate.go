package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/fault"
)

// This file is who is asking and what they may do: the signed-in user and the workspace
// member in the request context, and the middlewares that require them.

type ctxKey int

const (
	userKey ctxKey = iota
	memberKey
	liveTokenKey // the SHA-256 (hex) of a /live request's session token (liveAuthenticate, for liveSessionKeys)
)

const sessionUserKey = "user_id"

func userFrom(ctx context.Context) (access.User, bool) {
	u, ok := ctx.Value(userKey).(access.User)
	return u, ok
}

func memberFrom(ctx context.Context) (access.Member, bool) {
	m, ok := ctx.Value(memberKey).(access.Member)
	return m, ok
}

// authenticate puts the signed-in user, if any, into the request context.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o, ok := r.Context().Value(observationKey).(*observation); ok {
			o.sessionLoaded = true
		}
		id := s.sessions.GetInt64(r.Context(), sessionUserKey)
		if id == 0 {
			next.ServeHTTP(w, r)
			return
		}
		u, err := s.deps.Accounts.User(r.Context(), id)
		if errors.Is(err, fault.ErrNotFound) {
			// A deleted user's session is no session.
			next.ServeHTTP(w, r)
			return
		}
		if err != nil {
			// The database did not answer: an error, not a sign-out (a 401 or a redirect
			// to the sign-in page would drop what the person was doing).
			s.error(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey, u)))
	})
}

// requireUser answers 401 on the API and redirects browsers to the sign-in page.
func (s *Server) requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := userFrom(r.Context()); ok {
			next.ServeHTTP(w, r)
			return
		}
		if isAPI(r) || r.Method != http.MethodGet {
			s.error(w, r, errUnauthenticated)
			return
		}
		http.Redirect(w, r, "/admin/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	})
}

// requireMember resolves the {ws} membership for every workspace route: unknown workspace
// and non-member are the same 404; the member is put into the context.
func (s *Server) requireMember(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := userFrom(r.Context())
		m, err := s.deps.Accounts.Member(r.Context(), u, chi.URLParam(r, "ws"))
		if err != nil {
			s.error(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), memberKey, m)))
	})
}

// can guards a route with a capability: members without it get 403.
func (s *Server) can(c access.Capability) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			m, ok := memberFrom(r.Context())
			if !ok || !m.Can(c) {
				s.error(w, r, errForbidden)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
