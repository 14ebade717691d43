package web

import (
	"net/http"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/views"
)

// handleWizardActivationRequestCreate is POST …/onboarding/{id}/activation-request: an
// operator asks the workspace's owners to activate a ready draft, as of the version the form
// was loaded with (a stale one gets the conflict page like every wizard form).
func (s *Server) handleWizardActivationRequestCreate(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	f, err := s.parseWizardForm(w, r, m, access.ActivationRequest)
	if err != nil {
		s.error(w, r, err)
		return
	}
	_, err = s.deps.Service.RequestActivation(r.Context(), m, f.id, f.version)
	s.finish(w, r, m, f, submission{step: 5, done: views.Toast{Tone: "success", Text: "The owners were asked to activate"}}, err)
}
