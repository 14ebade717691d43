package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenantops/onboard/internal/postgres"
	"github.com/tenantops/onboard/internal/presence"
)

// crashable is a presence store that fails every call once crashed, as a process that died
// would make none.
type crashable struct {
	postgres.PresenceStore
	down atomic.Bool
}

var errCrashed = errors.New("crashed")

func (s *crashable) Publish(ctx context.Context, p []string) error {
	if s.down.Load() {
		return errCrashed
	}
	return s.PresenceStore.Publish(ctx, p)
}

func (s *crashable) Renew(ctx context.Context, n string, ttl time.Duration, st []byte) ([]presence.Lease, error) {
	if s.down.Load() {
		return nil, errCrashed
	}
	return s.PresenceStore.Renew(ctx, n, ttl, st)
}

func (s *crashable) Drop(ctx context.Context, n string) error {
	if s.down.Load() {
		return errCrashed
	}
	return s.PresenceStore.Drop(ctx, n)
}

// frames is a presence.Watcher keeping the latest frame per draft and signalling each.
type frames struct {
	mu     sync.Mutex
	latest map[string][]byte
	ch     chan struct{}
}

func newFrames() *frames { return &frames{latest: map[string][]byte{}, ch: make(chan struct{}, 1)} }

func (f *frames) Offer(id string, b []byte) {
	f.mu.Lock()
	f.latest[id] = b
	f.mu.Unlock()
	select {
	case f.ch <- struct{}{}:
	default:
	}
}

// waitFor waits until the latest frame of id lists exactly emails, and returns when.
func (f *frames) waitFor(t *testing.T, id string, within time.Duration, emails ...string) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := time.After(within)
	for {
		f.mu.Lock()
		b := f.latest[id]
		f.mu.Unlock()
		var fr struct {
			P []struct{ E string }
		}
		_ = json.Unmarshal(b, &fr)
		got := make([]string, 0, len(fr.P))
		for _, p := range fr.P {
			got = append(got, p.E)
		}
		if b != nil && equalStrings(got, emails) {
			return time.Since(start)
		}
		select {
		case <-f.ch:
		case <-deadline:
			t.Fatalf("presence of %s: %v after %v, want %v", id, got, within, emails)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestPresenceTwoProcesses runs two registries on one database, each fed by its own
// listener, as two server processes are: a change travels through NOTIFY, a crashed
// process's entries expire with its lease, a stopped one's leave at once.
func TestPresenceTwoProcesses(t *testing.T) {
	t.Parallel()
	const lease, ttl = 200 * time.Millisecond, time.Second
	a := setupListener(t, postgres.ListenerConfig{}, nil)
	id, _ := insertDraft(t, a.db)

	startRegistry := func(name string, store presence.Store) (*presence.Registry, context.CancelFunc, chan struct{}) {
		r, err := presence.New(store, presence.Options{Process: name, LeaseInterval: lease, LeaseTTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = r.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		return r, cancel, done
	}
	// Process 1's registry publishes through a crashable store; its listener is irrelevant.
	store1 := &crashable{PresenceStore: a.db.PresenceStore()}
	r1, stop1, done1 := startRegistry("p1", store1)
	// Process 2: its own registry, fed by a listener of its own.
	r2, _, _ := startRegistry("p2", a.db.PresenceStore())
	hub2 := newRecHub()
	l2, err := postgres.NewListener(postgres.ListenerConfig{URL: a.db.Pool.Config().ConnString(), Hub: hub2, Presence: r2})
	if err != nil {
		t.Fatal(err)
	}
	lctx, lcancel := context.WithCancel(context.Background())
	ldone := make(chan struct{})
	go func() { defer close(ldone); _ = l2.Run(lctx) }()
	t.Cleanup(func() { lcancel(); <-ldone })
	hub2.waitResync(t)

	w := newFrames()
	r2.Watch(w, []string{id})
	c := r1.NewConn()
	r1.Set(c, 7, "ana@acme.test", id, presence.State{Step: 2, Field: "primary_domain"})
	if d := w.waitFor(t, id, 3*time.Second, "ana@acme.test"); d > time.Second {
		t.Errorf("join seen on the other process after %v", d)
	}
	// The join can reach p2's watcher before its NOTIFY does (p2 reads the leases when the
	// watch starts): wait for the message itself.
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		st := r2.Stats()
		if st.Received > 0 && st.BadMessages == 0 {
			break
		}
		if time.Now().After(deadline) || st.BadMessages != 0 {
			t.Errorf("p2 stats %+v: want messages received, none bad", st)
			break
		}
	}

	t.Run("Leave", func(t *testing.T) {
		r1.Leave(c)
		w.waitFor(t, id, 3*time.Second)
		r1.Set(c, 7, "ana@acme.test", id, presence.State{Step: 3})
		w.waitFor(t, id, 3*time.Second, "ana@acme.test")
	})

	t.Run("StartingProcessReadsLeases", func(t *testing.T) {
		r3, _, _ := startRegistry("p3", a.db.PresenceStore())
		w3 := newFrames()
		r3.Watch(w3, []string{id})
		w3.waitFor(t, id, 3*time.Second, "ana@acme.test")
	})

	t.Run("CrashedProcessExpires", func(t *testing.T) {
		store1.down.Store(true)
		crashed := time.Now()
		stop1() // its goodbye fails: nothing tells p2
		<-done1
		w.waitFor(t, id, 5*ttl)
		if d := time.Since(crashed); d > ttl+time.Second {
			t.Errorf("crashed process's entry left after %v, want within the lease TTL %v (+1s)", d, ttl)
		}
	})
}
