package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/invitation"
	"github.com/tenantops/onboard/internal/membership"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/views"
)

// MemberService manages a workspace's members (membership.Service).
type MemberService interface {
	List(ctx context.Context, m access.Member) ([]membership.Member, error)
	Add(ctx context.Context, m access.Member, email string, role access.Role) (membership.Member, error)
	ChangeRole(ctx context.Context, m access.Member, userID int64, role access.Role) error
	Remove(ctx context.Context, m access.Member, userID int64) error
}

// handleMembersList is GET /admin/workspaces/{ws}/members (capability members.manage).
func (s *Server) handleMembersList(w http.ResponseWriter, r *http.Request) {
	s.renderMembers(w, r, http.StatusOK, membersExtra{})
}

// handleMemberCreate is POST …/members: add an existing user by email.
func (s *Server) handleMemberCreate(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		s.error(w, r, badRequest("The form could not be read."))
		return
	}
	email, role := r.PostForm.Get("email"), r.PostForm.Get("role")
	added, err := s.deps.Members.Add(r.Context(), m, email, access.Role(role))
	var ve *onboarding.ValidationError
	if errors.As(err, &ve) {
		s.renderMembers(w, r, http.StatusUnprocessableEntity, membersExtra{form: map[string]string{"email": email, "role": role}, errs: ve.Fields})
		return
	}
	s.membersDone(w, r, err, views.Toast{Tone: "success", Text: added.Email + " added as " + role})
}

// handleMemberRoleUpdate is POST …/members/{user_id}/role.
func (s *Server) handleMemberRoleUpdate(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	id, err := memberID(r)
	if err == nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
		if perr := r.ParseForm(); perr != nil {
			err = badRequest("The form could not be read.")
		}
	}
	role := r.PostForm.Get("role")
	if err == nil {
		err = s.deps.Members.ChangeRole(r.Context(), m, id, access.Role(role))
	}
	s.membersDone(w, r, err, views.Toast{Tone: "success", Text: "Role changed to " + role})
}

// handleMemberDelete is POST …/members/{user_id}/remove (the page asks first).
func (s *Server) handleMemberDelete(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	id, err := memberID(r)
	if err == nil {
		err = s.deps.Members.Remove(r.Context(), m, id)
	}
	if err == nil && id == m.User.ID {
		// Removing yourself: the workspace is gone for you.
		s.flash(r, views.Toast{Tone: "info", Text: "You left " + m.WorkspaceName})
		http.Redirect(w, r, "/admin", http.StatusSeeOther)
		return
	}
	s.membersDone(w, r, err, views.Toast{Tone: "success", Text: "Member removed"})
}

// membersDone answers a members write: back to the page with a toast (303), a blocked
// change (the last owner) as the page with the reason, anything else as an error page.
func (s *Server) membersDone(w http.ResponseWriter, r *http.Request, err error, done views.Toast) {
	m, _ := memberFrom(r.Context())
	var be *onboarding.BlockedError
	switch {
	case err == nil:
		s.flash(r, done)
		http.Redirect(w, r, "/admin/workspaces/"+m.Workspace+"/members", http.StatusSeeOther)
	case errors.As(err, &be) && be.Code == membership.ReasonLastOwner:
		s.renderMembers(w, r, http.StatusConflict, membersExtra{errs: map[string]string{"": views.ReasonText(string(be.Code))}})
	case errors.As(err, &be) && (be.Code == invitation.ReasonAccepted || be.Code == invitation.ReasonRevoked):
		s.renderMembers(w, r, http.StatusConflict, membersExtra{errs: map[string]string{"invitations": views.ReasonText(string(be.Code))}})
	default:
		s.error(w, r, err)
	}
}

// membersExtra is what a members page shows besides the lists: a refused form's values and
// messages, or the invitation just made.
type membersExtra struct {
	form, errs map[string]string
	invited    *views.InviteNotice
}

func (s *Server) renderMembers(w http.ResponseWriter, r *http.Request, status int, x membersExtra) {
	m, _ := memberFrom(r.Context())
	list, err := s.deps.Members.List(r.Context(), m)
	if err != nil {
		s.error(w, r, err)
		return
	}
	invs, err := s.deps.Invitations.List(r.Context(), m)
	if err != nil {
		s.error(w, r, err)
		return
	}
	d := views.MembersPageData{Workspace: m.Workspace, Form: x.form, Errors: x.errs, Invited: x.invited, Mails: s.deps.Invitations.Mails()}
	for _, x := range list {
		d.Members = append(d.Members, views.MemberRow{UserID: x.UserID, Email: x.Email, Name: x.Name,
			Role: string(x.Role), Since: x.Since, Self: x.UserID == m.User.ID})
	}
	now := time.Now()
	for _, i := range invs {
		d.Invitations = append(d.Invitations, views.InvitationRow{ID: i.ID, Email: i.Email, Role: string(i.Role),
			InvitedBy: i.InvitedBy, CreatedAt: i.CreatedAt, ExpiresAt: i.ExpiresAt, Expired: i.State(now) == invitation.StateExpired})
	}
	nav := s.navFor(r)
	nav.Section = "members"
	var toasts []views.Toast
	if status == http.StatusOK {
		toasts = s.popToasts(r)
	}
	if x.errs != nil && x.errs[""] != "" {
		toasts = append(toasts, views.Toast{Tone: "danger", Text: x.errs[""]})
	}
	s.render(w, r, status, views.MembersPage(nav, d, toasts))
}

// memberID reads {user_id}: a positive integer, else the same 404 as an unknown member.
func memberID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "user_id"), 10, 64)
	if err != nil || id < 1 {
		return 0, fault.ErrNotFound
	}
	return id, nil
}
