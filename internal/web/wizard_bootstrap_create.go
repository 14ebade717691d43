package web

import (
	"net/http"
	"strings"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/presenter"
	"github.com/tenantops/onboard/views"
)

// handleWizardBootstrapCreate is POST …/onboarding/{id}/bootstrap: the checked operations
// become the draft's exact selection and are started, in one transaction (an unchecked
// operation left selected would block activation, and a failure must leave neither a saved
// selection nor runs); with none checked, bootstrap is skipped (an empty selection).
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
	done := views.Toast{Tone: "info", Text: "No bootstrap operations selected; bootstrap is skipped"}
	if len(ops) == 0 {
		_, err = s.deps.Service.Update(r.Context(), m, f.id, f.version, onboarding.Patch{BootstrapOperations: &ops, SkipBootstrap: true})
	} else {
		var d onboarding.Draft
		d, _, err = s.deps.Service.SelectAndStartBootstrap(r.Context(), m, f.id, f.version, ops)
		done = views.Toast{Tone: "info", Kind: "queued", Text: "Bootstrap of " + d.Name() + " queued — you can leave this page; you will be notified"}
	}
	s.finish(w, r, m, f, submission{
		step: 4, formID: "form-bootstrap",
		form: map[string]string{"operations": strings.Join(ops, ",")},
		fields: func(d onboarding.Draft, _ *onboarding.ConnectionInfo) []views.ConflictField {
			return []views.ConflictField{{Name: "operations", Label: "Operations", Theirs: presenter.OperationNames(d.BootstrapOperations), Mine: presenter.OperationNames(ops)}}
		},
		done: done,
	}, err)
}
