package web

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when any goroutine is left running after them: every
// server, socket and limiter a test starts must be stopped by it. The one exception is scs's:
// scs.New starts a cleanup goroutine for its default in-memory store that nothing can stop.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/alexedwards/scs/v2/memstore.(*MemStore).startCleanup"))
}
