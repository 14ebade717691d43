package web

import (
	"errors"
	"net/http"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/views"
)

// handleDraftNew is GET /admin/workspaces/{ws}/onboarding/new: the form that starts onboarding.
func (s *Server) handleDraftNew(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	if !m.Can(access.DraftCreate) {
		s.error(w, r, errForbidden)
		return
	}
	s.renderNewDraft(w, r, http.StatusOK, views.DraftsPageData{Workspace: m.Workspace, CanCreate: true, Toasts: s.popToasts(r)})
}

func (s *Server) renderNewDraft(w http.ResponseWriter, r *http.Request, status int, d views.DraftsPageData) {
	nav := s.navFor(r)
	nav.Section = "onboarding"
	s.render(w, r, status, views.NewDraftPage(nav, d))
}

// handleDraftCreate is POST /admin/workspaces/{ws}/onboarding: start onboarding a tenant, or
// resume its open draft, and open the wizard. Invalid input shows the form again with the
// typed values and the messages (422).
func (s *Server) handleDraftCreate(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	if !m.Can(access.DraftCreate) {
		s.error(w, r, errForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		s.error(w, r, badRequest("The form could not be read."))
		return
	}
	in := onboarding.CreateInput{TenantID: r.PostForm.Get("tenant_id"), DisplayName: r.PostForm.Get("display_name"), PrimaryDomain: r.PostForm.Get("primary_domain")}
	d, resumed, err := s.deps.Service.Create(r.Context(), m, in)
	var ve *onboarding.ValidationError
	switch {
	case errors.As(err, &ve):
		page := views.DraftsPageData{Workspace: m.Workspace, CanCreate: true, Errors: ve.Fields,
			Form: map[string]string{"tenant_id": in.TenantID, "display_name": in.DisplayName, "primary_domain": in.PrimaryDomain}}
		s.renderNewDraft(w, r, http.StatusUnprocessableEntity, page)
		return
	case err != nil:
		s.error(w, r, err)
		return
	}
	if resumed {
		s.flash(r, views.Toast{Tone: "info", Text: "Resumed the open draft for this tenant"})
	} else {
		s.flash(r, views.Toast{Tone: "success", Text: "Onboarding of " + d.Name() + " started"})
	}
	http.Redirect(w, r, views.DraftURL(m.Workspace, d.ID), http.StatusSeeOther)
}
