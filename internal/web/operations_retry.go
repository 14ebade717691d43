package web

import (
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/operation"
	"github.com/tenantops/onboard/views"
)

// handleOperationRetry is POST /admin/workspaces/{ws}/operations/{run_id}/retry: start the
// failed or cancelled run's type again (the page asks first) and open the new run's page. A
// refusal of the start gate goes back to the run with the reason.
func (s *Server) handleOperationRetry(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	runID := chi.URLParam(r, "run_id")
	run, created, err := s.deps.Service.RetryRun(r.Context(), m, runID)
	var be *onboarding.BlockedError
	switch {
	case errors.As(err, &be):
		s.flash(r, views.Toast{Tone: "danger", Text: "Not retried: " + views.ReasonText(string(be.Code))})
		http.Redirect(w, r, views.RunURL(m.Workspace, runID), http.StatusSeeOther)
	case err != nil:
		s.error(w, r, err)
	default:
		text := views.RunTypeText(string(run.Type)) + " started again"
		if !created {
			text = views.RunTypeText(string(run.Type)) + " is already running: this is that run"
		}
		s.flash(r, views.Toast{Tone: "info", Text: text})
		http.Redirect(w, r, views.RunURL(m.Workspace, run.ID), http.StatusSeeOther)
	}
}

// handleOperationRetryRedirect answers the retry form's URL opened as a page: the run (an
// unknown or foreign run is the same 404 as everywhere).
func (s *Server) handleOperationRetryRedirect(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	run, err := s.deps.Service.Run(r.Context(), m, chi.URLParam(r, "run_id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	http.Redirect(w, r, views.RunURL(m.Workspace, run.ID), http.StatusSeeOther)
}

// handleAPIRunRetry is POST /api/v1/workspaces/{ws}/operation-runs/{run_id}/retry: 202
// {"run": …} with the new run, or 200 with the run of that type already active.
func (s *Server) handleAPIRunRetry(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	run, created, err := s.deps.Service.RetryRun(r.Context(), m, chi.URLParam(r, "run_id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	status := http.StatusAccepted
	if !created {
		status = http.StatusOK
	}
	writeJSON(w, status, map[string]any{"run": toRunJSON(run)})
}

// retryView is what the run page says about retrying run: hidden when m may not start runs
// of its type or the run did not fail or get cancelled; otherwise offered, or shown disabled
// with the start gate's reason.
func retryView(m access.Member, sn snapshot, run operation.Run) views.RetryView {
	code, err := onboarding.RetryCheck(m, onboarding.Snapshot{Draft: sn.Draft, Runs: sn.Runs, Conn: sn.Conn}, run)
	if err != nil || code == onboarding.ReasonRunNotRetryable {
		return views.RetryView{}
	}
	return views.RetryView{Show: true, URL: views.RunURL(m.Workspace, run.ID) + "/retry", Type: string(run.Type), Reason: views.ReasonText(string(code))}
}
