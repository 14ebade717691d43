package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/invitation"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/views"
)

// InvitationService invites people without an account to a workspace (invitation.Service).
type InvitationService interface {
	List(ctx context.Context, m access.Member) ([]invitation.Invitation, error)
	Invite(ctx context.Context, m access.Member, email string, role access.Role, base string) (invitation.Sent, error)
	Revoke(ctx context.Context, m access.Member, id int64) (invitation.Invitation, error)
	Open(ctx context.Context, token string) (invitation.Invitation, error)
	Accept(ctx context.Context, token string, a invitation.Acceptance) (access.User, invitation.Invitation, error)
	Mails() bool
}

// handleInvitationCreate is POST …/members/invitations: invite an email that has no account.
// The answer is the members page itself (200), not a redirect: when the link was not mailed
// it is shown there once, and a redirect would have to keep it in the session.
func (s *Server) handleInvitationCreate(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		s.error(w, r, badRequest("The form could not be read."))
		return
	}
	email, role := r.PostForm.Get("invite_email"), r.PostForm.Get("invite_role")
	sent, err := s.deps.Invitations.Invite(r.Context(), m, email, access.Role(role), s.linkBase(r))
	var ve *onboarding.ValidationError
	switch {
	case errors.As(err, &ve):
		s.renderMembers(w, r, http.StatusUnprocessableEntity, membersExtra{form: map[string]string{"invite_email": email, "invite_role": role}, errs: ve.Fields})
		return
	case err != nil:
		s.error(w, r, err)
		return
	}
	inv := sent.Invitation
	notice := &views.InviteNotice{Email: inv.Email, Role: string(inv.Role), Link: sent.Link, Expires: inv.ExpiresAt, MailFailed: sent.MailErr != nil}
	if sent.MailErr != nil {
		// The error says what the mail server answered; it never holds the message.
		s.log.ErrorContext(r.Context(), "invitation email not sent", "invitation_id", inv.ID, "err", sent.MailErr)
	}
	s.log.InfoContext(r.Context(), "invitation created", "invitation_id", inv.ID, "mailed", sent.Link == "")
	s.renderMembers(w, r, http.StatusOK, membersExtra{invited: notice})
}

// linkBase is the origin invitation links start with: PUBLIC_URL when set, else the one the
// owner's own request came to.
func (s *Server) linkBase(r *http.Request) string {
	if s.cfg.PublicOrigin != "" {
		return s.cfg.PublicOrigin
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
