package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/views"
)

// httpError is an error with a status and a message safe to show.
type httpError struct {
	Status int
	Title  string
	Detail string
	Extra  map[string]any
}

func (e *httpError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Title, e.Detail) }

var (
	errUnauthenticated = &httpError{Status: http.StatusUnauthorized, Title: "Unauthorized", Detail: "Sign in to continue."}
	errNotFound        = &httpError{Status: http.StatusNotFound, Title: "Not found", Detail: "There is nothing here, or you do not have access to it."}
	errUnavailable     = &httpError{Status: http.StatusServiceUnavailable, Title: "Service unavailable", Detail: "The database is not answering. Try again in a moment."}
	errForbidden       = &httpError{Status: http.StatusForbidden, Title: "Forbidden", Detail: "Your role in this workspace does not allow this action."}
	errCrossOrigin     = &httpError{Status: http.StatusForbidden, Title: "Forbidden", Detail: "This request came from another site and was refused. Use the console's own pages."}
)

func badRequest(detail string) *httpError {
	return &httpError{Status: http.StatusBadRequest, Title: "Bad request", Detail: detail}
}

// statusOf maps the error vocabulary to HTTP in one table. Unknown errors are internal.
func statusOf(err error) *httpError {
	var he *httpError
	switch {
	case errors.As(err, &he):
		return he
	case errors.Is(err, access.ErrNotMember):
		return errNotFound
	}
	for _, m := range errorTable {
		if errors.Is(err, m.target) {
			return m.build(err)
		}
	}
	return nil
}

// errorTable maps the domain error vocabulary to HTTP, in one place. A version conflict is 412
// here (the API); pages turn it into a 409 with a conflict banner before it reaches this table.
var errorTable = []struct {
	target error
	build  func(error) *httpError
}{
	{onboarding.ErrNotFound, func(error) *httpError { return errNotFound }},
	{onboarding.ErrForbidden, func(error) *httpError { return errForbidden }},
	{onboarding.ErrPreconditionRequired, func(error) *httpError {
		return &httpError{Status: http.StatusPreconditionRequired, Title: "Precondition required",
			Detail: `Send If-Match with the draft version you saw, e.g. If-Match: "3".`}
	}},
	{onboarding.ErrConflict, func(err error) *httpError {
		he := &httpError{Status: http.StatusPreconditionFailed, Title: "Version conflict",
			Detail: "The draft changed since you loaded it; nothing was changed. Reload and apply again.", Extra: map[string]any{}}
		var ce *onboarding.ConflictError
		if errors.As(err, &ce) {
			he.Extra["current_version"] = ce.CurrentVersion
			he.Extra["updated_by"] = nullable(ce.UpdatedBy)
			he.Extra["updated_at"] = ce.UpdatedAt.UTC()
		}
		return he
	}},
	{onboarding.ErrInvalid, func(err error) *httpError {
		he := &httpError{Status: http.StatusUnprocessableEntity, Title: "Invalid input", Detail: "Some fields are not valid."}
		var ve *onboarding.ValidationError
		if errors.As(err, &ve) {
			he.Extra = map[string]any{"errors": ve.Fields}
		}
		return he
	}},
	{onboarding.ErrBlocked, func(err error) *httpError {
		he := &httpError{Status: http.StatusConflict, Title: "Blocked", Detail: "The draft is not in a state that allows this."}
		var be *onboarding.BlockedError
		if errors.As(err, &be) {
			he.Detail = "Blocked: " + string(be.Code) + "."
			he.Extra = map[string]any{"reason_code": be.Code, "blocking_reason_code": be.Code}
		}
		return he
	}},
}

// nullable returns nil for "", so JSON shows null.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// error writes err as problem+json for the API and as a page for browsers. Internal errors are
// logged with context and shown generically.
func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	he := statusOf(err)
	if he == nil && s.deps.Unavailable != nil && s.deps.Unavailable(err) {
		s.log.WarnContext(r.Context(), "database unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "1")
		he = errUnavailable
	}
	if he == nil {
		s.log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		he = &httpError{Status: http.StatusInternalServerError, Title: "Internal server error", Detail: "Something went wrong on our side. Try again."}
	}
	setRetryAfter(w, he)
	if isAPI(r) || !acceptsHTML(r) {
		writeProblem(w, he)
		return
	}
	// A form that could not be saved keeps what was typed and offers to send it again.
	if he == errUnavailable && isBrowserForm(r) && !sessionSaveFailed(r) && s.saveFailed(w, r) {
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(he.Status)
	_ = views.ErrorPage(s.navFor(r), views.ErrorData{Status: he.Status, Title: he.Title, Detail: he.Detail}).Render(r.Context(), w)
}

func acceptsHTML(r *http.Request) bool {
	a := r.Header.Get("Accept")
	return a == "" || strings.Contains(a, "text/html") || strings.Contains(a, "*/*")
}

// writeProblem writes an RFC 9457 problem document.
func writeProblem(w http.ResponseWriter, he *httpError) {
	body := map[string]any{"type": "about:blank", "title": he.Title, "status": he.Status, "detail": he.Detail}
	for k, v := range he.Extra {
		body[k] = v
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(he.Status)
	_ = json.NewEncoder(w).Encode(body)
}
