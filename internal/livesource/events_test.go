package livesource

import (
	"testing"

	"github.com/tenantops/onboard/internal/postgres"
)

// TestEventKinds: every kind the listener emits reaches the hub under the hub's name.
func TestEventKinds(t *testing.T) {
	t.Parallel()
	for _, k := range []string{postgres.LiveKindDraft, postgres.LiveKindRun, postgres.LiveKindMembership,
		postgres.LiveKindSession, postgres.LiveKindNotification} {
		if got := Event(postgres.LiveEvent{Kind: k}).Kind; got == "" || got != k {
			t.Errorf("Event(%q).Kind = %q, want %q", k, got, k)
		}
	}
}
