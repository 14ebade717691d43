package worker

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when any goroutine is left running after them: every
// test stops its workers (River clients, progress writers, reconcilers) and pools.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
