package presenter

import (
	"testing"

	"github.com/tenantops/onboard/internal/live"
	"github.com/tenantops/onboard/internal/onboarding"
)

// TestViewSteps: the live view grammar's checkpoint steps are the wizard's.
func TestViewSteps(t *testing.T) {
	t.Parallel()
	if live.Steps != onboarding.Steps {
		t.Fatalf("live.Steps = %d, onboarding.Steps = %d: a tab's step view would be refused or unknown", live.Steps, onboarding.Steps)
	}
}
