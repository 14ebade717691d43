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

// TestAuthorizerMayWatch: the audit topic is for the cohorts that may read the audit log
// (owners); the other topics for every cohort that may view.
func TestAuthorizerMayWatch(t *testing.T) {
	t.Parallel()
	a := Authorizer{}
	for _, tc := range []struct {
		cohort, topic string
		want          bool
	}{
		{"owner", "audit:1", true},
		{"operator", "audit:1", false},
		{"viewer", "audit:1", false},
		{"viewer", "drafts:1", true},
		{"viewer", "runs:1", true},
		{"operator", "0b0e5f3a-6f6e-4c1a-9d57-2b1f5d8e7c11", true},
	} {
		if got := a.MayWatch(tc.cohort, tc.topic); got != tc.want {
			t.Errorf("MayWatch(%q, %q) = %v, want %v", tc.cohort, tc.topic, got, tc.want)
		}
	}
}
