package web

import (
	"net/http"
	"regexp"

	"github.com/go-chi/chi/v5"

	"github.com/tenantops/onboard/internal/onboarding"
)

// slugRE is the workspace slug grammar, the same as the CHECK on workspaces.slug.
var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// validParam reports whether a path parameter is well-formed: {ws} a slug, {id} and {run_id}
// GUIDs. Bytes PostgreSQL refuses (invalid UTF-8, NUL) fail both grammars.
func validParam(key, value string) bool {
	switch key {
	case "ws":
		return slugRE.MatchString(value)
	case "id", "run_id":
		return onboarding.IsGUID(value)
	}
	return true
}

// validParams answers a malformed path parameter with the same 404 as any other unknown
// resource, before a handler (or SQL) sees it. It checks the parameters routed so far: used
// on a subrouter it sees {ws}; used on a group of routes, every parameter of the route.
func (s *Server) validParams(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ps := chi.RouteContext(r.Context()).URLParams
		for i, k := range ps.Keys {
			if !validParam(k, ps.Values[i]) {
				s.error(w, r, errNotFound)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
