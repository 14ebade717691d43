package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/fault"
)

// LiveCohort is the live hub's authorisation: the viewer's permission cohort in workspace, an
// error wrapping fault.ErrNotFound when they are not a member, or fault.ErrForbidden when their
// role lacks the view capability.
func (db *DB) LiveCohort(ctx context.Context, userID, workspaceID int64) (string, error) {
	role, err := db.MemberRole(ctx, userID, workspaceID)
	if errors.Is(err, access.ErrNotMember) {
		return "", fmt.Errorf("user %d in workspace %d: %w", userID, workspaceID, fault.ErrNotFound)
	}
	if err != nil {
		return "", err
	}
	if !access.For(role).Has(access.View) {
		return "", fmt.Errorf("role %s: %w", role, fault.ErrForbidden)
	}
	return access.Cohort(role), nil
}
