package web

import (
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/invitation"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/views"
)

// handleInvitationShow is GET /admin/invitations/{token}: the invitee's page, for anyone
// holding the link (signed in or not): the form to set a password and join, or why the link
// no longer works. Looking changes nothing.
func (s *Server) handleInvitationShow(w http.ResponseWriter, r *http.Request) {
	token := chi.URLParam(r, "token")
	inv, err := s.deps.Invitations.Open(r.Context(), token)
	if err != nil {
		s.invitationRefused(w, r, err)
		return
	}
	s.renderInvitation(w, r, http.StatusOK, inv, token, "", nil)
}

// handleInvitationAccept is POST /admin/invitations/{token}: create the account, join the
// workspace with the invited role, and sign in as the new account.
func (s *Server) handleInvitationAccept(w http.ResponseWriter, r *http.Request) {
	token := chi.URLParam(r, "token")
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		s.error(w, r, badRequest("The form could not be read."))
		return
	}
	a := invitation.Acceptance{Name: r.PostForm.Get("name"), Password: r.PostForm.Get("new_password"), Confirm: r.PostForm.Get("confirm_password")}
	// The account's password is hashed like a sign-in's: in one of the bounded slots.
	done, err := s.gate.acquire()
	if err != nil {
		s.error(w, r, err)
		return
	}
	u, inv, err := s.deps.Invitations.Accept(r.Context(), token, a)
	done()
	var ve *onboarding.ValidationError
	switch {
	case errors.As(err, &ve):
		s.renderInvitation(w, r, http.StatusUnprocessableEntity, inv, token, a.Name, ve.Fields)
		return
	case err != nil:
		s.invitationRefused(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "invitation accepted", "invitation_id", inv.ID, "user_id", u.ID)
	if err := s.startSession(r.Context(), r, u); err != nil {
		// The account exists and is a member: signing in by hand works.
		s.log.ErrorContext(r.Context(), "sign in after accepting an invitation", "user_id", u.ID, "err", err)
		http.Redirect(w, r, "/admin/login?next=/admin/workspaces/"+inv.Workspace+"/onboarding", http.StatusSeeOther)
		return
	}
	s.flash(r, views.Toast{Tone: "success", Text: "Welcome to " + inv.WorkspaceName + ": you joined as " + string(inv.Role)})
	http.Redirect(w, r, "/admin/workspaces/"+inv.Workspace+"/onboarding", http.StatusSeeOther)
}

// invitationRefused answers a link that does not work: a token of nothing is the usual 404;
// an expired, used or revoked invitation is 410 with a page that says which.
func (s *Server) invitationRefused(w http.ResponseWriter, r *http.Request, err error) {
	var ue *invitation.UnusableError
	if !errors.As(err, &ue) {
		if errors.Is(err, fault.ErrNotFound) {
			s.render(w, r, http.StatusNotFound, views.InvitationPage(views.InvitationData{State: "unknown"}))
			return
		}
		s.error(w, r, err)
		return
	}
	s.render(w, r, http.StatusGone, views.InvitationPage(views.InvitationData{State: ue.State, Email: ue.Invitation.Email,
		WorkspaceName: ue.Invitation.WorkspaceName, Expires: ue.Invitation.ExpiresAt}))
}

func (s *Server) renderInvitation(w http.ResponseWriter, r *http.Request, status int, inv invitation.Invitation, token, name string, errs map[string]string) {
	d := views.InvitationData{State: invitation.StatePending, Action: invitation.Path(token), Email: inv.Email,
		WorkspaceName: inv.WorkspaceName, Role: string(inv.Role), InvitedBy: inv.InvitedBy, Expires: inv.ExpiresAt, Name: name, Errors: errs}
	if u, ok := userFrom(r.Context()); ok {
		d.SignedInAs = u.Email
	}
	// The page's URL holds the token: no Referer may carry it anywhere.
	w.Header().Set("Referrer-Policy", "no-referrer")
	s.render(w, r, status, views.InvitationPage(d))
}
