// Package invitation lets an owner invite someone who has no account yet: the invitee gets a
// one-time link to set a password and join the workspace with the role the owner chose. The
// link carries a random token (32 bytes); only its SHA-256 digest is stored, so the token
// leaves the server once — in the email, or shown to the owner once when no mail is
// configured — and is never logged or stored. An invitation expires after Lifetime, works
// once, and owners may revoke it while it is pending. Every change is audited.
package invitation

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/account"
	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/membership"
	"github.com/tenantops/onboard/internal/onboarding"
)

// Lifetime is how long an invitation link works.
const Lifetime = 7 * 24 * time.Hour

// Audit actions (subject: the invitation).
const (
	ActionCreated     = "workspace.invitation.created"
	ActionRevoked     = "workspace.invitation.revoked"
	ActionAccepted    = "workspace.invitation.accepted"
	SubjectInvitation = "invitation"
)

// Reason codes of a revoke refused because the invitation is no longer pending.
const (
	ReasonAccepted onboarding.ReasonCode = "invitation_accepted"
	ReasonRevoked  onboarding.ReasonCode = "invitation_revoked"
)

// States of an invitation.
const (
	StatePending  = "pending"
	StateExpired  = "expired"
	StateAccepted = "accepted"
	StateRevoked  = "revoked"
)

// Invitation is one invitation, never with its token.
type Invitation struct {
	ID                       int64
	WorkspaceID              int64
	Workspace, WorkspaceName string // slug and name
	Email                    string
	Role                     access.Role
	InvitedBy                string // the inviting owner's email ("" once that account is gone)
	CreatedAt, ExpiresAt     time.Time
	AcceptedAt, RevokedAt    time.Time // zero: not (yet)
}

// State is the invitation's state at now.
func (i Invitation) State(now time.Time) string {
	switch {
	case !i.AcceptedAt.IsZero():
		return StateAccepted
	case !i.RevokedAt.IsZero():
		return StateRevoked
	case !now.Before(i.ExpiresAt):
		return StateExpired
	}
	return StatePending
}

// UnusableError refuses a link whose invitation is expired, accepted or revoked: it changes
// nothing and says which.
type UnusableError struct {
	Invitation Invitation
	State      string
}

func (e *UnusableError) Error() string { return "invitation " + e.State }

// Unwrap makes errors.Is(err, fault.ErrGone) hold.
func (e *UnusableError) Unwrap() error { return fault.ErrGone }

// Store is what the Service needs from persistence. *postgres.Store implements it.
type Store interface {
	// Invitations lists the workspace's invitations that are neither accepted nor revoked
	// (expired ones included), newest first.
	Invitations(ctx context.Context, workspaceID int64) ([]Invitation, error)
	// WithInvitationsTx runs fn in one transaction.
	WithInvitationsTx(ctx context.Context, fn func(Tx) error) error
}

// Tx is one transaction of the Store.
type Tx interface {
	// LockWorkspace locks the workspace row (the lock membership changes take first), so
	// invitations and member changes of one workspace run one after the other.
	LockWorkspace(ctx context.Context, workspaceID int64) error
	// UserByEmail finds a user by email; fault.ErrNotFound when none.
	UserByEmail(ctx context.Context, email string) (access.User, error)
	// MemberRole is the user's role in the workspace, "" when not a member.
	MemberRole(ctx context.Context, workspaceID, userID int64) (access.Role, error)
	// PendingByEmail is the workspace's invitation of email that is neither accepted nor
	// revoked and has not expired at now; fault.ErrNotFound when none.
	PendingByEmail(ctx context.Context, workspaceID int64, email string, now time.Time) (Invitation, error)
	// Insert stores a new invitation with the token's digest and returns its id.
	Insert(ctx context.Context, inv Invitation, tokenHash []byte, invitedBy int64) (int64, error)
	// LockByID returns the workspace's invitation id and locks it; fault.ErrNotFound when the
	// workspace has none of that id.
	LockByID(ctx context.Context, workspaceID, id int64) (Invitation, error)
	// LockByToken returns the invitation whose token has digest tokenHash and locks it;
	// fault.ErrNotFound when none.
	LockByToken(ctx context.Context, tokenHash []byte) (Invitation, error)
	// Revoke marks the invitation revoked by userID at now.
	Revoke(ctx context.Context, id, userID int64, now time.Time) error
	// CreateUser adds an account and returns it.
	CreateUser(ctx context.Context, email, name, passwordHash string, now time.Time) (access.User, error)
	// AddMember makes the user a member of the workspace with role.
	AddMember(ctx context.Context, workspaceID, userID int64, role access.Role, now time.Time) error
	// MarkAccepted marks the invitation accepted by userID at now.
	MarkAccepted(ctx context.Context, id, userID int64, now time.Time) error
	// Audit appends one workspace audit entry.
	Audit(ctx context.Context, e onboarding.AuditEntry) error
}

// Mailer sends one plain-text email. The smtpmail adapter implements it.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// Service manages invitations.
type Service struct {
	store  Store
	clock  func() time.Time
	hash   func(pw string) (string, error)
	mailer Mailer // nil: no mail; the owner is shown the link
	token  func() (string, error)
}

// NewService returns a Service over store; hash is the password hash (internal/password),
// mailer sends the links (nil: none configured, the owner copies the link).
func NewService(store Store, clock func() time.Time, hash func(string) (string, error), mailer Mailer) *Service {
	if clock == nil {
		clock = time.Now
	}
	return &Service{store: store, clock: clock, hash: hash, mailer: mailer, token: newToken}
}

// Mails reports whether invitations are sent by email.
func (s *Service) Mails() bool { return s.mailer != nil }

// newToken is 32 random bytes, base64url without padding (43 characters).
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// TokenHash is the digest stored for token.
func TokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// validToken reports whether token has the shape newToken gives, so anything else is not
// found before any query.
func validToken(token string) bool {
	if len(token) != 43 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil && len(b) == 32
}

// Path is the page a token's link opens.
func Path(token string) string { return "/admin/invitations/" + token }

// List returns the workspace's invitations that are neither accepted nor revoked; only
// members who may manage members see them.
func (s *Service) List(ctx context.Context, m access.Member) ([]Invitation, error) {
	if !m.Can(access.MembersManage) {
		return nil, fault.ErrForbidden
	}
	return s.store.Invitations(ctx, m.WorkspaceID)
}

// Sent is the outcome of an invitation: the invitation, and how it reaches the invitee.
type Sent struct {
	Invitation Invitation
	// Link is the one-time link when it was not mailed (no mailer, or sending failed): the
	// owner's only chance to copy it. Empty when the email went out.
	Link string
	// MailErr is why sending failed (the invitation stands; Link is set).
	MailErr error
}

// Invite invites email to the workspace with role. base is the link's origin (PUBLIC_URL or
// the request's). An email with an account, an email already invited (pending) and a bad
// address or role are invalid input naming the field.
func (s *Service) Invite(ctx context.Context, m access.Member, email string, role access.Role, base string) (Sent, error) {
	if !m.Can(access.MembersManage) {
		return Sent{}, fault.ErrForbidden
	}
	email, err := membership.CheckEmailRole(email, role, "invite_email", "invite_role")
	if err != nil {
		return Sent{}, err
	}
	var v onboarding.ValidationError
	token, err := s.token()
	if err != nil {
		return Sent{}, err
	}
	var inv Invitation
	err = s.store.WithInvitationsTx(ctx, func(tx Tx) error {
		if err := tx.LockWorkspace(ctx, m.WorkspaceID); err != nil {
			return err
		}
		if u, err := tx.UserByEmail(ctx, email); err == nil {
			role, err := tx.MemberRole(ctx, m.WorkspaceID, u.ID)
			if err != nil {
				return err
			}
			if role != "" {
				v.Add("invite_email", "is already a member (as "+string(role)+")")
			} else {
				v.Add("invite_email", "already has an account: add them with “Add a member” above")
			}
			return v.Err()
		} else if !errors.Is(err, fault.ErrNotFound) {
			return err
		}
		now := s.clock()
		if p, err := tx.PendingByEmail(ctx, m.WorkspaceID, email, now); err == nil {
			v.Add("invite_email", "was already invited on "+p.CreatedAt.UTC().Format("2006-01-02")+
				" (the link works until "+p.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC")+"): revoke that invitation below to send a new one")
			return v.Err()
		} else if !errors.Is(err, fault.ErrNotFound) {
			return err
		}
		inv = Invitation{WorkspaceID: m.WorkspaceID, Workspace: m.Workspace, WorkspaceName: m.WorkspaceName, Email: email,
			Role: role, InvitedBy: m.User.Email, CreatedAt: now, ExpiresAt: now.Add(Lifetime)}
		if inv.ID, err = tx.Insert(ctx, inv, TokenHash(token), m.User.ID); err != nil {
			return err
		}
		return tx.Audit(ctx, entry(m.WorkspaceID, m.User.ID, ActionCreated, inv, now))
	})
	if err != nil {
		return Sent{}, err
	}
	link := strings.TrimRight(base, "/") + Path(token)
	out := Sent{Invitation: inv}
	if s.mailer == nil {
		out.Link = link
		return out, nil
	}
	// After the commit: a mail server that is slow or down must not hold the workspace lock,
	// and a failed send leaves a valid invitation whose link the owner is shown instead.
	subject, body := message(inv, link)
	if err := s.mailer.Send(ctx, email, subject, body); err != nil {
		out.Link, out.MailErr = link, err
	}
	return out, nil
}

// message is the invitation email.
func message(inv Invitation, link string) (subject, body string) {
	subject = "You are invited to " + inv.WorkspaceName + " (tenant onboarding)"
	var b strings.Builder
	fmt.Fprintf(&b, "Hello,\r\n\r\n%s invited you to the workspace %s of the tenant onboarding console, as %s.\r\n\r\n",
		inv.InvitedBy, inv.WorkspaceName, inv.Role)
	fmt.Fprintf(&b, "Set your password and join:\r\n%s\r\n\r\n", link)
	fmt.Fprintf(&b, "The link works once, until %s. If you did not expect this invitation, ignore this email.\r\n",
		inv.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC"))
	return subject, b.String()
}

// Revoke ends a pending (or expired) invitation: its link stops working.
func (s *Service) Revoke(ctx context.Context, m access.Member, id int64) (Invitation, error) {
	if !m.Can(access.MembersManage) {
		return Invitation{}, fault.ErrForbidden
	}
	var inv Invitation
	err := s.store.WithInvitationsTx(ctx, func(tx Tx) error {
		var err error
		if inv, err = tx.LockByID(ctx, m.WorkspaceID, id); err != nil {
			return err
		}
		now := s.clock()
		switch inv.State(now) {
		case StateAccepted:
			return &onboarding.BlockedError{Code: ReasonAccepted}
		case StateRevoked:
			return &onboarding.BlockedError{Code: ReasonRevoked}
		}
		if err := tx.Revoke(ctx, id, m.User.ID, now); err != nil {
			return err
		}
		return tx.Audit(ctx, entry(m.WorkspaceID, m.User.ID, ActionRevoked, inv, now))
	})
	return inv, err
}

// Open reads the invitation of a link for its page: fault.ErrNotFound for a token of
// nothing, *UnusableError for one that is expired, accepted or revoked.
func (s *Service) Open(ctx context.Context, token string) (Invitation, error) {
	var inv Invitation
	err := s.store.WithInvitationsTx(ctx, func(tx Tx) error {
		var err error
		inv, err = s.usable(ctx, tx, token)
		return err
	})
	return inv, err
}

func (s *Service) usable(ctx context.Context, tx Tx, token string) (Invitation, error) {
	if !validToken(token) {
		return Invitation{}, fault.ErrNotFound
	}
	inv, err := tx.LockByToken(ctx, TokenHash(token))
	if err != nil {
		return Invitation{}, err
	}
	if st := inv.State(s.clock()); st != StatePending {
		return Invitation{}, &UnusableError{Invitation: inv, State: st}
	}
	return inv, nil
}

// Acceptance is what the invitee sends: their name (optional) and password, twice.
type Acceptance struct {
	Name, Password, Confirm string
}

// MaxNameLength bounds the invitee's name.
const MaxNameLength = 200

// Accept creates the invitee's account with the password, makes them a member with the
// invited role and uses up the invitation, in one transaction; it returns the new user. A
// token of nothing is fault.ErrNotFound; an unusable invitation *UnusableError; a password
// that breaks the rules (the same as a changed password's) or an email that has meanwhile
// got an account are invalid input.
func (s *Service) Accept(ctx context.Context, token string, a Acceptance) (access.User, Invitation, error) {
	inv, err := s.Open(ctx, token)
	if err != nil {
		return access.User{}, Invitation{}, err
	}
	a.Name = strings.TrimSpace(a.Name)
	var v onboarding.ValidationError
	if utf8.RuneCountInString(a.Name) > MaxNameLength || !utf8.ValidString(a.Name) || strings.ContainsRune(a.Name, 0) {
		v.Add("name", "must be at most 200 characters of text")
	}
	if err := account.CheckNewPassword(inv.Email, a.Password, a.Confirm); err != nil {
		var pv *onboarding.ValidationError
		if errors.As(err, &pv) {
			v.Merge(pv)
		}
	}
	if err := v.Err(); err != nil {
		return access.User{}, inv, err
	}
	// Hash before the transaction: argon2id takes tens of milliseconds and the row lock
	// should not wait for it.
	hash, err := s.hash(a.Password)
	if err != nil {
		return access.User{}, inv, err
	}
	var u access.User
	err = s.store.WithInvitationsTx(ctx, func(tx Tx) error {
		// Read again under the lock: another tab may have used or the owner revoked it
		// since Open.
		inv, err = s.usable(ctx, tx, token)
		if err != nil {
			return err
		}
		if err := tx.LockWorkspace(ctx, inv.WorkspaceID); err != nil {
			return err
		}
		if _, err := tx.UserByEmail(ctx, inv.Email); err == nil {
			v.Add("", "An account with "+inv.Email+" exists already: sign in with it and ask an owner of "+inv.WorkspaceName+" to add you.")
			return v.Err()
		} else if !errors.Is(err, fault.ErrNotFound) {
			return err
		}
		now := s.clock()
		if u, err = tx.CreateUser(ctx, inv.Email, a.Name, hash, now); err != nil {
			return err
		}
		if err := tx.AddMember(ctx, inv.WorkspaceID, u.ID, inv.Role, now); err != nil {
			return err
		}
		if err := tx.MarkAccepted(ctx, inv.ID, u.ID, now); err != nil {
			return err
		}
		return tx.Audit(ctx, entry(inv.WorkspaceID, u.ID, ActionAccepted, inv, now))
	})
	if err != nil {
		return access.User{}, inv, err
	}
	return u, inv, nil
}

func entry(workspaceID, actorID int64, action string, inv Invitation, now time.Time) onboarding.AuditEntry {
	return onboarding.AuditEntry{WorkspaceID: workspaceID, ActorID: actorID, Action: action, SubjectType: SubjectInvitation,
		SubjectID: strconv.FormatInt(inv.ID, 10), At: now,
		Metadata: map[string]any{"email": inv.Email, "role": string(inv.Role), "expires_at": inv.ExpiresAt.UTC().Format(time.RFC3339)}}
}
