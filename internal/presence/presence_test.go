package presence

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

const (
	draftA = "0b7c3a52-6d1e-4c5e-9a43-8f0a3b2f1c01"
	draftB = "0b7c3a52-6d1e-4c5e-9a43-8f0a3b2f1c02"
)

// bus is a Store shared by several registries: Publish delivers to every registry's Remote
// (its own included, as the listener does), leases live in a map.
type bus struct {
	mu      sync.Mutex
	regs    []*Registry
	leases  map[string]Lease
	down    map[string]bool // processes whose database calls fail (crashed)
	pubs    int             // Publish calls
	payload int             // payloads published
}

func newBus() *bus { return &bus{leases: map[string]Lease{}, down: map[string]bool{}} }

var errDown = errors.New("down")

func (b *bus) Publish(ctx context.Context, payloads []string) error {
	b.mu.Lock()
	for _, p := range payloads {
		var m message
		_ = json.Unmarshal([]byte(p), &m)
		if b.down[m.N] {
			b.mu.Unlock()
			return errDown
		}
	}
	b.pubs++
	b.payload += len(payloads)
	regs := append([]*Registry(nil), b.regs...)
	b.mu.Unlock()
	for _, r := range regs {
		for _, p := range payloads {
			r.Remote(p)
		}
	}
	return nil
}

func (b *bus) Renew(ctx context.Context, process string, ttl time.Duration, state []byte) ([]Lease, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.down[process] {
		return nil, errDown
	}
	now := time.Now()
	b.leases[process] = Lease{Process: process, Expires: now.Add(ttl), State: state}
	var out []Lease
	for n, l := range b.leases {
		if l.Expires.Before(now) {
			delete(b.leases, n)
			continue
		}
		if n != process {
			out = append(out, l)
		}
	}
	return out, nil
}

func (b *bus) Drop(ctx context.Context, process string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.down[process] {
		return errDown
	}
	delete(b.leases, process)
	return nil
}

func (b *bus) crash(process string) {
	b.mu.Lock()
	b.down[process] = true
	b.mu.Unlock()
}

// watcher records the frames offered to it.
type watcher struct {
	mu     sync.Mutex
	frames map[string][]browserFrame
}

func (w *watcher) Offer(id string, frame []byte) {
	var f browserFrame
	if err := json.Unmarshal(frame, &f); err != nil {
		panic(err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.frames == nil {
		w.frames = map[string][]browserFrame{}
	}
	w.frames[id] = append(w.frames[id], f)
}

func (w *watcher) last(id string) (browserFrame, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fs := w.frames[id]
	if len(fs) == 0 {
		return browserFrame{}, 0
	}
	return fs[len(fs)-1], len(fs)
}

// start runs a registry named process on b until the test's bubble ends it.
func start(t *testing.T, ctx context.Context, b *bus, process string, opts Options) (*Registry, context.CancelFunc) {
	t.Helper()
	opts.Process = process
	r, err := New(b, opts)
	if err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	b.regs = append(b.regs, r)
	b.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = r.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return r, cancel
}

func TestCoalesce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBus()
		r, _ := start(t, t.Context(), b, "p1", Options{})
		w := &watcher{}
		r.Watch(w, []string{draftA})
		c := r.NewConn()
		// A tab tabbing through fields quickly: 20 changes within one window.
		fields := []string{"display_name", "primary_domain", "tenant_id"}
		for i := range 20 {
			r.Set(c, 7, "ana@acme.test", draftA, State{Step: 2, Field: fields[i%3]})
			time.Sleep(5 * time.Millisecond)
		}
		synctest.Wait()
		time.Sleep(time.Second)
		synctest.Wait()
		b.mu.Lock()
		pubs, payloads := b.pubs, b.payload
		b.mu.Unlock()
		// 100 ms of changes: at most one flush per 150 ms window, each one message.
		if pubs > 2 || payloads > 2 {
			t.Errorf("published %d payloads in %d transactions for 20 changes in 100ms, want ≤ 2", payloads, pubs)
		}
		f, n := w.last(draftA)
		if n > 2 {
			t.Errorf("watcher got %d frames, want ≤ 2", n)
		}
		want := browserEntry{U: 7, E: "ana@acme.test", S: 2, N: fields[19%3], F: FieldLabel(fields[19%3])}
		if len(f.P) != 1 || f.P[0] != want {
			t.Errorf("frame = %+v, want one entry %+v", f.P, want)
		}
		// Re-setting the same state sends nothing.
		r.Set(c, 7, "ana@acme.test", draftA, State{Step: 2, Field: fields[19%3]})
		time.Sleep(time.Second)
		synctest.Wait()
		if _, n2 := w.last(draftA); n2 != n {
			t.Errorf("unchanged state sent a frame")
		}
		r.Leave(c)
		time.Sleep(900 * time.Millisecond) // within the leave grace (1s): still shown
		synctest.Wait()
		if f, _ := w.last(draftA); len(f.P) != 1 {
			t.Errorf("within the leave grace: %+v, want ana still", f.P)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if f, _ := w.last(draftA); len(f.P) != 0 {
			t.Errorf("after leave: %+v, want nobody", f.P)
		}
		if st := r.Stats(); st.Present != 0 {
			t.Errorf("Present = %d after leave", st.Present)
		}
	})
}

// TestLeaveGrace: a tab moving to another step closes its socket and opens another; within
// the grace nobody sees it leave and come back.
func TestLeaveGrace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBus()
		r, _ := start(t, t.Context(), b, "p1", Options{})
		w := &watcher{}
		r.Watch(w, []string{draftA})
		c := r.NewConn()
		r.Set(c, 7, "ana@acme.test", draftA, State{Step: 1})
		time.Sleep(time.Second)
		r.Leave(c)
		time.Sleep(300 * time.Millisecond) // the next page loads
		r.Set(r.NewConn(), 7, "ana@acme.test", draftA, State{Step: 2})
		time.Sleep(3 * time.Second)
		synctest.Wait()
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, f := range w.frames[draftA] {
			if len(f.P) != 1 {
				t.Errorf("frame %+v: ana flickered out", f.P)
			}
		}
		if fs := w.frames[draftA]; fs[len(fs)-1].P[0].S != 2 {
			t.Errorf("last frame %+v, want ana on step 2", fs[len(fs)-1].P)
		}
	})
}

func TestAggregatePerPerson(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBus()
		r, _ := start(t, t.Context(), b, "p1", Options{})
		w := &watcher{}
		r.Watch(w, []string{draftA})
		r.Set(r.NewConn(), 7, "ana@acme.test", draftA, State{Step: 1, Idle: true})
		r.Set(r.NewConn(), 7, "ana@acme.test", draftA, State{Step: 3, Field: "client_id"})
		r.Set(r.NewConn(), 8, "bo@acme.test", draftA, State{Step: 4})
		r.Set(r.NewConn(), 9, "cy@acme.test", draftB, State{Step: 1}) // another draft
		time.Sleep(time.Second)
		synctest.Wait()
		f, _ := w.last(draftA)
		want := []browserEntry{{U: 7, E: "ana@acme.test", S: 3, N: "client_id", F: "Client ID"}, {U: 8, E: "bo@acme.test", S: 4}}
		if len(f.P) != 2 || f.P[0] != want[0] || f.P[1] != want[1] {
			t.Errorf("frame = %+v, want %+v", f.P, want)
		}
		if _, n := w.last(draftB); n != 0 {
			t.Errorf("watcher of %s got frames of %s", draftA, draftB)
		}
	})
}

func TestTwoProcesses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBus()
		opts := Options{LeaseInterval: 2 * time.Second, LeaseTTL: 6 * time.Second}
		p1, _ := start(t, t.Context(), b, "p1", opts)
		p2, _ := start(t, t.Context(), b, "p2", opts)
		w := &watcher{}
		p2.Watch(w, []string{draftA})

		c := p1.NewConn()
		p1.Set(c, 7, "ana@acme.test", draftA, State{Step: 2, Field: "primary_domain"})
		time.Sleep(500 * time.Millisecond)
		synctest.Wait()
		if f, _ := w.last(draftA); len(f.P) != 1 || f.P[0].F != "Primary domain" {
			t.Fatalf("p2's watcher sees %+v, want ana editing Primary domain", f.P)
		}

		{ // A lease read repairs a lost message.
			// p1 changes while p2 misses the message: the next lease read repairs it.
			p1.mu.Lock()
			p1.drafts[draftA].local[c] = entry{U: 7, E: "ana@acme.test", S: 4}
			p1.mu.Unlock()
			time.Sleep(opts.LeaseInterval*2 + 500*time.Millisecond)
			synctest.Wait()
			if f, _ := w.last(draftA); len(f.P) != 1 || f.P[0].S != 4 || f.P[0].F != "" {
				t.Errorf("after two lease periods p2 sees %+v, want step 4, no field", f.P)
			}
		}

		{ // A starting process reads the leases.
			p3, _ := start(t, t.Context(), b, "p3", opts)
			w3 := &watcher{}
			p3.Watch(w3, []string{draftA})
			time.Sleep(500 * time.Millisecond)
			synctest.Wait()
			if f, _ := w3.last(draftA); len(f.P) != 1 || f.P[0].E != "ana@acme.test" {
				t.Errorf("a starting process sees %+v, want ana", f.P)
			}
		}

		{ // A crashed process's entries expire.
			b.crash("p1")
			start := time.Now()
			for {
				time.Sleep(100 * time.Millisecond)
				synctest.Wait()
				if f, _ := w.last(draftA); len(f.P) == 0 {
					break
				}
				if time.Since(start) > 2*opts.LeaseTTL {
					t.Fatalf("crashed process's entry still shown after %v", time.Since(start))
				}
			}
			if d := time.Since(start); d > opts.LeaseTTL+time.Second {
				t.Errorf("expired after %v, want within TTL %v + 1s", d, opts.LeaseTTL)
			}
			if p2.Stats().Expired == 0 {
				t.Error("Expired not counted")
			}
		}
	})
}

func TestGoodbye(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBus()
		p1, stop1 := start(t, t.Context(), b, "p1", Options{})
		p2, _ := start(t, t.Context(), b, "p2", Options{})
		w := &watcher{}
		p2.Watch(w, []string{draftA})
		p1.Set(p1.NewConn(), 7, "ana@acme.test", draftA, State{Step: 1})
		time.Sleep(500 * time.Millisecond)
		synctest.Wait()
		if f, _ := w.last(draftA); len(f.P) != 1 {
			t.Fatalf("p2 sees %+v", f.P)
		}
		stop1()
		time.Sleep(500 * time.Millisecond)
		synctest.Wait()
		if f, _ := w.last(draftA); len(f.P) != 0 {
			t.Errorf("after p1's shutdown p2 sees %+v, want nobody", f.P)
		}
		b.mu.Lock()
		_, leased := b.leases["p1"]
		b.mu.Unlock()
		if leased {
			t.Error("p1's lease not dropped")
		}
	})
}

func TestRemoteBadMessages(t *testing.T) {
	r, err := New(newBus(), Options{Process: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{
		``, `{`, `{"k":"presence"}`, `{"k":"presence","n":"p2"}`,
		`{"k":"presence","n":"p2","q":1,"d":"not-a-uuid","p":[]}`,
		`{"k":"presence","n":"p2","q":1,"d":"` + draftA + `","p":[{"u":0,"e":"x","s":1}]}`,
		`{"k":"presence","n":"p2","q":1,"d":"` + draftA + `","p":[{"u":1,"e":"x","s":9}]}`,
		`{"k":"presence","n":"p2","q":1,"d":"` + draftA + `","p":[{"u":1,"e":"x","s":1,"f":"<script>"}]}`,
		`{"k":"presence","n":"p2","q":1,"d":"` + draftA + `","x":1}`,
		`{"k":"presence","n":"p2","q":1,"d":"` + draftA + `"} {}`,
		`{"k":"presence","n":"p2","bye":true,"d":"` + draftA + `"}`,
	} {
		r.Remote(p)
	}
	if got := r.Stats().BadMessages; got != 11 {
		t.Errorf("BadMessages = %d, want 11", got)
	}
	r.Remote(`{"k":"presence","n":"p2","q":1,"d":"` + draftA + `","p":[{"u":1,"e":"x@y","s":1,"f":"display_name"}]}`)
	if got := r.Stats().Received; got != 1 {
		t.Errorf("Received = %d, want 1", got)
	}
}

func TestParseClientFrame(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		ok       bool
		want     State
	}{
		{"OK", `{"t":"presence","d":"` + draftA + `","s":3,"f":"client_id","i":false}`, true, State{Step: 3, Field: "client_id"}},
		{"UnknownFieldIsNone", `{"t":"presence","d":"` + draftA + `","s":2,"f":"<b>x</b>"}`, true, State{Step: 2}},
		{"Idle", `{"t":"presence","d":"` + draftA + `","s":1,"i":true}`, true, State{Step: 1, Idle: true}},
		{"BadStep", `{"t":"presence","d":"` + draftA + `","s":6}`, false, State{}},
		{"BadType", `{"t":"hello","d":"` + draftA + `","s":1}`, false, State{}},
		{"BadDraft", `{"t":"presence","d":"x","s":1}`, false, State{}},
		{"ExtraKey", `{"t":"presence","d":"` + draftA + `","s":1,"z":1}`, false, State{}},
		{"NotJSON", `hello`, false, State{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, st, err := ParseClientFrame([]byte(tc.in))
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && (d != draftA || st != tc.want) {
				t.Errorf("got %s %+v, want %s %+v", d, st, draftA, tc.want)
			}
		})
	}
}

// TestEveryoneAndOnChange: Everyone lists each person once per draft, this process's and
// another's; OnChange hears of every changed draft, local or remote, once per flush.
func TestEveryoneAndOnChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBus()
		var mu sync.Mutex
		var changed []string
		r1, _ := start(t, t.Context(), b, "p1", Options{OnChange: func(_ context.Context, ids []string) {
			mu.Lock()
			defer mu.Unlock()
			changed = append(changed, ids...)
		}})
		r2, _ := start(t, t.Context(), b, "p2", Options{})
		c1, c2 := r1.NewConn(), r1.NewConn()
		r1.Set(c1, 7, "ana@acme.test", draftA, State{Step: 2})
		r1.Set(c2, 7, "ana@acme.test", draftA, State{Step: 3, Field: "display_name"}) // a second tab
		r2.Set(r2.NewConn(), 8, "bo@acme.test", draftB, State{Step: 5})
		time.Sleep(time.Second)
		synctest.Wait()
		want := []Person{{UserID: 7, Email: "ana@acme.test", DraftID: draftA, Step: 3}, {UserID: 8, Email: "bo@acme.test", DraftID: draftB, Step: 5}}
		if draftB < draftA {
			want[0], want[1] = want[1], want[0]
		}
		if got := r1.Everyone(); !slices.Equal(got, want) {
			t.Errorf("Everyone = %+v, want %+v", got, want)
		}
		mu.Lock()
		got := slices.Sorted(slices.Values(changed))
		mu.Unlock()
		if wantIDs := slices.Sorted(slices.Values([]string{draftA, draftB})); !slices.Equal(got, wantIDs) {
			t.Errorf("OnChange heard %v, want %v once each", got, wantIDs)
		}
	})
}
