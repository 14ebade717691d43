// Package access is the single registry of roles and capabilities: which role of a workspace
// membership may do what. Pages, the JSON API and the live endpoint all ask this package.
package access

import (
	"errors"
	"fmt"
)

// Role is a member's role in a workspace, stored in workspace_memberships.role.
type Role string

// Roles, as stored.
const (
	RoleOwner    Role = "owner"
	RoleOperator Role = "operator"
	RoleViewer   Role = "viewer"
)

// ParseRole returns the role named s, or an error for any other string.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleOwner, RoleOperator, RoleViewer:
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q", s)
}

// Capability is one permission checked by the server.
type Capability string

// Capabilities, the complete list.
const (
	View              Capability = "onboarding.view"
	DraftCreate       Capability = "onboarding.draft.create"
	DraftEdit         Capability = "onboarding.draft.edit"
	VerificationStart Capability = "onboarding.verification.start"
	BootstrapStart    Capability = "onboarding.bootstrap.start"
	Activate          Capability = "onboarding.activate"
	// ActivationRequest asks the owners to activate a ready draft: for those who may not
	// activate it themselves.
	ActivationRequest Capability = "onboarding.activation.request"
	Override          Capability = "onboarding.override"
	Cancel            Capability = "onboarding.cancel"
	AuditView         Capability = "audit.view"
	MembersManage     Capability = "members.manage"
)

// All lists every capability in a stable order.
var All = []Capability{View, DraftCreate, DraftEdit, VerificationStart, BootstrapStart, Activate, ActivationRequest, Override, Cancel, AuditView, MembersManage}

var byRole = map[Role][]Capability{
	// Owners activate themselves: they have every capability but asking for an activation.
	RoleOwner:    {View, DraftCreate, DraftEdit, VerificationStart, BootstrapStart, Activate, Override, Cancel, AuditView, MembersManage},
	RoleOperator: {View, DraftCreate, DraftEdit, VerificationStart, BootstrapStart, ActivationRequest},
	RoleViewer:   {View},
}

// Set is the capabilities one member holds.
type Set map[Capability]bool

// For returns the capabilities of role; an unknown role has none.
func For(r Role) Set {
	s := Set{}
	for _, c := range byRole[r] {
		s[c] = true
	}
	return s
}

// Has reports whether the set holds c.
func (s Set) Has(c Capability) bool { return s[c] }

// Cohort names the permission cohort of a role: members whose capabilities are identical see
// identical fragments, so the live hub renders once per cohort. Today a cohort is the role.
func Cohort(r Role) string { return string(r) }

// ErrNotMember is returned when a user is not a member of a workspace, or the workspace does
// not exist: callers must not be able to tell the two apart (both are 404).
var ErrNotMember = errors.New("not a member of this workspace")

// ErrCannotView is returned by MayView when the member's role lacks the view capability
// (403: the draft is known to be there).
var ErrCannotView = errors.New("role may not view onboardings")

// MayView is the one "who may view this draft" rule, for pages, the JSON API, the live hub and
// the poll fallback alike: m may view a draft of workspace workspaceID when it is m's own
// workspace and m's role holds View. Otherwise it returns ErrNotMember (another workspace's
// draft reads as an unknown one: 404) or ErrCannotView (403).
func MayView(m Member, workspaceID int64) error {
	if m.WorkspaceID != workspaceID {
		return ErrNotMember
	}
	if !m.Can(View) {
		return ErrCannotView
	}
	return nil
}

// User is an operator who can sign in.
type User struct {
	ID    int64
	Email string
	Name  string
}

// Member is a user's membership of one workspace, with the capabilities its role grants.
type Member struct {
	User          User
	WorkspaceID   int64
	Workspace     string // slug
	WorkspaceName string
	Role          Role
}

// Can reports whether the member holds capability c.
func (m Member) Can(c Capability) bool { return For(m.Role).Has(c) }

// Caps returns the member's capability set.
func (m Member) Caps() Set { return For(m.Role) }
