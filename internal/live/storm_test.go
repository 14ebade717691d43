package live

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tenantops/onboard/internal/fault"
)

// stormConn is one client of a storm.
type stormConn struct {
	c     *Client
	user  int64
	draft string
}

// storm runs n concurrent Subscribes; client j (offset+i) is user 1+j%2 on drafts[j%3] with
// rev j%5 (always older than the drafts' rev). during, when set, runs concurrently once
// half of the Subscribes have returned.
func storm(t *testing.T, f *fixture, drafts []string, n, offset int, during func()) []stormConn {
	t.Helper()
	out := make([]stormConn, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	half := make(chan struct{})
	var once sync.Once
	var returned sync.WaitGroup
	returned.Add(n / 2)
	if during != nil {
		wg.Go(func() {
			<-half
			during()
		})
	}
	for i := range n {
		wg.Go(func() {
			j := offset + i
			user, draft := int64(1+j%2), drafts[j%len(drafts)]
			c, err := f.hub.Subscribe(context.Background(), user, []Subscription{{Target: draft, Rev: int64(j % 5)}})
			out[i], errs[i] = stormConn{c, user, draft}, err
			if i < n/2 {
				returned.Done()
			}
		})
	}
	go func() {
		returned.Wait()
		once.Do(func() { close(half) })
	}()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Subscribe %d: %v", offset+i, err)
		}
		t.Cleanup(out[i].c.Close)
	}
	return out
}

var stormCohorts = map[int64]string{1: "operator", 2: "viewer"}

// expectOnly reads frames until one carries rev want and checks the cohort; then nothing
// more may be queued.
func expectOnly(t *testing.T, x stormConn, want int64) {
	t.Helper()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		b, err := x.c.Next(ctx)
		cancel()
		if err != nil {
			t.Fatalf("user %d draft %s (sub rev %d, active %v): no frame of rev %d: %v; stats %+v", x.user, x.draft, x.c.subs[0].rev, x.c.subs[0].active, want, err, x.c.hub.Stats())
		}
		if revOf(t, b) == want {
			break
		}
	}
	if b := pending(x.c); b != nil {
		t.Fatalf("user %d draft %s: extra frame %s", x.user, x.draft, b)
	}
}

func TestSubscribeStorm(t *testing.T) {
	t.Parallel()
	clock := newFakeClock() // the cohort cache never expires during the test
	f := setup(t, Options{RecheckInterval: time.Hour, Clock: clock.now})
	drafts := []string{"d1", "d2", "d3"}
	for _, id := range drafts {
		f.src.put(id, 1, 5)
	}
	for u, c := range stormCohorts {
		f.auth.set(u, 1, c)
	}
	f.hub.Resync() // the listener connected: epoch 1

	first := storm(t, f, drafts, 1000, 0, nil)
	for _, id := range drafts {
		if got := f.src.loadsOf(id); got > 2 {
			t.Errorf("draft %s: %d loads for 1000 subscribes, want ≤ 2", id, got)
		}
	}
	for u := range stormCohorts {
		if got := f.auth.callsOf(u, 1); got > 2 {
			t.Errorf("user %d: %d cohort calls, want ≤ 2", u, got)
		}
	}
	for _, x := range first {
		b := next(t, x.c)
		if revOf(t, b) != 5 || string(cohortRE.FindSubmatch(b)[1]) != stormCohorts[x.user] {
			t.Fatalf("user %d draft %s: frame %s, want rev 5 for %s", x.user, x.draft, b, stormCohorts[x.user])
		}
		if b := pending(x.c); b != nil {
			t.Fatalf("extra frame %s", b)
		}
	}
	st := f.hub.Stats()
	t.Logf("after storm: loads %d (shared %d, reused %d), cohort queries %d (hits %d), renders %d",
		st.Loads, st.LoadsShared, st.Reused, st.CohortQueries, st.CohortHits, st.Renders)
	if st.Renders > 3*2*2 {
		t.Errorf("renders = %d, want ≤ 12 (3 drafts × 2 cohorts, shared)", st.Renders)
	}

	t.Run("ChangeDuringStorm", func(t *testing.T) {
		second := storm(t, f, drafts, 1000, 1000, func() {
			f.src.put("d1", 1, 6)
			f.hub.Notify(Event{Kind: KindDraft, DraftID: "d1"})
		})
		for i, x := range append(first, second...) {
			switch {
			case x.draft == "d1":
				expectOnly(t, x, 6)
			case i >= len(first):
				expectOnly(t, x, 5)
			default: // read rev 5 above; nothing new
				if b := pending(x.c); b != nil {
					t.Fatalf("draft %s: extra frame %s", x.draft, b)
				}
			}
		}
		for _, id := range []string{"d2", "d3"} {
			if got := f.src.loadsOf(id); got > 2 {
				t.Errorf("draft %s: %d loads for 2000 subscribes, want ≤ 2", id, got)
			}
		}
		for u := range stormCohorts {
			if got := f.auth.callsOf(u, 1); got > 2 {
				t.Errorf("user %d: %d cohort calls, want ≤ 2", u, got)
			}
		}

		t.Run("RevokedAfterStorm", func(t *testing.T) {
			f.auth.set(2, 1, fmt.Errorf("removed: %w", fault.ErrNotFound))
			f.hub.Notify(Event{Kind: KindMembership, UserID: 2, WorkspaceID: 1})
			for _, x := range append(first, second...) {
				if x.user == 2 {
					waitDone(t, x.c, ErrRevoked)
				}
			}
			for _, x := range append(first, second...) {
				if x.user == 1 && x.c.Err() != nil {
					t.Fatalf("user 1 client closed: %v", x.c.Err())
				}
			}
			// The cache forgot user 2's cohort: a new Subscribe is refused.
			_, err := f.hub.Subscribe(context.Background(), 2, []Subscription{{Target: "d2"}})
			if !errors.Is(err, fault.ErrNotFound) {
				t.Errorf("Subscribe after revocation: %v, want fault.ErrNotFound", err)
			}
		})
	})
}

// A membership revoked while a storm of one user's Subscribes is in flight: every client
// ends refused or closed, whatever the interleaving.
func TestSubscribeStormRevoked(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	f := setup(t, Options{RecheckInterval: time.Hour, Clock: clock.now})
	f.src.put("d1", 1, 5)
	f.auth.set(3, 1, "viewer")
	f.hub.Resync()
	const n = 300
	clients := make([]*Client, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			if i == n/3 {
				close(start)
			}
			clients[i], errs[i] = f.hub.Subscribe(context.Background(), 3, []Subscription{{Target: "d1"}})
		})
	}
	<-start
	f.auth.set(3, 1, fmt.Errorf("removed: %w", fault.ErrNotFound))
	f.hub.Notify(Event{Kind: KindMembership, UserID: 3, WorkspaceID: 1})
	wg.Wait()
	refused := 0
	for i, c := range clients {
		if errs[i] != nil {
			if !errors.Is(errs[i], fault.ErrNotFound) {
				t.Fatalf("Subscribe: %v, want nil or fault.ErrNotFound", errs[i])
			}
			refused++
			continue
		}
		waitDone(t, c, ErrRevoked)
	}
	t.Logf("%d refused, %d revoked", refused, n-refused)
}

// The reuse path keeps the render/subscribe race closed: a Subscribe that reused the hub's
// snapshot (rev 5) but is not yet active when a change's pass lists its targets still gets
// the new rev.
func TestSubscribeReuseRace(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{RecheckInterval: time.Hour})
	f.src.put("d1", 1, 5)
	f.auth.set(1, 1, "viewer")
	f.auth.set(2, 1, "viewer")
	f.hub.Resync()
	a := f.subscribe(t, 1, Subscription{Target: "d1", Rev: 5}) // loads; d1's snapshot is now current
	loads := f.src.loadsOf("d1")

	g := f.auth.holdNext() // user 2's cohort query: after the snapshot was reused
	type result struct {
		c   *Client
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := f.hub.Subscribe(context.Background(), 2, []Subscription{{Target: "d1", Rev: 5}})
		done <- result{c, err}
	}()
	<-g.entered
	if got := f.src.loadsOf("d1"); got != loads {
		t.Fatalf("loads = %d, want %d (snapshot reused)", got, loads)
	}
	f.src.put("d1", 1, 6)
	f.hub.Notify(Event{Kind: KindDraft, DraftID: "d1"})
	untilRev(t, a, 6)
	f.waitPass(t, "d1") // the pass ended before the new client was active
	close(g.release)
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(r.c.Close)
	expectOnly(t, stormConn{r.c, 2, "d1"}, 6)
}

// A Subscribe load that read an old snapshot while a change's pass completed: the client is
// activated with the newer snapshot.
func TestSubscribeSharedLoadRace(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{RecheckInterval: time.Hour})
	f.src.put("d1", 1, 5)
	f.auth.set(1, 1, "viewer")
	f.hub.Resync()
	g := f.src.holdNextLoad()
	var wg sync.WaitGroup
	clients := make([]*Client, 20)
	for i := range clients {
		wg.Go(func() {
			c, err := f.hub.Subscribe(context.Background(), 1, []Subscription{{Target: "d1", Rev: 5}})
			if err != nil {
				t.Error(err)
				return
			}
			clients[i] = c
		})
	}
	<-g.entered // the shared load read rev 5
	f.src.put("d1", 1, 6)
	f.hub.Notify(Event{Kind: KindDraft, DraftID: "d1"})
	f.waitPass(t, "d1")
	close(g.release)
	wg.Wait()
	if t.Failed() {
		return
	}
	for _, c := range clients {
		t.Cleanup(c.Close)
		expectOnly(t, stormConn{c, 1, "d1"}, 6)
	}
	// One shared Subscribe load and the pass's load (the 20 Subscribes may straddle the
	// pass, so allow one more).
	if got := f.src.loadsOf("d1"); got > 3 {
		t.Errorf("loads = %d, want ≤ 3", got)
	}
}

// Before the first Resync (listener not yet connected) nothing is reused.
func TestSubscribeNoReuseBeforeEpoch(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	f.src.put("d1", 1, 5)
	f.auth.set(1, 1, "viewer")
	f.subscribe(t, 1, Subscription{Target: "d1", Rev: 5})
	f.subscribe(t, 1, Subscription{Target: "d1", Rev: 5})
	if got := f.src.loadsOf("d1"); got != 2 {
		t.Errorf("loads = %d, want 2 (no epoch yet)", got)
	}
	f.hub.Resync()
	f.waitPass(t, "d1") // the resync pass's snapshot is current
	loads := f.src.loadsOf("d1")
	f.subscribe(t, 1, Subscription{Target: "d1", Rev: 5})
	if got := f.src.loadsOf("d1"); got != loads {
		t.Errorf("loads = %d, want %d (reused after the resync pass)", got, loads)
	}
	calls := f.auth.callsOf(1, 1)
	f.hub.Disconnected()
	f.subscribe(t, 1, Subscription{Target: "d1", Rev: 5})
	if got := f.src.loadsOf("d1"); got != loads+1 {
		t.Errorf("loads = %d, want %d (no reuse while disconnected)", got, loads+1)
	}
	if got := f.auth.callsOf(1, 1); got != calls+1 {
		t.Errorf("cohort calls = %d, want %d (no cache while disconnected)", got, calls+1)
	}
}
