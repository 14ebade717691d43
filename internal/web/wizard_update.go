package web

import (
	"net/http"
	"strconv"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/views"
)

// handleWizardStep is POST …/onboarding/{id}/step: open another (reachable) step.
func (s *Server) handleWizardStep(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	f, err := s.parseWizardForm(w, r, m, access.DraftEdit)
	if err != nil {
		s.error(w, r, err)
		return
	}
	step, ok, err := f.step()
	if err == nil && !ok {
		err = badRequest("step is required.")
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	_, err = s.deps.Service.Update(r.Context(), m, f.id, f.version, onboarding.Patch{CurrentStep: &step})
	s.finish(w, r, m, f, submission{
		form: map[string]string{"step": strconv.Itoa(step)},
		fields: func(d onboarding.Draft, _ *onboarding.ConnectionInfo) []views.ConflictField {
			return []views.ConflictField{{Label: "Step", Theirs: strconv.Itoa(d.CurrentStep), Mine: strconv.Itoa(step)}}
		},
	}, err)
}

// handleWizardIdentify is POST …/onboarding/{id}/identify: save the tenant's name and domain
// and, in the same versioned write, move to the form's next step.
func (s *Server) handleWizardIdentify(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	f, err := s.parseWizardForm(w, r, m, access.DraftEdit)
	if err != nil {
		s.error(w, r, err)
		return
	}
	step, hasStep, err := f.step()
	if err != nil {
		s.error(w, r, err)
		return
	}
	name, domain := f.values.Get("display_name"), f.values.Get("primary_domain")
	p := onboarding.Patch{DisplayName: &name, PrimaryDomain: &domain}
	if hasStep {
		p.CurrentStep = &step
	}
	_, err = s.deps.Service.Update(r.Context(), m, f.id, f.version, p)
	s.finish(w, r, m, f, submission{
		step: 1, formID: "form-identify",
		form: map[string]string{"display_name": name, "primary_domain": domain},
		fields: func(d onboarding.Draft, _ *onboarding.ConnectionInfo) []views.ConflictField {
			return []views.ConflictField{
				{Label: "Display name", Theirs: d.DisplayName, Mine: name},
				{Label: "Primary domain", Theirs: d.PrimaryDomain, Mine: domain},
			}
		},
		done: views.Toast{Tone: "success", Text: "Tenant details saved"},
	}, err)
}

// handleWizardConnection is POST …/onboarding/{id}/connection: attach (or replace) the
// provider connection and move to the form's next step in the same write. The secret is
// never shown again, not even after a refusal.
func (s *Server) handleWizardConnection(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	f, err := s.parseWizardForm(w, r, m, access.DraftEdit)
	if err != nil {
		s.error(w, r, err)
		return
	}
	step, hasStep, err := f.step()
	if err != nil {
		s.error(w, r, err)
		return
	}
	clientID := f.values.Get("client_id")
	p := onboarding.Patch{Connection: &onboarding.ConnectionInput{ClientID: clientID, ClientSecret: f.values.Get("client_secret")}}
	if hasStep {
		p.CurrentStep = &step
	}
	_, err = s.deps.Service.Update(r.Context(), m, f.id, f.version, p)
	s.finish(w, r, m, f, submission{
		// The secret must be typed again, so re-applying is a link to the form, not a button.
		step: 2,
		form: map[string]string{"client_id": clientID},
		fields: func(_ onboarding.Draft, conn *onboarding.ConnectionInfo) []views.ConflictField {
			theirs := ""
			if conn != nil {
				theirs = conn.ClientID
			}
			return []views.ConflictField{{Label: "Client ID", Theirs: theirs, Mine: clientID}}
		},
		done: views.Toast{Tone: "success", Text: "Connection attached. Verify access next."},
	}, err)
}
