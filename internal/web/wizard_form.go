package web

import (
	"cmp"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/presenter"
	"github.com/tenantops/onboard/views"
)

// maxFormBody bounds every form POST body.
const maxFormBody = 64 << 10

// wizardForm is one parsed wizard POST: the draft, the version the operator saw, the values.
type wizardForm struct {
	id      string
	version int64
	values  url.Values
}

// parseWizardForm reads a wizard form for an action needing capability c. A body that cannot
// be read or a missing or malformed version is a 400, after the same 404 → 403 checks the
// service would make, so a forged request learns nothing it could not learn otherwise.
func (s *Server) parseWizardForm(w http.ResponseWriter, r *http.Request, m access.Member, c access.Capability) (wizardForm, error) {
	f := wizardForm{id: chi.URLParam(r, "id")}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return f, &httpError{Status: http.StatusRequestEntityTooLarge, Title: "Request body too large", Detail: "The form is too large."}
		}
		return f, s.formProblem(r, m, f.id, c, badRequest("The form could not be read."))
	}
	f.values = r.PostForm
	v, err := strconv.ParseInt(strings.TrimSpace(f.values.Get("version")), 10, 64)
	if err != nil || v < 1 {
		return f, s.formProblem(r, m, f.id, c, badRequest("The form lacks the draft version it was loaded with. Reload the page and try again."))
	}
	f.version = v
	return f, nil
}

// formProblem returns problem for a malformed form, unless the draft is not the member's
// (404) or the member lacks c (403), which take precedence as they do in the service.
func (s *Server) formProblem(r *http.Request, m access.Member, id string, c access.Capability, problem error) error {
	if _, err := s.deps.Service.Get(r.Context(), m, id); err != nil {
		return err
	}
	if !m.Can(c) {
		return errForbidden
	}
	return problem
}

// step reads the optional "step" field: ok is false when it is absent.
func (f wizardForm) step() (step int, ok bool, err error) {
	v := strings.TrimSpace(f.values.Get("step"))
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, false, badRequest("step must be a number from 1 to 5.")
	}
	return n, true, nil
}

// edited reports whether the operator changed form field name: its value differs from the
// base_<name> the form was rendered with. A form without that base (not one of ours) counts
// the field as edited when it is present.
func (f wizardForm) edited(name string) bool {
	if _, ok := f.values[name]; !ok {
		return false
	}
	base, ok := f.values["base_"+name]
	if !ok || len(base) != 1 {
		return true
	}
	return f.values.Get(name) != base[0]
}

// submission describes what a wizard form submitted, to answer its outcome: the toast on
// success, and on a refusal the panel to re-open, the values to show again (never secrets),
// the form that re-applies them and the fields to compare in a conflict.
type submission struct {
	step   int               // wizard step of the form; the tab shows it again after a refusal
	next   int               // step the tab shows after success; 0 stays on step
	formID string            // the form "Overwrite with mine" submits; "" links to the form
	form   map[string]string // operator's values of the fields they edited, by form field name
	// fields lists the fields the operator edited, the stored value beside theirs.
	fields func(d onboarding.Draft, conn *onboarding.ConnectionInfo) []views.ConflictField
	done   views.Toast // flashed after a successful write; empty Text shows none
}

// finish answers a wizard write: a redirect back to the wizard (303) with a toast after
// success; after a refusal, the wizard again with the operator's values — 422 with the
// messages for invalid input, 409 with the conflict banner for a stale version (the form now
// carries the current version, so submitting again re-applies), 409 with the reason in words
// when the draft's state blocks the action. Not found and forbidden are error pages.
func (s *Server) finish(w http.ResponseWriter, r *http.Request, m access.Member, f wizardForm, sub submission, err error) {
	if err == nil {
		if sub.done.Text != "" {
			s.flash(r, sub.done)
		}
		u := views.DraftURL(m.Workspace, f.id)
		if step := cmp.Or(sub.next, sub.step); step > 0 {
			u += "?step=" + strconv.Itoa(step)
		}
		http.Redirect(w, r, u, http.StatusSeeOther)
		return
	}
	var (
		ve *onboarding.ValidationError
		ce *onboarding.ConflictError
		be *onboarding.BlockedError
	)
	if !errors.As(err, &ve) && !errors.As(err, &ce) && !errors.As(err, &be) {
		s.error(w, r, err)
		return
	}
	sn, serr := s.memberSnapshot(r.Context(), m, f.id)
	if serr != nil {
		s.error(w, r, serr)
		return
	}
	cd := sn.checkpointFor(m, sub.step)
	cd.Form = sub.form
	data := views.WizardData{Checkpoint: cd}
	status := http.StatusConflict
	switch {
	case ve != nil:
		status = http.StatusUnprocessableEntity
		data.Checkpoint.Errors = presenter.FormErrors(ve)
		data.Toasts = []views.Toast{{Tone: "danger", Text: "Nothing was saved: " + presenter.ErrorSummary(ve) + "."}}
	case ce != nil:
		// The form now carries the current version and, as its base, the stored values; its
		// inputs hold the operator's values only for the fields they edited. Submitting it
		// ("Overwrite with mine") therefore saves exactly those fields on top of the other change.
		changes, err := s.deps.Service.Changes(r.Context(), m, f.id, f.version)
		if err != nil {
			s.error(w, r, err)
			return
		}
		c := &views.ConflictData{UpdatedBy: presenter.ActorName(sn.Draft.UpdatedBy), UpdatedAt: sn.Draft.UpdatedAt, Since: f.version}
		if formShown(cd, sub.formID) {
			c.FormID = sub.formID
		}
		if sub.fields != nil {
			c.Fields = sub.fields(sn.Draft, sn.Conn)
		}
		c.Fields, c.Changes = conflictReport(c.Fields, changes)
		data.Conflict = c
	default:
		data.Toasts = []views.Toast{{Tone: "danger", Text: "Not done: " + views.ReasonText(string(be.Code))}}
	}
	s.renderWizard(w, r, status, data)
}

// formShown reports whether the re-rendered wizard holds the form formID, so that "Overwrite
// with mine" (or "Save my changes") can submit it; the draft may have moved on meanwhile (e.g. it is no longer
// overridable), and then the banner links to the step instead.
func formShown(cd views.CheckpointData, formID string) bool {
	if cd.Terminal() {
		return false
	}
	switch formID {
	case "form-identify":
		return cd.Step == 1 && cd.CanEdit
	case "form-bootstrap":
		return cd.Step == 4 && cd.CanBootstrap
	case "form-override":
		// The override form is on Activate, or on Verify access below a failed verification.
		onStep := cd.Step == 5 || cd.Step == 3 && cd.Verification != nil && cd.Verification.Troubled() && !cd.Verification.Active()
		return onStep && cd.CanOverride && !cd.Readiness.Ready && cd.Readiness.Overridable
	}
	return false
}
