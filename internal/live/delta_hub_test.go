package live

import (
	"bytes"
	"testing"
)

// TestDeltas: a subscription that applies deltas gets a full fragment first, then only the
// regions that changed, each delta based on the fragment the client read last, also when
// its queued frame was replaced; a cohort change sends the full fragment again. A
// subscription without Deltas gets full fragments only.
func TestDeltas(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	f.src.regions, f.src.pad = true, 2000
	f.src.put("d1", 1, 1)
	f.auth.set(1, 1, "operator")
	f.auth.set(2, 1, "operator")
	c := f.subscribe(t, 1, Subscription{Target: "d1", Rev: 1, Deltas: true})
	plain := f.subscribe(t, 2, Subscription{Target: "d1", Rev: 1})
	change := func(rev int64) {
		f.src.put("d1", 1, rev)
		f.hub.Notify(Event{Kind: KindDraft, DraftID: "d1"})
		f.waitPass(t, "d1")
	}

	change(2)
	held := next(t, c)
	if IsDelta(held) || revOf(t, held) != 2 {
		t.Fatalf("first frame is not the full fragment of rev 2: %s", held)
	}
	if full := next(t, plain); !bytes.Equal(full, held) {
		t.Fatalf("full fragments differ:\n%s\n%s", full, held)
	}
	// expect reads c's next frame: a delta from the fragment of rev base that rebuilds
	// exactly the full fragment plain receives.
	expect := func(base int64) {
		t.Helper()
		d, full := next(t, c), next(t, plain)
		if !IsDelta(d) || len(d) > 300 {
			t.Fatalf("not a small delta (%d bytes): %s", len(d), d)
		}
		got, ok := ApplyDelta(held, d, base)
		if !ok || !bytes.Equal(got, full) {
			t.Fatalf("delta %s on rev %d = %v\n%s\nwant\n%s", d, base, ok, got, full)
		}
		held = got
	}
	change(3)
	expect(2)

	// Two changes while the writer does not read: the queued delta (base 3) is replaced by
	// one from 3 to 5, not from 4 (which the client never read).
	change(4)
	change(5)
	expect(3)
	if b := pending(c); b != nil {
		t.Fatalf("a second frame: %s", b)
	}

	// A new cohort: the same rev rendered for it, in full.
	f.auth.set(1, 1, "viewer")
	f.hub.Notify(Event{Kind: KindMembership, UserID: 1, WorkspaceID: 1})
	b := next(t, c)
	if IsDelta(b) || !bytes.Contains(b, []byte(`data-cohort="viewer"`)) {
		t.Fatalf("after a cohort change: %s", b)
	}
}
