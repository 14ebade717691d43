package presenter

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/tenantops/onboard/internal/live"
	"github.com/tenantops/onboard/internal/onboarding"
)

// TestCheckpointDelta: renaming a draft (what the fanout bench does) changes the summary and
// the forms' version, nothing else, so its delta holds those two regions and is a fraction
// of the fragment; applying it to the older fragment gives the newer one exactly.
func TestCheckpointDelta(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, view string }{{"Connect", "checkpoint"}, {"Identify", "checkpoint:1"}} {
		t.Run(tc.name, func(t *testing.T) {
			render := func(name string, version int64) []byte {
				d, runs, _ := snapshotOf(func(d *onboarding.Draft) {
					d.ProviderConnectionID, d.DisplayName, d.Version, d.Rev = "", name, version, version
				})
				var b bytes.Buffer
				if err := RenderFragment(context.Background(), &b, onboarding.Snapshot{Draft: d, Runs: runs}, tc.view, "owner"); err != nil {
					t.Fatal(err)
				}
				return b.Bytes()
			}
			prev, next := render("Contoso", 3), render("Fabrikam", 4)
			d := live.Delta(prev, next, 3)
			if d == nil {
				t.Fatal("no delta")
			}
			got, ok := live.ApplyDelta(prev, d, 3)
			if !ok || !bytes.Equal(got, next) {
				t.Fatalf("ApplyDelta = %v\n%s\nwant\n%s", ok, got, next)
			}
			regions := strings.Count(string(d), `data-region="`)
			want := []string{`data-region="summary"`, `data-region="versions"`}
			if tc.view == "checkpoint:1" {
				want = append(want, `data-region="panel"`) // the form shows the name
			}
			for _, w := range want {
				if !strings.Contains(string(d), w) {
					t.Errorf("delta lacks %s: %s", w, d)
				}
			}
			if regions != len(want) {
				t.Errorf("delta holds %d regions, want %d: %s", regions, len(want), d)
			}
			t.Logf("%s: full fragment %d bytes, delta %d bytes", tc.view, len(next), len(d))
		})
	}
}

// BenchmarkCheckpointDelta is the per-pass cost of one delta (one per (view, cohort) and
// base, whatever the number of tabs): splitting two real checkpoint fragments into regions
// and comparing them.
func BenchmarkCheckpointDelta(b *testing.B) {
	render := func(name string, version int64) []byte {
		d, runs, _ := snapshotOf(func(d *onboarding.Draft) {
			d.ProviderConnectionID, d.DisplayName, d.Version, d.Rev = "", name, version, version
		})
		var buf bytes.Buffer
		if err := RenderFragment(context.Background(), &buf, onboarding.Snapshot{Draft: d, Runs: runs}, "checkpoint", "owner"); err != nil {
			b.Fatal(err)
		}
		return buf.Bytes()
	}
	prev, next := render("Contoso", 3), render("Fabrikam", 4)
	b.SetBytes(int64(len(next)))
	b.ReportAllocs()
	for b.Loop() {
		if live.Delta(prev, next, 3) == nil {
			b.Fatal("no delta")
		}
	}
}
