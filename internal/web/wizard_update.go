package web

import (
	"net/http"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/views"
)

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
	// Only the fields the operator edited are written: an untouched field carries the value
	// the form was rendered with, and saving it could undo someone else's newer edit.
	name, domain := f.values.Get("display_name"), f.values.Get("primary_domain")
	var p onboarding.Patch
	form := map[string]string{}
	var edited []views.ConflictField
	if f.edited("display_name") {
		p.DisplayName, form["display_name"] = &name, name
	}
	if f.edited("primary_domain") {
		p.PrimaryDomain, form["primary_domain"] = &domain, domain
	}
	if hasStep {
		p.CurrentStep = &step
	}
	_, err = s.deps.Service.Update(r.Context(), m, f.id, f.version, p)
	s.finish(w, r, m, f, submission{
		step: 1, next: step, formID: "form-identify", form: form,
		fields: func(d onboarding.Draft, _ *onboarding.ConnectionInfo) []views.ConflictField {
			if p.DisplayName != nil {
				edited = append(edited, views.ConflictField{Name: "display_name", Label: "Display name", Theirs: d.DisplayName, Mine: name})
			}
			if p.PrimaryDomain != nil {
				edited = append(edited, views.ConflictField{Name: "primary_domain", Label: "Primary domain", Theirs: d.PrimaryDomain, Mine: domain})
			}
			return edited
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
		step: 2, next: step,
		form: map[string]string{"client_id": clientID},
		fields: func(_ onboarding.Draft, conn *onboarding.ConnectionInfo) []views.ConflictField {
			theirs := ""
			if conn != nil {
				theirs = conn.ClientID
			}
			return []views.ConflictField{{Name: "client_id", Label: "Client ID", Theirs: theirs, Mine: clientID}}
		},
		done: views.Toast{Tone: "success", Text: "Connection attached. Verify access next."},
	}, err)
}
