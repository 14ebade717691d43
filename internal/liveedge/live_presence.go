package liveedge

import (
	"strings"
	"sync"
	"time"

	"github.com/tenantops/onboard/internal/live"
	"github.com/tenantops/onboard/internal/presence"
)

// Presence is what /live needs from the presence registry (docs/live.md, Presence).
type Presence interface {
	NewConn() presence.Conn
	Set(c presence.Conn, user int64, email, draftID string, st presence.State)
	Leave(c presence.Conn)
	Watch(w presence.Watcher, drafts []string)
	Unwatch(w presence.Watcher, drafts []string)
}

// Presence frames a socket may send per presenceWindow before it is closed (1008): the
// browser sends one per step shown, field focused or left and idle change, far fewer.
const (
	presenceBurst  = 100
	presenceWindow = 10 * time.Second
)

// splitPresenceParam removes presence=1 from /live's query: the socket then carries presence
// both ways. Only presence-aware clients (live.js with presence.js) ask for it, so other
// clients never see a presence frame.
func splitPresenceParam(raw string) (string, bool) {
	var parts []string
	on := false
	for part := range strings.SplitSeq(raw, "&") {
		if part == "presence=1" {
			on = true
			continue
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, "&"), on
}

// livePresence is one socket's presence: the drafts it may see (those it subscribed to,
// which the hub authorised and keeps re-checking), the tab's own state, and the frames
// waiting to be written (latest wins per draft).
type livePresence struct {
	reg    Presence
	conn   presence.Conn
	user   int64
	email  string
	drafts []string        // subscribed drafts (topics left out), watched once subscribed
	may    map[string]bool // the same, for the frames the browser sends
	notify func()          // a frame is waiting; set before start

	mu      sync.Mutex        // guards the frames to write; never held while calling reg
	hello   []byte            // the first frame: who this socket is, so the page leaves itself out
	pending map[string][]byte // by draft
	order   []string
	closed  bool

	// amu orders what the browser sends: frames apply in the order read, the one read before
	// the subscription first, and none after stop.
	amu    sync.Mutex
	active bool      // subscribed: frames from the browser apply at once
	ended  bool      // stopped
	early  []byte    // the browser's latest frame before the subscription
	window time.Time // rate limit: start of the current window
	count  int       // frames in it
}

func newLivePresence(reg Presence, user int64, email string, subs []live.Subscription) *livePresence {
	p := &livePresence{reg: reg, conn: reg.NewConn(), user: user, email: email, may: map[string]bool{},
		pending: map[string][]byte{}}
	for _, s := range subs {
		if _, _, topic := live.ParseTopic(s.Target); topic || p.may[s.Target] {
			continue
		}
		p.may[s.Target] = true
		p.drafts = append(p.drafts, s.Target)
	}
	p.hello = []byte(`{"t":"hello","u":` + itoa(user) + `}`)
	return p
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// Offer is presence.Watcher: it never blocks.
func (p *livePresence) Offer(draftID string, frame []byte) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	if _, ok := p.pending[draftID]; !ok {
		p.order = append(p.order, draftID)
	}
	p.pending[draftID] = frame
	p.mu.Unlock()
	p.wake()
}

func (p *livePresence) wake() {
	if p.notify != nil {
		p.notify()
	}
}

// take returns the frames waiting, hello first.
func (p *livePresence) take() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out [][]byte
	if p.hello != nil {
		out = append(out, p.hello)
		p.hello = nil
	}
	for _, id := range p.order {
		out = append(out, p.pending[id])
	}
	clear(p.pending)
	p.order = p.order[:0]
	return out
}

// start watches the socket's drafts once the hub has authorised them, and applies the frame
// the browser sent meanwhile.
func (p *livePresence) start() {
	p.reg.Watch(p, p.drafts)
	p.wake() // the hello
	p.amu.Lock()
	defer p.amu.Unlock()
	if p.ended {
		return
	}
	p.active = true
	if p.early != nil {
		p.apply(p.early)
		p.early = nil
	}
}

// receive handles a text message from the browser. A message that is not a presence frame,
// or too many of them, is a protocol violation (false: the socket is closed with 1008); a
// frame about a draft this socket did not subscribe to is ignored.
func (p *livePresence) receive(data []byte, now time.Time) bool {
	if _, _, err := presence.ParseClientFrame(data); err != nil {
		return false
	}
	p.amu.Lock()
	defer p.amu.Unlock()
	if now.Sub(p.window) > presenceWindow {
		p.window, p.count = now, 0
	}
	p.count++
	switch {
	case p.count > presenceBurst:
		return false
	case p.ended:
	case !p.active:
		p.early = data
	default:
		p.apply(data)
	}
	return true
}

// apply records a valid frame's state; p.amu is held.
func (p *livePresence) apply(data []byte) {
	id, st, err := presence.ParseClientFrame(data)
	if err == nil && p.may[id] {
		p.reg.Set(p.conn, p.user, p.email, id, st)
	}
}

// stop leaves and unwatches; nothing is offered after it.
func (p *livePresence) stop() {
	p.amu.Lock()
	p.ended = true
	active := p.active
	p.amu.Unlock()
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.reg.Leave(p.conn)
	if active {
		p.reg.Unwatch(p, p.drafts)
	}
}
