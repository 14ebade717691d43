package livesource

import (
	"context"
	"errors"
	"testing"

	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/postgres/pgtest"
)

// TestAuthorizerCohort: a member's cohort is their role; another workspace is not found.
func TestAuthorizerCohort(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDemo(t)
	a := NewAuthorizer(db)
	owner, _, err := db.UserCredentials(ctx, "owner@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	acme, err := db.Member(ctx, owner, "acme")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, email, want string
		err               error
	}{
		{"Owner", "owner@acme.test", "owner", nil},
		{"Viewer", "viewer@acme.test", "viewer", nil},
		{"ErrNotFound", "owner@globex.test", "", fault.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, _, err := db.UserCredentials(ctx, tc.email)
			if err != nil {
				t.Fatal(err)
			}
			got, err := a.Cohort(ctx, u.ID, acme.WorkspaceID)
			if got != tc.want || !errors.Is(err, tc.err) {
				t.Errorf("Cohort = %q, %v; want %q, %v", got, err, tc.want, tc.err)
			}
		})
	}
}
