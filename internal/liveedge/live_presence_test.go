package liveedge

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenantops/onboard/internal/live"
	"github.com/tenantops/onboard/internal/presence"
)

// recPresence records what a socket's presence tells the registry.
type recPresence struct {
	mu      sync.Mutex
	sets    []string // draft:step:field
	leaves  int
	watched []string
}

func (r *recPresence) NewConn() presence.Conn { return 1 }
func (r *recPresence) Set(_ presence.Conn, _ int64, _, id string, st presence.State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sets = append(r.sets, id+":"+itoa(int64(st.Step))+":"+st.Field)
}
func (r *recPresence) Leave(presence.Conn) { r.mu.Lock(); r.leaves++; r.mu.Unlock() }
func (r *recPresence) Watch(_ presence.Watcher, ds []string) {
	r.mu.Lock()
	r.watched = append(r.watched, ds...)
	r.mu.Unlock()
}
func (r *recPresence) Unwatch(presence.Watcher, []string) {}

const presDraft = "0b7c3a52-6d1e-4c5e-9a43-8f0a3b2f1c01"

func frame(step, field string) []byte {
	return []byte(`{"t":"presence","d":"` + presDraft + `","s":` + step + `,"f":"` + field + `","i":false}`)
}

func TestLivePresenceSocket(t *testing.T) {
	t.Parallel()
	subs := []live.Subscription{{Target: presDraft, View: "checkpoint:1"}, {Target: presDraft, View: "row"}, {Target: "user:7", View: "bell"}}

	t.Run("WatchesDraftsNotTopics", func(t *testing.T) {
		r := &recPresence{}
		p := newLivePresence(r, 7, "a@b.test", subs)
		p.start()
		if strings.Join(r.watched, ",") != presDraft {
			t.Errorf("watched %v, want only %s once", r.watched, presDraft)
		}
		if got := p.take(); len(got) != 1 || string(got[0]) != `{"t":"hello","u":7}` {
			t.Errorf("first frames %q, want the hello", got)
		}
	})

	t.Run("EarlyFrameAppliedAfterSubscribe", func(t *testing.T) {
		r := &recPresence{}
		p := newLivePresence(r, 7, "a@b.test", subs)
		now := time.Now()
		p.receive(frame("1", ""), now)
		p.receive(frame("2", "display_name"), now)
		if len(r.sets) != 0 {
			t.Fatalf("applied before the subscription: %v", r.sets)
		}
		p.start()
		p.receive(frame("3", ""), now)
		p.stop()
		p.receive(frame("4", ""), now) // after stop: never applied
		want := presDraft + ":2:display_name," + presDraft + ":3:"
		if got := strings.Join(r.sets, ","); got != want || r.leaves != 1 {
			t.Errorf("sets %s, leaves %d; want %s and 1 leave", got, r.leaves, want)
		}
	})

	t.Run("RateLimit", func(t *testing.T) {
		p := newLivePresence(&recPresence{}, 7, "a@b.test", subs)
		p.start()
		now := time.Now()
		for i := range presenceBurst {
			if !p.receive(frame("1", ""), now) {
				t.Fatalf("frame %d refused", i)
			}
		}
		if p.receive(frame("1", ""), now) {
			t.Error("frame over the burst accepted")
		}
		if !p.receive(frame("1", ""), now.Add(presenceWindow+time.Millisecond)) {
			t.Error("frame in the next window refused")
		}
	})

	t.Run("SplitPresenceParam", func(t *testing.T) {
		raw, on := splitPresenceParam("delta=1&presence=1&draft=" + presDraft)
		if !on || raw != "delta=1&draft="+presDraft {
			t.Errorf("got %q %v", raw, on)
		}
		if _, on := splitPresenceParam("draft=" + presDraft + "&presence=0"); on {
			t.Error("presence=0 read as on")
		}
	})
}
