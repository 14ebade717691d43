package web

import (
	"net/http"
	"strings"

	"github.com/tenantops/onboard/views"
)

// Toasts survive the redirect after a POST as a one-time flash in the session.
const flashKey = "flash"

// flash stores a toast to show on the next page.
func (s *Server) flash(r *http.Request, t views.Toast) {
	s.sessions.Put(r.Context(), flashKey, t.Tone+"\n"+t.Kind+"\n"+t.Text)
}

// popToasts takes the flash, if any, out of the session.
func (s *Server) popToasts(r *http.Request) []views.Toast {
	v := s.sessions.PopString(r.Context(), flashKey)
	if v == "" {
		return nil
	}
	parts := strings.SplitN(v, "\n", 3)
	if len(parts) != 3 {
		return []views.Toast{{Tone: "info", Text: v}}
	}
	return []views.Toast{{Tone: parts[0], Kind: parts[1], Text: parts[2]}}
}

// settledToasts drops "queued" toasts when the page already shows the result (no run in
// progress): a fast run may finish before the redirect lands.
func settledToasts(ts []views.Toast, cd views.CheckpointData) []views.Toast {
	if cd.Lifecycle == "verifying" || cd.Lifecycle == "bootstrapping" {
		return ts
	}
	out := ts[:0]
	for _, t := range ts {
		if t.Kind != "queued" {
			out = append(out, t)
		}
	}
	return out
}
