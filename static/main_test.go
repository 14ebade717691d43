package static_test

import (
	"os"
	"testing"
)

// TestMain stops the package's Chromium after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	browsers.Close()
	os.Exit(code)
}
