package views

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestViewNamesFromLive: the views name their live fragments with the live package's view
// constants (live.ViewRow, live.ViewRunPrefix, …), the one home of the view grammar, never
// with a spelled-out name the hub's parser could drift from.
func TestViewNamesFromLive(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.templ")
	if err != nil || len(files) == 0 {
		t.Fatalf("no templ files: %v", err)
	}
	spelled := regexp.MustCompile(`data-live="[^"]+"|data-live=\{ "`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range spelled.FindAll(b, -1) {
			t.Errorf("%s: %s spells a view name; use the live package's constant", f, m)
		}
	}
}
