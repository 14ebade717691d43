package live

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestPace: the burst passes at once; past it a load waits for its token; a load given up on
// (its context ended) gives its token back; no rate paces nothing.
func TestPace(t *testing.T) {
	t.Parallel()
	p := newPace(1, 2) // one token a second, two at once
	for i := range 2 {
		if err := p.wait(context.Background()); err != nil || p.waitedTotal() != 0 {
			t.Fatalf("load %d of the burst: err %v, waited %v; want at once", i+1, err, p.waitedTotal())
		}
	}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range 3 { // each gives its token back, so none is behind another
		if err := p.wait(gone); !errors.Is(err, context.Canceled) {
			t.Fatalf("a load past the burst whose context ended: %v, want context.Canceled", err)
		}
		if p.tokens < -0.01 || p.tokens > 0.5 || p.waitedTotal() != 0 {
			t.Fatalf("after %d given-up loads: %.2f tokens, waited %v; want the token back and nothing waited", i+1, p.tokens, p.waitedTotal())
		}
	}
	// A load past the burst waits about a second for its token (bounded here by a context that
	// ends first, so the test does not wait it out).
	ctx, stop := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer stop()
	if err := p.wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a load past the burst, within 20 ms: %v, want it still waiting", err)
	}

	var none *pace
	free := newPace(0, 1)
	for range 100 {
		if none.wait(context.Background()) != nil || free.wait(gone) != nil {
			t.Fatal("no pace, or a rate of 0, must never wait")
		}
	}
}

// TestSubscribeLoadsPaced: the snapshot loads of Subscribes take the pace's tokens; past the
// burst, a Subscribe's load waits (Stats.LoadPaceWait).
func TestSubscribeLoadsPaced(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{LoadRate: 1000, LoadBurst: 1})
	for _, id := range []string{"d1", "d2", "d3"} {
		f.src.put(id, 1, 5)
	}
	f.auth.set(1, 1, "operator")
	f.hub.Resync()
	f.subscribe(t, 1, Subscription{Target: "d1"})
	if w := f.hub.Stats().LoadPaceWait; w != 0 {
		t.Fatalf("the burst's load waited %v", w)
	}
	f.subscribe(t, 1, Subscription{Target: "d2"})
	f.subscribe(t, 1, Subscription{Target: "d3"})
	if w := f.hub.Stats().LoadPaceWait; w <= 0 {
		t.Fatalf("loads past the burst waited %v, want their tokens' time", w)
	}
}
