package live

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tenantops/onboard/internal/fault"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeSnap is a draft snapshot.
type fakeSnap struct {
	id           string
	ws           int64
	version, rev int64
}

func (s fakeSnap) Target() string     { return s.id }
func (s fakeSnap) WorkspaceID() int64 { return s.ws }
func (s fakeSnap) Rev() int64         { return s.rev }

// fakeSource counts loads and renders and can hold one render until the test releases it.
type fakeSource struct {
	mu      sync.Mutex
	drafts  map[string]fakeSnap
	loadErr error
	gate    *gate
	// loadGate holds the next Load after it has read its snapshot (so it returns that,
	// possibly old, snapshot).
	loadGate *gate
	loadsBy  map[string]int
	pad      int // bytes of padding in every render; set before subscribing
	// regions: renders are cut into two keyed regions, "head" (changes with the version)
	// and "body" (the padding, never changes); set before subscribing.
	regions bool

	loads   atomic.Int64
	renders atomic.Int64
	byKey   sync.Map // "draft/view/cohort" → *atomic.Int64
}

// gate holds one Render: entered is closed when it starts, release lets it finish.
type gate struct{ entered, release chan struct{} }

func newFakeSource() *fakeSource {
	return &fakeSource{drafts: make(map[string]fakeSnap), loadsBy: make(map[string]int)}
}

// holdNextLoad makes the next Load read its snapshot, then wait until release is closed.
func (f *fakeSource) holdNextLoad() *gate {
	g := &gate{entered: make(chan struct{}), release: make(chan struct{})}
	f.mu.Lock()
	f.loadGate = g
	f.mu.Unlock()
	return g
}

func (f *fakeSource) loadsOf(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.loadsBy[id]
}

func (f *fakeSource) put(id string, ws, rev int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drafts[id] = fakeSnap{id: id, ws: ws, version: rev, rev: rev}
}

func (f *fakeSource) remove(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.drafts, id)
}

func (f *fakeSource) failLoads(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loadErr = err
}

// holdNextRender makes the next Render wait until release is closed.
func (f *fakeSource) holdNextRender() *gate {
	g := &gate{entered: make(chan struct{}), release: make(chan struct{})}
	f.mu.Lock()
	f.gate = g
	f.mu.Unlock()
	return g
}

func (f *fakeSource) Load(ctx context.Context, id string) (Snapshot, error) {
	f.loads.Add(1)
	f.mu.Lock()
	f.loadsBy[id]++
	loadErr := f.loadErr
	s, ok := f.drafts[id]
	g := f.loadGate
	f.loadGate = nil
	f.mu.Unlock()
	if g != nil {
		close(g.entered)
		select {
		case <-g.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if loadErr != nil {
		return nil, loadErr
	}
	if !ok {
		return nil, fmt.Errorf("load %s: %w", id, fault.ErrGone)
	}
	return s, nil
}

func (f *fakeSource) Render(ctx context.Context, snap Snapshot, view, cohort string) ([]byte, error) {
	s := snap.(fakeSnap)
	f.renders.Add(1)
	n, _ := f.byKey.LoadOrStore(s.id+"/"+view+"/"+cohort, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
	f.mu.Lock()
	g := f.gate
	f.gate = nil
	f.mu.Unlock()
	if g != nil {
		close(g.entered)
		select {
		case <-g.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.regions {
		return fmt.Appendf(nil, `<section data-draft-id="%s" data-version="%d" data-rev="%d" data-view="%s" data-cohort="%s">`+
			`<p data-region="head">version %d, %s</p><div data-region="body">%s</div></section>`,
			s.id, s.version, s.rev, view, cohort, s.version, cohort, strings.Repeat(".", f.pad)), nil
	}
	return fmt.Appendf(nil, `<section data-draft-id="%s" data-version="%d" data-rev="%d" data-view="%s" data-cohort="%s">%s</section>`,
		s.id, s.version, s.rev, view, cohort, strings.Repeat(".", f.pad)), nil
}

// fakeAuth answers cohorts from a table; a missing entry is fault.ErrNotFound.
type fakeAuth struct {
	mu    sync.Mutex
	tab   map[[2]int64]any // string cohort or error
	calls map[[2]int64]int
	gate  *gate // holds the next Cohort after it has read its answer
}

func newFakeAuth() *fakeAuth {
	return &fakeAuth{tab: make(map[[2]int64]any), calls: make(map[[2]int64]int)}
}

func (a *fakeAuth) callsOf(user, ws int64) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls[[2]int64{user, ws}]
}

// holdNext makes the next Cohort read its answer, then wait until release is closed.
func (a *fakeAuth) holdNext() *gate {
	g := &gate{entered: make(chan struct{}), release: make(chan struct{})}
	a.mu.Lock()
	a.gate = g
	a.mu.Unlock()
	return g
}

// MayWatch makes fakeAuth a TopicAuthorizer as livesource's: the audit topic is the
// owners'.
func (a *fakeAuth) MayWatch(cohort, topic string) bool {
	return !strings.HasPrefix(topic, TopicAuditPrefix) || cohort == "owner"
}

func (a *fakeAuth) set(user, ws int64, v any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tab[[2]int64{user, ws}] = v
}

func (a *fakeAuth) Cohort(ctx context.Context, user, ws int64) (string, error) {
	a.mu.Lock()
	a.calls[[2]int64{user, ws}]++
	v := a.tab[[2]int64{user, ws}]
	g := a.gate
	a.gate = nil
	a.mu.Unlock()
	if g != nil {
		close(g.entered)
		select {
		case <-g.release:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case error:
		return "", v
	}
	return "", fmt.Errorf("user %d in workspace %d: %w", user, ws, fault.ErrNotFound)
}

type fixture struct {
	hub    *Hub
	src    *fakeSource
	auth   *fakeAuth
	passes chan string // one value per finished draft pass
}

// setup starts a hub over fakes; opts may adjust the options. Run is stopped at cleanup.
func setup(t testing.TB, opts Options) *fixture {
	t.Helper()
	f := &fixture{src: newFakeSource(), auth: newFakeAuth(), passes: make(chan string, 1024)}
	f.hub = NewHub(f.src, f.auth, opts)
	f.hub.afterPass = func(id string) {
		select {
		case f.passes <- id:
		default:
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.hub.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return f
}

func (f *fixture) subscribe(t testing.TB, user int64, subs ...Subscription) *Client {
	t.Helper()
	c, err := f.hub.Subscribe(context.Background(), user, subs)
	if err != nil {
		t.Fatalf("Subscribe(user %d): %v", user, err)
	}
	t.Cleanup(c.Close)
	return c
}

// waitPass waits until a pass over draft id has finished.
func (f *fixture) waitPass(t testing.TB, id string) {
	t.Helper()
	timeout := time.NewTimer(5 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case got := <-f.passes:
			if got == id {
				return
			}
		case <-timeout.C:
			t.Fatalf("no pass over draft %s", id)
		}
	}
}

var revRE = regexp.MustCompile(`data-rev="(\d+)"`)
var cohortRE = regexp.MustCompile(`data-cohort="([^"]*)"`)

func revOf(t testing.TB, b []byte) int64 {
	t.Helper()
	m := revRE.FindSubmatch(b)
	if m == nil {
		t.Fatalf("frame without data-rev: %s", b)
	}
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return n
}

// next returns the client's next frame, failing after a generous deadline.
func next(t testing.TB, c *Client) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := c.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return b
}

// pending returns a queued frame without waiting, or nil.
func pending(c *Client) []byte {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b, _ := c.Next(ctx)
	return b
}

// untilRev reads frames until one carries rev want.
func untilRev(t testing.TB, c *Client, want int64) {
	t.Helper()
	for {
		got := revOf(t, next(t, c))
		if got == want {
			return
		}
		if got > want {
			t.Fatalf("got rev %d, want %d", got, want)
		}
	}
}

func waitDone(t testing.TB, c *Client, want error) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatalf("client not closed, want %v", want)
	}
	if err := c.Err(); !errors.Is(err, want) {
		t.Fatalf("Err() = %v, want %v", err, want)
	}
}

func TestFanout(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	f.src.put("d1", 1, 1)
	var clients []*Client
	for u := int64(1); u <= 100; u++ {
		f.auth.set(u, 1, map[bool]string{true: "operator", false: "viewer"}[u%2 == 0])
		clients = append(clients, f.subscribe(t, u, Subscription{Target: "d1", Rev: 1}))
	}
	loads, renders := f.src.loads.Load(), f.src.renders.Load()

	f.src.put("d1", 1, 2)
	f.hub.Notify(Event{Kind: KindDraft, DraftID: "d1"})
	for _, c := range clients {
		if got := revOf(t, next(t, c)); got != 2 {
			t.Fatalf("rev = %d, want 2", got)
		}
	}
	f.waitPass(t, "d1")
	if got := f.src.loads.Load() - loads; got != 1 {
		t.Errorf("loads = %d, want 1", got)
	}
	if got := f.src.renders.Load() - renders; got != 2 {
		t.Errorf("renders = %d, want 2 (one per cohort)", got)
	}
	for i, c := range clients {
		if b := pending(c); b != nil {
			t.Fatalf("client %d has a second frame: %s", i, b)
		}
	}
	if got := f.hub.Stats().FramesQueued; got != 100 {
		t.Errorf("FramesQueued = %d, want 100", got)
	}
}

func TestCoalesceBurst(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	f.src.put("d1", 1, 1)
	f.auth.set(1, 1, "operator")
	var clients []*Client
	for range 10 {
		clients = append(clients, f.subscribe(t, 1, Subscription{Target: "d1", Rev: 1}))
	}
	loads := f.src.loads.Load()

	g := f.src.holdNextRender()
	f.src.put("d1", 1, 2)
	f.hub.Notify(Event{Kind: KindRun, DraftID: "d1"})
	<-g.entered
	for rev := int64(3); rev <= 51; rev++ {
		f.src.put("d1", 1, rev)
		f.hub.Notify(Event{Kind: KindRun, DraftID: "d1"})
	}
	close(g.release)
	for _, c := range clients {
		untilRev(t, c, 51)
	}
	if got := f.src.loads.Load() - loads; got > 2 {
		t.Errorf("loads = %d, want at most 2", got)
	}
}

func TestSlowRenderDoesNotBlockOtherDrafts(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{Workers: 2})
	f.src.put("a", 1, 1)
	f.src.put("b", 1, 1)
	f.auth.set(1, 1, "viewer")
	ca := f.subscribe(t, 1, Subscription{Target: "a", Rev: 1})
	cb := f.subscribe(t, 1, Subscription{Target: "b", Rev: 1})
	g := f.src.holdNextRender()
	f.src.put("a", 1, 2)
	f.hub.Notify(Event{Kind: KindDraft, DraftID: "a"})
	<-g.entered
	for rev := int64(2); rev <= 4; rev++ {
		f.src.put("b", 1, rev)
		f.hub.Notify(Event{Kind: KindDraft, DraftID: "b"})
		untilRev(t, cb, rev)
	}
	close(g.release)
	untilRev(t, ca, 2)
}

func TestSubscribeRev(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		rev       int64
		wantFrame bool
	}{
		{"Nothing", 0, true},
		{"Older", 2, true},
		{"Current", 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, Options{})
			f.src.put("d1", 1, 3)
			f.auth.set(1, 1, "viewer")
			c := f.subscribe(t, 1, Subscription{Target: "d1", Rev: tt.rev})
			b := pending(c)
			if got := b != nil; got != tt.wantFrame {
				t.Fatalf("immediate frame = %v, want %v", got, tt.wantFrame)
			}
			if b != nil && revOf(t, b) != 3 {
				t.Fatalf("rev = %d, want 3", revOf(t, b))
			}
			f.src.put("d1", 1, 4)
			f.hub.Notify(Event{Kind: KindDraft, DraftID: "d1"})
			untilRev(t, c, 4)
		})
	}
}

func TestUnchangedSkipped(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	f.src.put("d1", 1, 5)
	f.auth.set(1, 1, "viewer")
	c := f.subscribe(t, 1, Subscription{Target: "d1", Rev: 0})
	untilRev(t, c, 5)
	for range 3 {
		f.hub.Notify(Event{Kind: KindDraft, DraftID: "d1"})
		f.waitPass(t, "d1")
	}
	if b := pending(c); b != nil {
		t.Fatalf("got frame %s for unchanged fragment", b)
	}
	if got := f.hub.Stats().Unchanged; got < 1 {
		t.Errorf("Unchanged = %d, want ≥ 1", got)
	}
	if got := f.hub.Stats().FramesQueued; got != 1 {
		t.Errorf("FramesQueued = %d, want 1", got)
	}
}

// fakeClock is a settable clock.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func TestSlowConsumer(t *testing.T) {
	t.Parallel()
	t.Run("LatestWins", func(t *testing.T) {
		t.Parallel()
		f := setup(t, Options{})
		f.src.put("d1", 1, 1)
		f.auth.set(1, 1, "viewer")
		stalled := f.subscribe(t, 1, Subscription{Target: "d1", Rev: 1})
		reader := f.subscribe(t, 1, Subscription{Target: "d1", Rev: 1})
		for rev := int64(2); rev <= 5; rev++ {
			f.src.put("d1", 1, rev)
			f.hub.Notify(Event{Kind: KindDraft, DraftID: "d1"})
			untilRev(t, reader, rev) // promptly, while stalled never reads
		}
		// The reader may get rev 5 before the pass has replaced the stalled client's frame:
		// wait for the third drop (a readiness signal, not a sleep), then want exactly 3.
		for deadline := time.Now().Add(5 * time.Second); f.hub.Stats().FramesDropped < 3 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		if got := f.hub.Stats().FramesDropped; got != 3 {
			t.Errorf("FramesDropped = %d, want 3", got)
		}
		if got := revOf(t, next(t, stalled)); got != 5 {
			t.Errorf("stalled client's queued rev = %d, want 5", got)
		}
		if b := pending(stalled); b != nil {
			t.Errorf("stalled client has another frame: %s", b)
		}
	})
	t.Run("ErrSlowConsumer/Timeout", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		f := setup(t, Options{Clock: clock.now, SlowTimeout: time.Hour})
		f.src.put("d1", 1, 1)
		f.auth.set(1, 1, "viewer")
		stalled := f.subscribe(t, 1, Subscription{Target: "d1", Rev: 1})
		reader := f.subscribe(t, 1, Subscription{Target: "d1", Rev: 1})
		f.src.put("d1", 1, 2)
		f.hub.Notify(Event{Kind: KindDraft, DraftID: "d1"})
		untilRev(t, reader, 2)
		clock.advance(time.Hour + time.Second)
		f.src.put("d1", 1, 3)
		f.hub.Notify(Event{Kind: KindDraft, DraftID: "d1"})
		untilRev(t, reader, 3)
		waitDone(t, stalled, ErrSlowConsumer)
		if got := f.hub.Stats().SlowCloses; got != 1 {
			t.Errorf("SlowCloses = %d, want 1", got)
		}
	})
	t.Run("ManyQueuedIsNotSlow", func(t *testing.T) {
		// A client that reads, however many of its subscriptions have a frame queued, is
		// not slow: the queue holds one frame per subscription (latest wins).
		t.Parallel()
		f := setup(t, Options{SlowTimeout: time.Hour})
		f.auth.set(1, 1, "viewer")
		var subs []Subscription
		for i := range 20 {
			id := fmt.Sprintf("q%02d", i)
			f.src.put(id, 1, 1)
			subs = append(subs, Subscription{Target: id, Rev: 1})
		}
		c := f.subscribe(t, 1, subs...)
		for _, s := range subs {
			f.src.put(s.Target, 1, 2)
			f.hub.Notify(Event{Kind: KindDraft, DraftID: s.Target})
			f.waitPass(t, s.Target)
		}
		got := map[string]bool{}
		for range subs {
			b := next(t, c)
			got[regexp.MustCompile(`data-draft-id="(\w+)"`).FindStringSubmatch(string(b))[1]] = true
		}
		if len(got) != len(subs) || c.Err() != nil {
			t.Fatalf("got %d distinct drafts, client err %v; want %d and open", len(got), c.Err(), len(subs))
		}
	})
}

// splitBatch returns the fragments of a frame as strings (SplitBatch).
func splitBatch(b []byte) []string {
	var out []string
	for _, p := range SplitBatch(b) {
		out = append(out, string(p))
	}
	return out
}

func TestCatchUp(t *testing.T) {
	t.Parallel()
	t.Run("HundredStaleItems", func(t *testing.T) {
		// A reconnect behind on 100 items gets every current fragment and keeps its
		// subscription; before, the 9th queued item closed it as a slow consumer.
		t.Parallel()
		f := setup(t, Options{})
		f.auth.set(1, 1, "viewer")
		var subs []Subscription
		for i := range 50 {
			id := fmt.Sprintf("c%02d", i)
			f.src.put(id, 1, 5)
			subs = append(subs, Subscription{Target: id, View: ViewRow, Rev: 3},
				Subscription{Target: id, View: ViewCheckpoint, Rev: 0})
		}
		c := f.subscribe(t, 1, subs...)
		seen := map[string]bool{}
		for len(seen) < 100 {
			for _, p := range splitBatch(next(t, c)) {
				if revOf(t, []byte(p)) != 5 {
					t.Fatalf("catch-up fragment %s, want rev 5", p)
				}
				seen[regexp.MustCompile(`data-draft-id="(\w+)" .* data-view="(\w+)"`).FindString(p)] = true
			}
		}
		if err := c.Err(); err != nil {
			t.Fatalf("client closed after catch-up: %v", err)
		}
		if st := f.hub.Stats(); st.CatchUps != 1 || st.CatchUpItems != 100 || st.SlowCloses != 0 {
			t.Errorf("stats %+v, want 1 catch-up of 100 items and no slow close", st)
		}
		if b := pending(c); b != nil {
			t.Errorf("extra frame after catch-up: %s", b)
		}
		// Still live: a change after the catch-up arrives as an ordinary frame.
		f.src.put("c07", 1, 6)
		f.hub.Notify(Event{Kind: KindDraft, DraftID: "c07"})
		for range 2 {
			if got := revOf(t, next(t, c)); got != 6 {
				t.Fatalf("rev after catch-up = %d, want 6", got)
			}
		}
	})
	t.Run("LargeCatchUpIsSplit", func(t *testing.T) {
		t.Parallel()
		f := setup(t, Options{})
		f.src.pad = 4 << 10
		f.auth.set(1, 1, "viewer")
		var subs []Subscription
		for i := range 50 {
			id := fmt.Sprintf("L%02d", i)
			f.src.put(id, 1, 2)
			subs = append(subs, Subscription{Target: id})
		}
		c := f.subscribe(t, 1, subs...)
		frames := 0
		total := 0
		for total < 50 {
			b := next(t, c)
			if len(b) > maxBatchBytes+4<<10 {
				t.Fatalf("batch of %d bytes, want at most about %d", len(b), maxBatchBytes)
			}
			total += len(splitBatch(b))
			frames++
		}
		if frames < 3 || total != 50 {
			t.Errorf("%d fragments in %d frames, want 50 in at least 3 (50 × 4 KiB)", total, frames)
		}
	})
}

func TestAuthorisationRecheck(t *testing.T) {
	t.Parallel()
	t.Run("ErrRevoked/MembershipEvent", func(t *testing.T) {
		t.Parallel()
		f := setup(t, Options{RecheckInterval: time.Hour})
		f.src.put("d1", 1, 1)
		f.auth.set(7, 1, "operator")
		f.auth.set(8, 1, "operator")
		c := f.subscribe(t, 7, Subscription{Target: "d1", Rev: 1})
		other := f.subscribe(t, 8, Subscription{Target: "d1", Rev: 1})
		f.auth.set(7, 1, fmt.Errorf("gone: %w", fault.ErrNotFound))
		f.hub.Notify(Event{Kind: KindMembership, UserID: 7, WorkspaceID: 1})
		waitDone(t, c, ErrRevoked)
		f.src.put("d1", 1, 2)
		f.hub.Notify(Event{Kind: KindDraft, DraftID: "d1"})
		untilRev(t, other, 2)
	})
	t.Run("ErrRevoked/Periodic", func(t *testing.T) {
		t.Parallel()
		f := setup(t, Options{RecheckInterval: 5 * time.Millisecond})
		f.src.put("d1", 1, 1)
		f.auth.set(7, 1, "operator")
		c := f.subscribe(t, 7, Subscription{Target: "d1", Rev: 1})
		f.auth.set(7, 1, fmt.Errorf("no view: %w", fault.ErrForbidden))
		waitDone(t, c, ErrRevoked)
	})
	t.Run("CohortChange", func(t *testing.T) {
		t.Parallel()
		f := setup(t, Options{RecheckInterval: time.Hour})
		f.src.put("d1", 1, 4)
		f.auth.set(7, 1, "operator")
		c := f.subscribe(t, 7, Subscription{Target: "d1", Rev: 4})
		f.auth.set(7, 1, "viewer")
		f.hub.Notify(Event{Kind: KindMembership, UserID: 7, WorkspaceID: 1})
		b := next(t, c)
		if got := string(cohortRE.FindSubmatch(b)[1]); got != "viewer" {
			t.Errorf("cohort = %q, want viewer", got)
		}
		if got := revOf(t, b); got != 4 {
			t.Errorf("rev = %d, want 4", got)
		}
	})
}

func TestResync(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	f.src.put("d1", 1, 1)
	f.src.put("d2", 1, 1)
	f.auth.set(1, 1, "viewer")
	c1 := f.subscribe(t, 1, Subscription{Target: "d1", Rev: 1})
	c2 := f.subscribe(t, 1, Subscription{Target: "d2", Rev: 1}, Subscription{Target: "d1", View: ViewRow, Rev: 1})
	// Changes whose notifications were lost.
	f.src.put("d1", 1, 9)
	f.src.put("d2", 1, 8)
	f.hub.Resync()
	untilRev(t, c1, 9)
	got := map[int64]bool{revOf(t, next(t, c2)): true, revOf(t, next(t, c2)): true}
	if !got[9] || !got[8] {
		t.Errorf("c2 revs = %v, want 9 and 8", got)
	}
}

func TestSubscribeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		user  int64
		draft string
		view  string
		want  error
	}{
		{"ErrNotFound/NotMember", 2, "d1", "", fault.ErrNotFound},
		{"ErrNotFound/NoDraft", 1, "nope", "", fault.ErrNotFound},
		{"ErrForbidden", 3, "d1", "", fault.ErrForbidden},
		{"ErrInvalid/View", 1, "d1", "page", fault.ErrInvalid},
		{"ErrInvalid/RunViewNoID", 1, "d1", "run:", fault.ErrInvalid},
		{"ErrInvalid/RunViewBadID", 1, "d1", "run:a b", fault.ErrInvalid},
		{"ErrInvalid/NoDraft", 1, "", "", fault.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, Options{})
			f.src.put("d1", 1, 1)
			f.auth.set(1, 1, "viewer")
			f.auth.set(3, 1, fmt.Errorf("no view capability: %w", fault.ErrForbidden))
			c, err := f.hub.Subscribe(context.Background(), tt.user, []Subscription{{Target: tt.draft, View: tt.view}})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if c != nil {
				t.Fatal("client returned with an error")
			}
			var se *SubscribeError
			if !errors.As(err, &se) || se.Target != tt.draft {
				t.Errorf("err = %#v, want *SubscribeError for draft %q", err, tt.draft)
			}
			if got := f.hub.Stats().Connections; got != 0 {
				t.Errorf("Connections = %d, want 0", got)
			}
		})
	}
}

func TestDraftGone(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	f.src.put("d1", 1, 1)
	f.src.put("d2", 1, 1)
	f.auth.set(1, 1, "viewer")
	c := f.subscribe(t, 1, Subscription{Target: "d1", Rev: 1}, Subscription{Target: "d2", Rev: 1})
	f.src.remove("d1")
	f.hub.Notify(Event{Kind: KindDraft, DraftID: "d1"})
	f.waitPass(t, "d1")
	f.hub.Notify(Event{Kind: KindDraft, DraftID: "d1"})
	if got := f.hub.Stats().Ignored; got != 1 {
		t.Errorf("Ignored = %d, want 1 (gone draft forgotten)", got)
	}
	f.src.put("d2", 1, 2)
	f.hub.Notify(Event{Kind: KindDraft, DraftID: "d2"})
	untilRev(t, c, 2)
	if b := pending(c); b != nil {
		t.Errorf("extra frame %s", b)
	}
}

func TestLoadErrorRetried(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	f.src.put("d1", 1, 1)
	f.auth.set(1, 1, "viewer")
	c := f.subscribe(t, 1, Subscription{Target: "d1", Rev: 1})
	f.src.failLoads(errors.New("connection reset"))
	f.src.put("d1", 1, 2)
	f.hub.Notify(Event{Kind: KindDraft, DraftID: "d1"})
	f.waitPass(t, "d1")
	if b := pending(c); b != nil {
		t.Fatalf("frame after failed load: %s", b)
	}
	f.src.failLoads(nil)
	f.hub.Notify(Event{Kind: KindDraft, DraftID: "d1"})
	untilRev(t, c, 2)
	if got := f.hub.Stats().LoadErrors; got != 1 {
		t.Errorf("LoadErrors = %d, want 1", got)
	}
}

func TestBadEvents(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	for _, e := range []Event{
		{Kind: KindDraft},
		{Kind: KindRun},
		{Kind: "tenant", DraftID: "d1"},
		{Kind: KindMembership, UserID: 1},
	} {
		f.hub.Notify(e)
	}
	f.hub.Notify(Event{Kind: KindDraft, DraftID: "unwatched"})
	s := f.hub.Stats()
	if s.BadEvents != 4 || s.Ignored != 1 || s.Notifications != 5 {
		t.Errorf("BadEvents, Ignored, Notifications = %d, %d, %d; want 4, 1, 5", s.BadEvents, s.Ignored, s.Notifications)
	}
}

func TestShutdown(t *testing.T) {
	t.Parallel()
	src, auth := newFakeSource(), newFakeAuth()
	src.put("d1", 1, 1)
	auth.set(1, 1, "viewer")
	h := NewHub(src, auth, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- h.Run(ctx) }()
	var clients []*Client
	for range 10 {
		c, err := h.Subscribe(context.Background(), 1, []Subscription{{Target: "d1"}})
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, c := range clients {
		waitDone(t, c, ErrShutdown)
		if _, err := c.Next(context.Background()); !errors.Is(err, ErrShutdown) {
			t.Errorf("Next after shutdown: %v", err)
		}
	}
	if _, err := h.Subscribe(context.Background(), 1, []Subscription{{Target: "d1"}}); !errors.Is(err, ErrShutdown) {
		t.Errorf("Subscribe after shutdown: %v, want ErrShutdown", err)
	}
	if got := h.Stats().Connections; got != 0 {
		t.Errorf("Connections = %d, want 0", got)
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	f.src.put("d1", 1, 1)
	f.auth.set(1, 1, "viewer")
	c := f.subscribe(t, 1, Subscription{Target: "d1", Rev: 1})
	c.Close()
	c.Close()
	waitDone(t, c, ErrClosed)
	f.hub.Notify(Event{Kind: KindDraft, DraftID: "d1"})
	if got := f.hub.Stats(); got.Ignored != 1 || got.Connections != 0 || got.Subscriptions != 0 {
		t.Errorf("after Close: Ignored %d, Connections %d, Subscriptions %d; want 1, 0, 0", got.Ignored, got.Connections, got.Subscriptions)
	}
}

func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			f := setup(b, Options{Coalesce: -1})
			f.src.pad = fragmentPad
			f.src.put("d1", 1, 1)
			f.auth.set(1, 1, "viewer")
			var got atomic.Int64
			round := make(chan struct{}, 1)
			var wg sync.WaitGroup
			var clients []*Client
			for range n {
				c := f.subscribe(b, 1, Subscription{Target: "d1", Rev: 1})
				clients = append(clients, c)
				wg.Go(func() {
					for {
						if _, err := c.Next(context.Background()); err != nil {
							return
						}
						if got.Add(1) == int64(n) {
							round <- struct{}{}
						}
					}
				})
			}
			b.Cleanup(func() {
				for _, c := range clients {
					c.Close()
				}
				wg.Wait()
			})
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				got.Store(0)
				f.src.put("d1", 1, int64(i+2))
				f.hub.Notify(Event{Kind: KindDraft, DraftID: "d1"})
				<-round
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)*float64(n)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}

func TestRunView(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	f.src.put("d1", 1, 1)
	f.auth.set(1, 1, "viewer")
	view := ViewRunPrefix + "0b7e4c2a-5d0c-4a8e-9f1e-2c3d4e5f6a7b"
	c := f.subscribe(t, 1, Subscription{Target: "d1", View: view}, Subscription{Target: "d1", Rev: 1})
	if b := next(t, c); !strings.Contains(string(b), `data-view="`+view+`"`) {
		t.Fatalf("first frame = %s, want the run view", b)
	}
	f.src.put("d1", 1, 2)
	f.hub.Notify(Event{Kind: KindRun, DraftID: "d1", WorkspaceID: 1})
	views := map[string]bool{}
	for range 2 {
		b := next(t, c)
		views[regexp.MustCompile(`data-view="([^"]*)"`).FindStringSubmatch(string(b))[1]] = true
	}
	if !views[view] || !views[ViewCheckpoint] {
		t.Errorf("views after a run event = %v, want %s and %s", views, view, ViewCheckpoint)
	}
}

func TestNextAt(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	f.src.put("d1", 1, 1)
	f.auth.set(1, 1, "viewer")
	c := f.subscribe(t, 1, Subscription{Target: "d1", Rev: 1})
	at := time.Now().Add(-time.Second).Round(0)
	f.src.put("d1", 1, 2)
	f.hub.Notify(Event{Kind: KindDraft, DraftID: "d1", WorkspaceID: 1, At: at})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, got, err := c.NextAt(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if revOf(t, b) != 2 || !got.Equal(at) {
		t.Errorf("NextAt = rev %d at %v, want rev 2 at %v", revOf(t, b), got, at)
	}

	// Frames not caused by a notification carry no time.
	f.src.put("d1", 1, 3)
	f.hub.Resync()
	b, got, err = c.NextAt(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if revOf(t, b) != 3 || !got.IsZero() {
		t.Errorf("NextAt after resync = rev %d at %v, want rev 3 at zero", revOf(t, b), got)
	}
}

func TestSessionEnd(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	f.src.put("d1", 1, 1)
	f.auth.set(1, 1, "operator")
	as := func(keys ...string) *Client {
		t.Helper()
		c, err := f.hub.SubscribeAs(context.Background(), Viewer{UserID: 1, Sessions: keys}, []Subscription{{Target: "d1", Rev: 1}})
		if err != nil {
			t.Fatalf("SubscribeAs(%v): %v", keys, err)
		}
		t.Cleanup(c.Close)
		return c
	}
	a1, a2 := as("a", "a'"), as("a")
	other := as("b")
	f.hub.Notify(Event{Kind: KindSession, Session: "a'"})
	waitDone(t, a1, ErrSessionEnded)
	f.hub.Notify(Event{Kind: KindSession, Session: "a"})
	waitDone(t, a2, ErrSessionEnded)

	// The same user's other session keeps receiving.
	f.src.put("d1", 1, 2)
	f.hub.Notify(Event{Kind: KindDraft, DraftID: "d1"})
	untilRev(t, other, 2)
	if other.Err() != nil {
		t.Fatalf("other session's client closed: %v", other.Err())
	}

	// A Subscribe that raced the end (its request was authenticated before) is refused,
	// even when the event found no client.
	f.hub.Notify(Event{Kind: KindSession, Session: "c"})
	for _, key := range []string{"a", "c"} {
		_, err := f.hub.SubscribeAs(context.Background(), Viewer{UserID: 1, Sessions: []string{key}}, []Subscription{{Target: "d1"}})
		if !errors.Is(err, ErrSessionEnded) {
			t.Errorf("SubscribeAs after session %s ended: %v, want ErrSessionEnded", key, err)
		}
	}
	f.hub.Notify(Event{Kind: KindSession})
	if st := f.hub.Stats(); st.SessionCloses != 2 || st.BadEvents != 1 || st.Connections != 1 {
		t.Errorf("stats %+v, want 2 session closes, 1 bad event, 1 connection", st)
	}
}
