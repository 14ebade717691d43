// Package membership is the members of a workspace as owners manage them: list, add an
// existing user by email, change a role, remove. Every change is one transaction that locks
// the workspace's memberships (so "the last owner stays" holds under concurrent owners) and
// writes an audit entry. Removing a member or changing a role ends what they may see: the
// membership trigger notifies the live layer, which re-checks open streams.
package membership

import (
	"context"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/onboarding"
)

// Member is one member of a workspace.
type Member struct {
	UserID      int64
	Email, Name string
	Role        access.Role
	Since       time.Time
}

// Audit actions of membership changes (subject: the user).
const (
	ActionAdded       = "workspace.member.added"
	ActionRoleChanged = "workspace.member.role_changed"
	ActionRemoved     = "workspace.member.removed"
	SubjectUser       = "user"
)

// ReasonLastOwner refuses a change that would leave the workspace without an owner.
const ReasonLastOwner onboarding.ReasonCode = "last_owner"

// Store is what the Service needs from persistence. *postgres.Store implements it.
type Store interface {
	// Members lists the workspace's members by email.
	Members(ctx context.Context, workspaceID int64) ([]Member, error)
	// WithMembersTx runs fn in one transaction.
	WithMembersTx(ctx context.Context, fn func(Tx) error) error
}

// Tx is one transaction of the Store.
type Tx interface {
	// LockMembers lists the workspace's members and locks their rows until the end of the
	// transaction (and the workspace row, so an insert waits too).
	LockMembers(ctx context.Context, workspaceID int64) ([]Member, error)
	// UserByEmail finds a user by email (case-insensitive); fault.ErrNotFound when none.
	UserByEmail(ctx context.Context, email string) (access.User, error)
	// SetRole inserts or updates a membership.
	SetRole(ctx context.Context, workspaceID, userID int64, role access.Role, now time.Time) error
	// Remove deletes a membership.
	Remove(ctx context.Context, workspaceID, userID int64) error
	// Audit appends one workspace audit entry.
	Audit(ctx context.Context, e onboarding.AuditEntry) error
}

// Service manages a workspace's members.
type Service struct {
	store Store
	clock func() time.Time
}

// NewService returns a Service over store; clock gives each transaction's now.
func NewService(store Store, clock func() time.Time) *Service {
	if clock == nil {
		clock = time.Now
	}
	return &Service{store: store, clock: clock}
}

// List returns the workspace's members; only members who may manage members see it.
func (s *Service) List(ctx context.Context, m access.Member) ([]Member, error) {
	if !m.Can(access.MembersManage) {
		return nil, fault.ErrForbidden
	}
	return s.store.Members(ctx, m.WorkspaceID)
}

// Add makes the existing user with email a member with role. An unknown email or a user who
// is already a member is invalid input (the form says which).
func (s *Service) Add(ctx context.Context, m access.Member, email string, role access.Role) (Member, error) {
	if !m.Can(access.MembersManage) {
		return Member{}, fault.ErrForbidden
	}
	email, err := CheckEmailRole(email, role, "email", "role")
	if err != nil {
		return Member{}, err
	}
	var v onboarding.ValidationError
	var out Member
	err = s.store.WithMembersTx(ctx, func(tx Tx) error {
		members, err := tx.LockMembers(ctx, m.WorkspaceID)
		if err != nil {
			return err
		}
		u, err := tx.UserByEmail(ctx, email)
		if err != nil {
			if err == fault.ErrNotFound {
				v.Add("email", "no user has this email: invite them with “Invite someone new” below")
				return v.Err()
			}
			return err
		}
		for _, x := range members {
			if x.UserID == u.ID {
				v.Add("email", "is already a member (as "+string(x.Role)+")")
				return v.Err()
			}
		}
		now := s.clock()
		if err := tx.SetRole(ctx, m.WorkspaceID, u.ID, role, now); err != nil {
			return err
		}
		out = Member{UserID: u.ID, Email: u.Email, Name: u.Name, Role: role, Since: now}
		return audit(ctx, tx, m, ActionAdded, u.ID, map[string]any{"email": u.Email, "role": string(role)}, now)
	})
	return out, err
}

// CheckEmailRole normalises email (trimmed, lower case) and checks it is one plain address
// and role a role: a *ValidationError names emailField or roleField otherwise. Adding a member
// and inviting one check the same.
func CheckEmailRole(email string, role access.Role, emailField, roleField string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	var v onboarding.ValidationError
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
		v.Add(emailField, "must be an email address")
	}
	if _, err := access.ParseRole(string(role)); err != nil {
		v.Add(roleField, "must be owner, operator or viewer")
	}
	return email, v.Err()
}

// ChangeRole sets a member's role. The last owner cannot be demoted (409 last_owner).
func (s *Service) ChangeRole(ctx context.Context, m access.Member, userID int64, role access.Role) error {
	if !m.Can(access.MembersManage) {
		return fault.ErrForbidden
	}
	if _, err := access.ParseRole(string(role)); err != nil {
		var v onboarding.ValidationError
		v.Add("role", "must be owner, operator or viewer")
		return v.Err()
	}
	return s.store.WithMembersTx(ctx, func(tx Tx) error {
		members, err := tx.LockMembers(ctx, m.WorkspaceID)
		if err != nil {
			return err
		}
		cur, ok := find(members, userID)
		if !ok {
			return fault.ErrNotFound
		}
		if cur.Role == role {
			return nil
		}
		if cur.Role == access.RoleOwner && owners(members) == 1 {
			return &onboarding.BlockedError{Code: ReasonLastOwner}
		}
		now := s.clock()
		if err := tx.SetRole(ctx, m.WorkspaceID, userID, role, now); err != nil {
			return err
		}
		return audit(ctx, tx, m, ActionRoleChanged, userID, map[string]any{
			"email": cur.Email, "fields": map[string]any{"role": map[string]any{"old": string(cur.Role), "new": string(role)}}}, now)
	})
}

// Remove ends a membership. The last owner cannot be removed (409 last_owner).
func (s *Service) Remove(ctx context.Context, m access.Member, userID int64) error {
	if !m.Can(access.MembersManage) {
		return fault.ErrForbidden
	}
	return s.store.WithMembersTx(ctx, func(tx Tx) error {
		members, err := tx.LockMembers(ctx, m.WorkspaceID)
		if err != nil {
			return err
		}
		cur, ok := find(members, userID)
		if !ok {
			return fault.ErrNotFound
		}
		if cur.Role == access.RoleOwner && owners(members) == 1 {
			return &onboarding.BlockedError{Code: ReasonLastOwner}
		}
		if err := tx.Remove(ctx, m.WorkspaceID, userID); err != nil {
			return err
		}
		return audit(ctx, tx, m, ActionRemoved, userID, map[string]any{"email": cur.Email, "role": string(cur.Role)}, s.clock())
	})
}

func audit(ctx context.Context, tx Tx, m access.Member, action string, userID int64, meta map[string]any, now time.Time) error {
	return tx.Audit(ctx, onboarding.AuditEntry{WorkspaceID: m.WorkspaceID, ActorID: m.User.ID, Action: action,
		SubjectType: SubjectUser, SubjectID: strconv.FormatInt(userID, 10), Metadata: meta, At: now})
}

func find(ms []Member, userID int64) (Member, bool) {
	for _, x := range ms {
		if x.UserID == userID {
			return x, true
		}
	}
	return Member{}, false
}

func owners(ms []Member) int {
	n := 0
	for _, x := range ms {
		if x.Role == access.RoleOwner {
			n++
		}
	}
	return n
}
