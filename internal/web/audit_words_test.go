package web

import (
	"testing"

	"github.com/tenantops/onboard/views"
)

// TestRunTypeName: the audit log names runs with the operations list's words, bootstrap
// operations marked as such.
func TestRunTypeName(t *testing.T) {
	for typ, want := range map[string]string{
		"verify_access":               views.RunTypeText("verify_access"),
		"bootstrap.policy_sync":       "Bootstrap: " + views.RunTypeText("bootstrap.policy_sync"),
		"bootstrap.baseline_snapshot": "Bootstrap: Baseline snapshot",
	} {
		if got := runTypeName(typ); got != want {
			t.Errorf("runTypeName(%q) = %q, want %q", typ, got, want)
		}
	}
}
