package web

import (
	"math"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/presenter"
	"github.com/tenantops/onboard/views"
)

// handleWizardChanges is GET …/onboarding/{id}/changes?since={version}: what changed on the
// draft after that version, from the audit trail, as the HTML table the live conflict banner
// shows (live.js marks the fields its operator edited). It reads only.
func (s *Server) handleWizardChanges(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	q := queryOf(r)
	since := q.requiredNumber("since", 0, math.MaxInt64, "since must be a draft version (a non-negative integer).")
	if err := q.Err(); err != nil {
		s.error(w, r, err)
		return
	}
	changes, err := s.deps.Service.Changes(r.Context(), m, chi.URLParam(r, "id"), since)
	if err != nil {
		s.error(w, r, err)
		return
	}
	_, list := conflictReport(nil, changes)
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, views.ChangeList(list))
}

// changeFields maps the audit trail's field names to the wizard's form field names and
// labels; current_step (the API's resume point) is not something a tab edits, so it is left
// out of conflict reports.
var changeFields = map[string]struct{ form, label string }{
	onboarding.FieldDisplayName:         {"display_name", "Display name"},
	onboarding.FieldPrimaryDomain:       {"primary_domain", "Primary domain"},
	onboarding.FieldProviderConnection:  {"client_id", "Client ID"},
	onboarding.FieldBootstrapOperations: {"operations", "Operations"},
}

// conflictReport joins the fields an operator edited with what changed elsewhere since
// their version: each side marks the fields both touched (Collides), edited fields come
// back with collisions first, and changes as operators read them.
func conflictReport(edited []views.ConflictField, changes []onboarding.Change) ([]views.ConflictField, []views.ChangeView) {
	mine := map[string]bool{}
	for _, f := range edited {
		mine[f.Name] = true
	}
	theirs := map[string]bool{}
	var out []views.ChangeView
	for _, c := range changes {
		cv := views.ChangeView{By: c.By, At: c.At}
		if c.Field == "" {
			cv.Label = presenter.AuditLabel(c.Action)
		} else {
			f, ok := changeFields[c.Field]
			if !ok {
				continue
			}
			cv.Field, cv.Label, cv.Old, cv.New = f.form, f.label, c.Old, c.New
			if f.form == "operations" {
				cv.Old, cv.New = presenter.OperationList(c.Old), presenter.OperationList(c.New)
			}
			cv.Collides = mine[f.form]
			theirs[f.form] = true
		}
		out = append(out, cv)
	}
	var first, rest []views.ConflictField
	for _, f := range edited {
		f.Collides = theirs[f.Name]
		if f.Collides {
			first = append(first, f)
		} else {
			rest = append(rest, f)
		}
	}
	return append(first, rest...), out
}
