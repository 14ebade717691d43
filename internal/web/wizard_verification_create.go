package web

import (
	"net/http"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/views"
)

// handleWizardVerificationCreate is POST …/onboarding/{id}/verification: queue a
// verification run (or find the active one) and come back to the wizard, which follows it.
func (s *Server) handleWizardVerificationCreate(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	f, err := s.parseWizardForm(w, r, m, access.VerificationStart)
	if err != nil {
		s.error(w, r, err)
		return
	}
	d, _, created, err := s.deps.Service.StartVerification(r.Context(), m, f.id, f.version)
	done := views.Toast{Tone: "info", Kind: "queued", Text: "Verification of " + d.Name() + " queued — you can leave this page; you will be notified"}
	if !created {
		done.Text = "Verification of " + d.Name() + " is already running — its progress is shown below"
	}
	s.finish(w, r, m, f, submission{step: 3, done: done}, err)
}
