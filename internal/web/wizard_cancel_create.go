package web

import (
	"net/http"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/views"
)

// handleWizardCancelCreate is POST …/onboarding/{id}/cancel: cancel the onboarding. The form
// must carry confirm=yes (the page asks before sending it).
func (s *Server) handleWizardCancelCreate(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	f, err := s.parseWizardForm(w, r, m, access.Cancel)
	if err == nil && f.values.Get("confirm") != "yes" {
		err = s.formProblem(r, m, f.id, access.Cancel, badRequest("Cancelling needs confirmation: send confirm=yes."))
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	_, err = s.deps.Service.Cancel(r.Context(), m, f.id, f.version)
	s.finish(w, r, m, f, submission{done: views.Toast{Tone: "info", Text: "Onboarding cancelled"}}, err)
}
