package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/membership"
	"github.com/tenantops/onboard/internal/onboarding"
)

func memberRoles(t *testing.T, svc *membership.Service, m access.Member) map[string]access.Role {
	t.Helper()
	list, err := svc.List(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]access.Role{}
	for _, x := range list {
		out[x.Email] = x.Role
	}
	return out
}

// TestMembers: owners list, add, re-role and remove members, audited; others may not; the
// last owner stays, even when two owners demote each other at the same time.
func TestMembers(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	svc := membership.NewService(f.store, f.clock.Now)

	t.Run("ErrForbidden", func(t *testing.T) {
		for _, m := range []access.Member{f.operator, f.viewer} {
			if _, err := svc.List(ctx, m); !errors.Is(err, fault.ErrForbidden) {
				t.Errorf("List as %s = %v, want forbidden", m.Role, err)
			}
			if err := svc.Remove(ctx, m, f.viewer.User.ID); !errors.Is(err, fault.ErrForbidden) {
				t.Errorf("Remove as %s = %v, want forbidden", m.Role, err)
			}
		}
	})

	t.Run("AddChangeRemove", func(t *testing.T) {
		// globex's owner has an account: acme's owner adds them as a viewer.
		if _, err := svc.Add(ctx, f.owner, "Owner@Globex.test ", access.RoleViewer); err != nil {
			t.Fatalf("Add: %v", err)
		}
		for _, tc := range []struct{ email, field string }{{"nobody@acme.test", "email"}, {"owner@globex.test", "email"}, {"not an email", "email"}} {
			_, err := svc.Add(ctx, f.owner, tc.email, access.RoleOperator)
			var ve *onboarding.ValidationError
			if !errors.As(err, &ve) || ve.Fields[tc.field] == "" {
				t.Errorf("Add(%q) = %v, want a validation error on %s", tc.email, err, tc.field)
			}
		}
		if err := svc.ChangeRole(ctx, f.owner, f.globex.User.ID, access.RoleOperator); err != nil {
			t.Fatalf("ChangeRole: %v", err)
		}
		if got := memberRoles(t, svc, f.owner)["owner@globex.test"]; got != access.RoleOperator {
			t.Errorf("role after change = %q, want operator", got)
		}
		if err := svc.Remove(ctx, f.owner, f.globex.User.ID); err != nil {
			t.Fatalf("Remove: %v", err)
		}
		if _, ok := memberRoles(t, svc, f.owner)["owner@globex.test"]; ok {
			t.Error("removed member still listed")
		}
		if err := svc.Remove(ctx, f.owner, f.globex.User.ID); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("removing a non-member = %v, want not found", err)
		}
		var n int
		if err := f.store.Pool.QueryRow(ctx, `SELECT count(*) FROM workspace_audit_log WHERE action LIKE 'workspace.member.%' AND actor_id = $1`, f.owner.User.ID).Scan(&n); err != nil || n != 3 {
			t.Errorf("membership audit rows = %d, %v; want 3", n, err)
		}
	})

	t.Run("LastOwnerStays", func(t *testing.T) {
		var be *onboarding.BlockedError
		if err := svc.ChangeRole(ctx, f.owner, f.owner.User.ID, access.RoleViewer); !errors.As(err, &be) || be.Code != membership.ReasonLastOwner {
			t.Errorf("demoting the last owner = %v, want last_owner", err)
		}
		if err := svc.Remove(ctx, f.owner, f.owner.User.ID); !errors.As(err, &be) || be.Code != membership.ReasonLastOwner {
			t.Errorf("removing the last owner = %v, want last_owner", err)
		}
		// Two owners demote each other at once: the workspace lock orders them, so exactly
		// one succeeds and one owner remains.
		if err := svc.ChangeRole(ctx, f.owner, f.operator.User.ID, access.RoleOwner); err != nil {
			t.Fatal(err)
		}
		second := f.operator
		second.Role = access.RoleOwner
		var wg sync.WaitGroup
		errs := make([]error, 2)
		wg.Go(func() { errs[0] = svc.ChangeRole(ctx, f.owner, second.User.ID, access.RoleOperator) })
		wg.Go(func() { errs[1] = svc.ChangeRole(ctx, second, f.owner.User.ID, access.RoleOperator) })
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Errorf("concurrent demotions = %v, %v; want exactly one refused", errs[0], errs[1])
		}
		owners := 0
		for _, r := range memberRoles(t, svc, f.viewerAsOwner()) {
			if r == access.RoleOwner {
				owners++
			}
		}
		if owners != 1 {
			t.Errorf("owners after concurrent demotions = %d, want 1", owners)
		}
	})
}

// viewerAsOwner is a member value with the owner's capabilities in acme, for reading.
func (f *fixture) viewerAsOwner() access.Member {
	m := f.viewer
	m.Role = access.RoleOwner
	return m
}
