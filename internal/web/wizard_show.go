package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/presenter"
	"github.com/tenantops/onboard/views"
)

// Snapshots reads everything one draft's fragments are rendered from, in one query.
type Snapshots interface {
	DraftSnapshot(ctx context.Context, draftID string) (onboarding.Snapshot, error)
}

// snapshot is one draft's snapshot, checked to belong to the member's workspace.
type snapshot struct{ onboarding.Snapshot }

// memberSnapshot loads draft id for m: another workspace's id is the same 404 as an unknown
// one, a member without the view capability gets 403.
func (s *Server) memberSnapshot(ctx context.Context, m access.Member, id string) (snapshot, error) {
	snap, err := s.deps.Snapshots.DraftSnapshot(ctx, id)
	if err != nil {
		return snapshot{}, err
	}
	switch err := access.MayView(m, snap.Draft.WorkspaceID); {
	case errors.Is(err, access.ErrNotMember):
		return snapshot{}, fault.ErrNotFound
	case err != nil:
		return snapshot{}, errForbidden
	}
	return snapshot{snap}, nil
}

// checkpointFor is the snapshot's checkpoint data for the member's cohort, showing step
// (0: the current checkpoint's step).
func (sn snapshot) checkpointFor(m access.Member, step int) views.CheckpointData {
	return presenter.CheckpointView(sn.Snapshot, access.For(m.Role), step)
}

// stepParam reads the optional ?step= of a wizard URL: 0 when absent, 1–5, else a 400.
func stepParam(r *http.Request) (int, error) {
	q := queryOf(r)
	if !q.has("step") {
		return 0, nil
	}
	const detail = "step must be a number from 1 to 5."
	if len(q.values["step"]) > 1 {
		return 0, badRequest(detail)
	}
	n := q.requiredNumber("step", 1, onboarding.Steps, detail)
	return int(n), q.Err()
}

// stepSnapshot reads what the wizard and its poll show: the draft {id}'s snapshot (404
// before a bad ?step's 400, as everywhere) and the tab's step.
func (s *Server) stepSnapshot(r *http.Request, m access.Member) (snapshot, int, error) {
	sn, err := s.memberSnapshot(r.Context(), m, chi.URLParam(r, "id"))
	if err != nil {
		return sn, 0, err
	}
	step, err := stepParam(r)
	return sn, step, err
}

// handleWizardShow is GET /admin/workspaces/{ws}/onboarding/{id}[?step=N]: the wizard at
// step N, or at the current checkpoint's step. The step is the tab's own: opening one writes
// nothing, audits nothing and moves no other tab. A page without ?step subscribes to the
// step it rendered, so it stays there when the checkpoint moves on.
func (s *Server) handleWizardShow(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	sn, step, err := s.stepSnapshot(r, m)
	if err != nil {
		s.error(w, r, err)
		return
	}
	cd := sn.checkpointFor(m, step)
	if step == 0 {
		cd = sn.checkpointFor(m, cd.Step)
	}
	s.renderWizard(w, r, http.StatusOK, views.WizardData{Checkpoint: cd, Toasts: settledToasts(s.popToasts(r), cd)})
}

// wizardFormSteps maps each wizard form's action to the step it belongs to (0: the current
// checkpoint's).
var wizardFormSteps = map[string]int{
	"identify": 1, "connection": 2, "verification": 3, "bootstrap": 4, "activation": 5, "activation-request": 5, "cancel": 0,
}

// handleWizardFormRedirect answers GET on a form's action URL: 303 to the wizard at step.
// It writes nothing. An id of another workspace or of nothing is the 404 every route gives
// it, not a redirect to one.
func (s *Server) handleWizardFormRedirect(step int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		m, _ := memberFrom(r.Context())
		id := chi.URLParam(r, "id")
		if _, err := s.deps.Service.Get(r.Context(), m, id); err != nil {
			s.error(w, r, err)
			return
		}
		u := views.DraftURL(m.Workspace, url.PathEscape(id))
		if step > 0 {
			u += "?step=" + strconv.Itoa(step)
		}
		http.Redirect(w, r, u, http.StatusSeeOther)
	}
}

func (s *Server) renderWizard(w http.ResponseWriter, r *http.Request, status int, d views.WizardData) {
	nav := s.navFor(r)
	nav.Section = "onboarding"
	s.render(w, r, status, views.WizardPage(nav, d))
}
