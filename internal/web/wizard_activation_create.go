package web

import (
	"net/http"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/views"
)

// handleWizardActivationCreate is POST …/onboarding/{id}/activation: activate, or — with
// override_reason — activate despite overridable blockers (owners).
func (s *Server) handleWizardActivationCreate(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	f, err := s.parseWizardForm(w, r, m, access.Activate)
	if err != nil {
		s.error(w, r, err)
		return
	}
	reason, override := f.values.Get("override_reason"), f.values.Has("override_reason")
	arg := reason
	if override && arg == "" {
		// The override form was sent blank: let the service refuse it as a blank reason
		// (after its 404/403/conflict checks) instead of trying a plain activation.
		arg = " "
	}
	_, err = s.deps.Service.Activate(r.Context(), m, f.id, f.version, arg)
	sub := submission{step: 5, done: views.Toast{Tone: "success", Text: "Tenant activated"}}
	if override {
		sub.formID = "form-override"
		sub.form = map[string]string{"override_reason": reason}
		sub.fields = func(d onboarding.Draft, _ *onboarding.ConnectionInfo) []views.ConflictField {
			return []views.ConflictField{{Label: "Override reason", Theirs: d.OverrideReason, Mine: reason}}
		}
		sub.done.Text = "Tenant activated with an override"
	}
	s.finish(w, r, m, f, sub, err)
}
