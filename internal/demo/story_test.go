package demo

import (
	"context"
	"log/slog"
	"testing"

	"github.com/tenantops/onboard/internal/postgres/pgtest"
)

// TestStory: the story leaves six acme onboardings, one in each state it tells, and running
// it again adds nothing. (cmd/onboard's TestDemoStory checks the same through the app.)
func TestStory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDemo(t)
	key := make([]byte, 32)
	states := func() string {
		t.Helper()
		var s string
		if err := db.Pool.QueryRow(ctx, `SELECT coalesce(string_agg(display_name || ':' || lifecycle_state, ',' ORDER BY display_name), '')
			FROM managed_tenant_onboarding_sessions`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	for range 2 {
		if err := Story(ctx, db, key, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
		want := "Adatum:completed,Contoso Ltd:ready_for_activation,Fabrikam:action_required,Northwind Traders:draft,Tailspin Toys:completed,Woodgrove Bank:cancelled"
		if got := states(); got != want {
			t.Fatalf("drafts = %q, want %q", got, want)
		}
	}
}
