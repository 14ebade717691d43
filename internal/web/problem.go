package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/tenantops/onboard/views"
)

// This file answers an error (errors.go says which): a problem document for the API and for
// clients that do not read HTML, the error page for browsers.

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

// setRetryAfter sends Retry-After when err says when to retry (a 429 or 503 of ours). s.error
// calls it; handlers that answer an error with a page of their own call it too.
func setRetryAfter(w http.ResponseWriter, err error) {
	var he *httpError
	if errors.As(err, &he) {
		if secs, ok := he.Extra["retry_after"].(int); ok {
			w.Header().Set("Retry-After", strconv.Itoa(secs))
		}
	}
}
