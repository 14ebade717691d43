package web

import (
	"net/http"
	"strings"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/views"
)

// handleWizardBootstrapCreate is POST …/onboarding/{id}/bootstrap: the checked operations
// become the draft's selection and are started; with none checked, bootstrap is skipped.
//
// The selection is saved first (Update, which returns the version unchanged when nothing
// changes) and the start uses the version that write returned: StartBootstrap only ever adds
// to the selection, and an unchecked operation left selected would block activation.
func (s *Server) handleWizardBootstrapCreate(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	f, err := s.parseWizardForm(w, r, m, access.BootstrapStart)
	if err != nil {
		s.error(w, r, err)
		return
	}
	ops := f.values["operations"]
	if ops == nil {
		ops = []string{}
	}
	d, err := s.deps.Service.Update(r.Context(), m, f.id, f.version, onboarding.Patch{BootstrapOperations: &ops})
	done := views.Toast{Tone: "info", Text: "No bootstrap operations selected; bootstrap is skipped"}
	if err == nil && len(ops) > 0 {
		_, _, err = s.deps.Service.StartBootstrap(r.Context(), m, f.id, d.Version, ops)
		done.Text = "Bootstrap queued — you can leave this page; you will be notified"
	}
	s.finish(w, r, m, f, submission{
		step: 4, formID: "form-bootstrap",
		form: map[string]string{"operations": strings.Join(ops, ",")},
		fields: func(d onboarding.Draft, _ *onboarding.ConnectionInfo) []views.ConflictField {
			return []views.ConflictField{{Label: "Operations", Theirs: operationNames(d.BootstrapOperations), Mine: operationNames(ops)}}
		},
		done: done,
	}, err)
}
