package live

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tenantops/onboard/internal/fault"
)

// Client is one connection's set of subscriptions and its bounded frame queue. The endpoint
// calls Take when woken (OnWake; other clients wait on Ready) until nothing is queued, and
// writes each message it returns as one text message; when Take returns an error it closes
// the socket with the code that error calls for.
type Client struct {
	hub      *Hub
	userID   int64
	sessions []string
	subs     []*sub
	ready    chan struct{} // cap 1: the queue became non-empty
	done     chan struct{}
	notify   atomic.Pointer[func()] // OnWake's function; nil: Ready is signalled

	// Guarded by hub.mu.
	counted bool

	// mu guards queue, err and every sub's rev; cohort is written under hub.mu and mu.
	mu    sync.Mutex
	queue []frame
	err   error
}

// sub is one (draft, view) a client watches.
type sub struct {
	c      *Client
	target string
	view   string
	ws     int64       // set before active
	auth   *cohortCall // the cohort answer s was authorised with; set before active
	ds     *draftState // hub.mu
	active bool        // hub.mu: authorised, receives fragments
	cohort string      // written under hub.mu and Client.mu
	rev    int64       // Client.mu: newest rev queued or shown
	deltas bool        // the connection applies delta fragments
	// taken (Client.mu) is the rev of the newest full or delta fragment of s that left the
	// queue for the socket (or went into a catch-up batch, which is written before anything
	// queued later): the fragment the browser holds once it has read everything before the
	// next frame of s. 0 = none yet; a new subscription's first frame is always full.
	taken int64
}

// frame is one queued fragment, or (s == nil) a catch-up batch already encoded as a batch
// frame; a newer fragment for the same sub replaces it in place.
type frame struct {
	s     *sub
	rev   int64 // the fragment's rev (s != nil)
	bytes []byte
	since time.Time // when this slot was first filled: how long the client has not read it
	at    time.Time // earliest notification time among the changes it carries; zero = none
}

// Subscribe authorises userID for every subscription and attaches a client. Each draft is
// loaded to learn its workspace and current rev; Authorizer.Cohort decides access. On failure
// it returns a *SubscribeError naming the draft and wrapping fault.ErrNotFound, fault.ErrForbidden,
// fault.ErrInvalid or the loader's error. Where a draft's current rev is greater than the
// subscription's Rev, the current fragment is queued at once: this closes the race between
// rendering a page and opening its socket.
func (h *Hub) Subscribe(ctx context.Context, userID int64, subs []Subscription) (*Client, error) {
	return h.SubscribeAs(ctx, Viewer{UserID: userID}, subs)
}

// SubscribeAs is Subscribe for a viewer whose connection belongs to a sign-in session: a
// KindSession event naming one of v.Sessions closes the client with ErrSessionEnded, and a
// session that ended within the last minute is refused with ErrSessionEnded.
func (h *Hub) SubscribeAs(ctx context.Context, v Viewer, subs []Subscription) (*Client, error) {
	if len(subs) == 0 {
		return nil, &SubscribeError{Err: fmt.Errorf("%w subscription: no drafts", fault.ErrInvalid)}
	}
	c := &Client{
		hub:      h,
		userID:   v.UserID,
		sessions: v.Sessions,
		ready:    make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	seen := make(map[renderKey]*sub, len(subs)) // (draft, view)
	for _, in := range subs {
		view := in.View
		if view == "" {
			view = ViewCheckpoint
		}
		if want, topic := topicView(in.Target); topic && in.View == "" {
			view = want
		}
		if in.Target == "" || !ValidSubscription(in.Target, view) {
			return nil, &SubscribeError{Target: in.Target, Err: fmt.Errorf("%w subscription: view %q", fault.ErrInvalid, view)}
		}
		k := renderKey{in.Target, view}
		if s := seen[k]; s != nil {
			s.rev = min(s.rev, in.Rev)
			continue
		}
		s := &sub{c: c, target: in.Target, view: view, rev: max(in.Rev, 0), deltas: in.Deltas}
		seen[k] = s
		c.subs = append(c.subs, s)
	}

	// Register before loading, inactive: a notification arriving while we load and
	// authorise schedules the draft instead of being ignored, and activation below notices
	// the newer snapshot.
	if err := h.register(c); err != nil {
		return nil, err
	}
	snaps, err := h.authorise(ctx, c)
	if err != nil {
		h.detach(c)
		return nil, err
	}
	offers, err := h.activate(c, snaps)
	if err != nil {
		return nil, err
	}
	h.obs.ClientOpened()
	h.catchUp(ctx, c, offers)
	return c, nil
}

func (h *Hub) register(c *Client) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.shutdown {
		return ErrShutdown
	}
	for _, k := range c.sessions {
		if _, ok := h.ended[k]; ok {
			return ErrSessionEnded
		}
	}
	h.clients[c] = struct{}{}
	for _, k := range c.sessions {
		set := h.bySession[k]
		if set == nil {
			set = make(map[*Client]struct{})
			h.bySession[k] = set
		}
		set[c] = struct{}{}
	}
	for _, s := range c.subs {
		ds := h.drafts[s.target]
		if ds == nil {
			ds = &draftState{id: s.target, subs: make(map[*sub]struct{}), cache: make(map[renderKey]*rendered)}
			h.drafts[s.target] = ds
		}
		ds.subs[s] = struct{}{}
		s.ds = ds
	}
	return nil
}

// authorise gets each draft's snapshot once (reused, shared or loaded: Hub.snapshot) and the
// viewer's cohort once per workspace (cached or shared: Hub.cohort).
func (h *Hub) authorise(ctx context.Context, c *Client) (map[string]Snapshot, error) {
	snaps := make(map[string]Snapshot, len(c.subs))
	cohorts := make(map[int64]*cohortCall, 1)
	for _, s := range c.subs {
		// A user topic is its owner's alone: refused before anything is loaded.
		prefix, owner, topic := ParseTopic(s.target)
		if topic && prefix == TopicUserPrefix && owner != c.userID {
			return nil, &SubscribeError{Target: s.target, Err: fmt.Errorf("%w: another user's topic", fault.ErrNotFound)}
		}
		snap, ok := snaps[s.target]
		if !ok {
			var err error
			snap, err = h.snapshot(ctx, s.ds)
			if errors.Is(err, fault.ErrGone) {
				err = fmt.Errorf("%w: %w", fault.ErrNotFound, err)
			}
			if err != nil {
				return nil, &SubscribeError{Target: s.target, Err: err}
			}
			snaps[s.target] = snap
		}
		ws := snap.WorkspaceID()
		if topic && prefix == TopicUserPrefix {
			// No workspace authorises a user topic (ws 0: never re-checked); the session
			// and the owner check above do.
			s.ws, s.cohort, s.auth = 0, CohortSelf, selfCohort
			continue
		}
		call, ok := cohorts[ws]
		if !ok {
			var err error
			call, err = h.cohort(ctx, c.userID, ws)
			if err != nil {
				return nil, &SubscribeError{Target: s.target, Err: err}
			}
			cohorts[ws] = call
		}
		if topic && !h.mayWatch(call.cohort, s.target) {
			return nil, &SubscribeError{Target: s.target, Err: fmt.Errorf("%w: cohort %s may not watch this topic", fault.ErrForbidden, call.cohort)}
		}
		s.ws, s.cohort, s.auth = ws, call.cohort, call
	}
	return snaps, nil
}

// mayWatch asks the Authorizer whether cohort may watch a topic, when it decides that
// (TopicAuthorizer); drafts are never gated here.
func (h *Hub) mayWatch(cohort, target string) bool {
	ta, ok := h.auth.(TopicAuthorizer)
	if !ok {
		return true
	}
	if _, _, topic := ParseTopic(target); !topic {
		return true
	}
	return ta.MayWatch(cohort, target)
}

// selfCohort authorises a user topic's owner (see authorise).
var selfCohort = &cohortCall{cohort: CohortSelf, finished: true}

// offer is a fragment Subscribe owes a new subscription.
type offer struct {
	s      *sub
	cohort string
	snap   Snapshot
}

func (h *Hub) activate(c *Client, snaps map[string]Snapshot) ([]offer, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.shutdown {
		// c is in h.clients, so Run's shutdown closes it.
		return nil, ErrShutdown
	}
	c.mu.Lock()
	closed := c.err
	c.mu.Unlock()
	if closed != nil {
		return nil, closed
	}
	var offers []offer
	for _, s := range c.subs {
		ds := s.ds
		if ds.gone {
			continue
		}
		s.active = true
		ds.workspace = s.ws
		snap := snaps[s.target]
		if ds.snap != nil && ds.snap.Rev() > snap.Rev() {
			snap = ds.snap
		}
		if ds.busy {
			// The pass in flight may have listed its fragments before s was active.
			ds.dirty = true
		}
		if snap.Rev() > s.rev {
			offers = append(offers, offer{s, s.cohort, snap})
		}
		if s.ws != 0 && s.auth.seq != h.memberSeq {
			// A membership event or resync came after the cohort query began, maybe while
			// c was not yet in byUser (Notify ignored it then): re-check now that it is.
			k := memberKey{c.userID, s.ws}
			if !h.members[k] {
				h.members[k] = true
				h.pending = append(h.pending, job{member: k})
				h.signal()
			}
		}
	}
	set := h.byUser[c.userID]
	if set == nil {
		set = make(map[*Client]struct{})
		h.byUser[c.userID] = set
	}
	set[c] = struct{}{}
	c.counted = true
	h.stats.connections.Add(1)
	h.stats.subscriptions.Add(int64(len(c.subs)))
	return offers, nil
}

// catchUp queues the current fragment of every subscription Subscribe found behind. A
// (re)connect behind on many items is owed them all at once, which is not slow consumption:
// they go out as batch frames (BatchFrame) of at most maxBatchBytes each, not one queue
// slot per item.
func (h *Hub) catchUp(ctx context.Context, c *Client, offers []offer) {
	items := make([]catchUpItem, 0, len(offers))
	for _, o := range offers {
		if b, rev, ok := h.current(ctx, o); ok {
			items = append(items, catchUpItem{o.s, o.cohort, rev, b})
		}
	}
	if len(items) == 1 {
		it := items[0]
		now := h.now()
		r := c.offer(it.s, it.cohort, &fanOut{rev: it.rev, full: it.bytes}, time.Time{}, now)
		h.account(r.count(), time.Time{}, now)
		return
	}
	c.offerBatch(items)
}

// catchUpItem is one fragment Subscribe owes a subscription.
type catchUpItem struct {
	s      *sub
	cohort string
	rev    int64
	bytes  []byte
}

// current returns the current fragment for one new subscription, from the cache when a
// fragment of that rev was already rendered for its cohort.
func (h *Hub) current(ctx context.Context, o offer) ([]byte, int64, bool) {
	k := renderKey{o.s.view, o.cohort}
	rev := o.snap.Rev()
	if r, ok := h.cached(o.s.ds, k, rev); ok {
		return r.bytes, r.rev, true
	}
	b, err := h.renderShared(ctx, o.s.ds, o.snap, k)
	if err != nil {
		h.log.Warn("live: render on subscribe", "draft", o.s.target, "view", k.view, "cohort", k.cohort, "err", err)
		return nil, 0, false
	}
	return b, rev, true
}

// detach removes c from the hub's indexes.
func (h *Hub) detach(c *Client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.clients, c)
	for _, k := range c.sessions {
		if set := h.bySession[k]; set != nil {
			delete(set, c)
			if len(set) == 0 {
				delete(h.bySession, k)
			}
		}
	}
	if set := h.byUser[c.userID]; set != nil {
		delete(set, c)
		if len(set) == 0 {
			delete(h.byUser, c.userID)
		}
	}
	for _, s := range c.subs {
		s.active = false
		if ds := s.ds; ds != nil {
			delete(ds.subs, s)
			h.forgetIfIdleLocked(ds)
		}
	}
	if c.counted {
		c.counted = false
		h.stats.connections.Add(-1)
		h.stats.subscriptions.Add(-int64(len(c.subs)))
	}
}

// forgetIfIdleLocked drops a draft nobody watches unless a worker or the queue still holds
// it; they call it again when done.
func (h *Hub) forgetIfIdleLocked(ds *draftState) {
	if len(ds.subs) == 0 && !ds.busy && !ds.queued && h.drafts[ds.id] == ds {
		delete(h.drafts, ds.id)
	}
}

// recheck asks the Authorizer again for one (user, workspace): lost access closes that user's
// clients watching the workspace with ErrRevoked; a new cohort moves their subscriptions and
// sends them the new cohort's current fragment.
func (h *Hub) recheck(ctx context.Context, userID, ws int64) {
	ctx, cancel := context.WithTimeout(ctx, h.opts.WorkTimeout)
	defer cancel()
	cohort, err := h.recheckCohort(ctx, userID, ws)
	revoke := errors.Is(err, fault.ErrNotFound) || errors.Is(err, fault.ErrForbidden)
	if err != nil && !revoke {
		// Keep serving on a transient failure; the next check decides.
		h.log.Warn("live: recheck", "user", userID, "workspace", ws, "err", err)
		return
	}
	var revoked []*Client
	h.mu.Lock()
	for c := range h.byUser[userID] {
		for _, s := range c.subs {
			if !s.active || s.ws != ws {
				continue
			}
			if revoke || !h.mayWatch(cohort, s.target) {
				// Gone, or the new cohort may not watch this topic (an owner made a viewer
				// on the audit log's page): the client goes, as a revoked one.
				revoked = append(revoked, c)
				break
			}
			if s.cohort == cohort {
				continue
			}
			c.mu.Lock()
			// Forget the rev so the new cohort's fragment of the same rev is sent, in full.
			s.cohort, s.rev, s.taken = cohort, 0, 0
			c.mu.Unlock()
			s.ds.force = true
			h.scheduleLocked(s.ds)
		}
	}
	h.mu.Unlock()
	for _, c := range revoked {
		if c.closeWith(ErrRevoked) {
			h.stats.revocations.Add(1)
		}
	}
}

// recheckLoop re-authorises every (user, workspace) with clients each RecheckInterval.
func (h *Hub) recheckLoop(ctx context.Context) {
	t := time.NewTicker(h.opts.RecheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		h.mu.Lock()
		pairs := make(map[memberKey]struct{})
		for user, set := range h.byUser {
			for c := range set {
				for _, s := range c.subs {
					if s.active && s.ws != 0 {
						pairs[memberKey{user, s.ws}] = struct{}{}
					}
				}
			}
		}
		h.mu.Unlock()
		for k := range pairs {
			if ctx.Err() != nil {
				return
			}
			h.recheck(ctx, k.user, k.workspace)
		}
	}
}

// offerResult is what one offer did.
type offerResult uint8

const (
	offerSkipped  offerResult = iota // closed, moved to another cohort, or rev not newer
	offerQueued                      // a new queue slot
	offerReplaced                    // replaced the subscription's queued frame (latest wins)
	offerSlow                        // the client stopped reading: closed with ErrSlowConsumer
)

// offerCount tallies offers for Hub.account.
type offerCount struct{ queued, replaced int }

func (r offerResult) count() offerCount {
	switch r {
	case offerQueued:
		return offerCount{queued: 1}
	case offerReplaced:
		return offerCount{queued: 1, replaced: 1}
	}
	return offerCount{}
}

func (n *offerCount) add(r offerResult) {
	c := r.count()
	n.queued += c.queued
	n.replaced += c.replaced
}

// offer queues b for s unless s already has rev or newer, or s moved to another cohort since
// the fragment was chosen. A queued frame for s is replaced (latest wins), so the queue holds
// at most one frame per subscription. A frame that has waited longer than SlowTimeout (the
// client stopped reading) closes the client with ErrSlowConsumer. It never blocks. eventAt is
// the triggering notification's time, zero when none; now is the caller's clock reading, one
// per fan-out pass.
//
// offer is the per-connection step of a fan-out, so it does only what must be done per
// connection: one uncontended lock, no allocation when the slot exists, no clock reading, no
// shared counter or metric (the caller tallies the results and calls Hub.account once).
func (c *Client) offer(s *sub, cohort string, out *fanOut, eventAt, now time.Time) offerResult {
	rev := out.rev
	c.mu.Lock()
	if c.err != nil || s.cohort != cohort || rev <= s.rev {
		c.mu.Unlock()
		return offerSkipped
	}
	if len(c.queue) > 0 && now.Sub(c.queue[0].since) > c.hub.opts.SlowTimeout {
		c.mu.Unlock()
		c.slow()
		return offerSlow
	}
	s.rev = rev
	// The browser will hold s.taken when it reads this frame: whether or not a frame of s is
	// queued (this one replaces it), that is the base a delta must have.
	b := out.full
	if s.deltas {
		b = out.pick(s.taken)
	}
	for i := range c.queue {
		if f := &c.queue[i]; f.s == s {
			f.bytes, f.rev = b, rev
			// The replacing fragment also carries the older change: latency is measured
			// from the earliest one.
			if f.at.IsZero() || !eventAt.IsZero() && eventAt.Before(f.at) {
				f.at = eventAt
			}
			c.mu.Unlock()
			// No wake: the replaced frame was queued, so its wake-up is pending or its
			// writer has not yet taken the queue.
			return offerReplaced
		}
	}
	c.queue = append(c.queue, frame{s: s, rev: rev, bytes: b, since: now, at: eventAt})
	c.mu.Unlock()
	c.wake()
	return offerQueued
}

// account records a fan-out's offers once: frames queued (new slots and replacements),
// frames replaced, and the notification → queued latency measured at now (eventAt zero: not
// caused by a notification).
func (h *Hub) account(n offerCount, eventAt, now time.Time) {
	if n.queued > 0 {
		h.stats.queued.Add(int64(n.queued))
		if eventAt.IsZero() {
			h.obs.FramesQueued(n.queued, 0, false)
		} else {
			h.obs.FramesQueued(n.queued, now.Sub(eventAt), true)
		}
	}
	if n.replaced > 0 {
		h.stats.dropped.Add(int64(n.replaced))
		h.obs.FramesDropped(n.replaced)
	}
}

// maxBatchBytes bounds one catch-up batch frame; a larger catch-up is split.
const maxBatchBytes = 64 << 10

// offerBatch queues a catch-up: the items still newer than what each subscription has, as
// batch frames. They are not keyed to a subscription, so a newer fragment offered later
// queues behind them and the browser applies both in order.
func (c *Client) offerBatch(items []catchUpItem) {
	h := c.hub
	now := h.now()
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	var parts [][]byte
	size, n := 0, 0
	flush := func() {
		if len(parts) > 0 {
			c.queue = append(c.queue, frame{bytes: BatchFrame(parts...), since: now})
			parts, size = nil, 0
		}
	}
	for _, it := range items {
		if it.s.cohort != it.cohort || it.rev <= it.s.rev {
			continue
		}
		if size > 0 && size+len(it.bytes) > maxBatchBytes {
			flush()
		}
		it.s.rev, it.s.taken = it.rev, it.rev
		parts = append(parts, it.bytes)
		size += len(it.bytes)
		n++
	}
	flush()
	c.mu.Unlock()
	if n == 0 {
		return
	}
	h.stats.queued.Add(int64(n))
	h.stats.catchUps.Add(1)
	h.stats.catchUpItems.Add(int64(n))
	h.obs.CaughtUp(n)
	h.obs.FramesQueued(n, 0, false)
	c.wake()
}

// BatchOpen starts every part of a batch frame.
const BatchOpen = "<template data-live-batch>"

// BatchFrame encodes several fragments as one frame: each fragment inside its own
// <template data-live-batch> element, so each is parsed on its own (a table row parses as
// a row). A frame whose root is not such a template is a single fragment.
func BatchFrame(fragments ...[]byte) []byte {
	n := 0
	for _, f := range fragments {
		n += len(BatchOpen) + len(f) + len(batchEnd)
	}
	b := make([]byte, 0, n)
	for _, f := range fragments {
		b = appendBatchPart(b, f)
	}
	return b
}

const batchEnd = "</template>"

// SplitBatch returns a frame's fragments, for clients other than the browser: a batch
// frame's parts in order (BatchFrame's inverse), or the frame itself. The parts share b's
// memory.
func SplitBatch(b []byte) [][]byte {
	if !bytes.HasPrefix(b, []byte(BatchOpen)) {
		return [][]byte{b}
	}
	parts := bytes.Split(b, []byte(BatchOpen))[1:]
	for i, p := range parts {
		parts[i] = bytes.TrimSuffix(p, []byte(batchEnd))
	}
	return parts
}

// appendBatchPart appends fragment f to b as one part of a batch frame.
func appendBatchPart(b, f []byte) []byte {
	b = append(b, BatchOpen...)
	b = append(b, f...)
	return append(b, batchEnd...)
}

func (c *Client) wake() {
	if f := c.notify.Load(); f != nil {
		(*f)()
		return
	}
	select {
	case c.ready <- struct{}{}:
	default:
	}
}

// OnWake makes f be called instead of Ready being signalled: whenever frames are queued for
// the client, and once when it ends. A writer without a goroutine of its own (the /live
// endpoint's) schedules its write from f; f runs where the hub queues frames, so it must not
// block or call the hub. Frames queued before OnWake are not announced to f: call Take after
// it.
func (c *Client) OnWake(f func()) { c.notify.Store(&f) }

func (c *Client) stale(now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue) > 0 && now.Sub(c.queue[0].since) > c.hub.opts.SlowTimeout
}

func (c *Client) slow() {
	if c.closeWith(ErrSlowConsumer) {
		c.hub.stats.slowCloses.Add(1)
	}
}

// closeWith ends the client with reason; it reports whether this call closed it.
func (c *Client) closeWith(reason error) bool {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return false
	}
	c.err = reason
	c.queue = nil
	close(c.done)
	c.mu.Unlock()
	c.hub.detach(c)
	c.hub.obs.ClientClosed(reason)
	if f := c.notify.Load(); f != nil {
		(*f)()
	}
	return true
}

// Next returns the next frame: one fragment's HTML, to be written as one text message. It
// blocks until a frame is queued, the client is closed (it returns Err) or ctx ends.
func (c *Client) Next(ctx context.Context) ([]byte, error) {
	b, _, err := c.NextAt(ctx)
	return b, err
}

// NextAt is Next that also returns the time of the earliest notification whose change the
// frame carries (Event.At), so the endpoint can measure notification → frame written. It is
// zero when no notification caused the frame (subscribe, resync, cohort change).
func (c *Client) NextAt(ctx context.Context) ([]byte, time.Time, error) {
	for {
		c.mu.Lock()
		if c.err != nil {
			err := c.err
			c.mu.Unlock()
			return nil, time.Time{}, err
		}
		if len(c.queue) > 0 {
			f := c.queue[0]
			c.removeLocked(1)
			c.mu.Unlock()
			return f.bytes, f.at, nil
		}
		c.mu.Unlock()
		select {
		case <-c.ready:
		case <-c.done:
		case <-ctx.Done():
			return nil, time.Time{}, ctx.Err()
		}
	}
}

// removeLocked drops the first n queued frames, which leave for the socket; c.mu is held.
func (c *Client) removeLocked(n int) {
	for _, f := range c.queue[:n] {
		if f.s != nil {
			f.s.taken = f.rev
		}
	}
	rest := copy(c.queue, c.queue[n:])
	clear(c.queue[rest:])
	c.queue = c.queue[:rest]
}

// Ready receives a value after a frame was queued (a channel of capacity 1: one value may
// stand for several frames, and may remain after Take emptied the queue). A writer that
// found the queue empty waits on Ready, Done and its own timers: no context or timer per
// wait.
func (c *Client) Ready() <-chan struct{} { return c.ready }

// Take removes the queued frames that fit in one message and returns that message without
// waiting: a lone frame's bytes as they are (no copy), or several frames, in queue order, as
// one batch frame (each fragment a BatchFrame part, a catch-up batch's parts kept as they
// are) of at most maxBatchBytes of fragments. The browser applies each part by the rev rule,
// so one message carries what several would have. at is the earliest notification time among
// the frames taken (zero when none); n is how many were taken, 0 when the queue is empty.
// Once the client is closed Take returns its Err.
func (c *Client) Take() (msg []byte, at time.Time, n int, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil, time.Time{}, 0, c.err
	}
	if len(c.queue) == 0 {
		return nil, time.Time{}, 0, nil
	}
	size := len(c.queue[0].bytes)
	n = 1
	for n < len(c.queue) && size+len(c.queue[n].bytes) <= maxBatchBytes {
		size += len(c.queue[n].bytes)
		n++
	}
	taken := c.queue[:n]
	for _, f := range taken {
		if !f.at.IsZero() && (at.IsZero() || f.at.Before(at)) {
			at = f.at
		}
	}
	if n == 1 {
		msg = taken[0].bytes
	} else {
		msg = make([]byte, 0, size+n*(len(BatchOpen)+len(batchEnd)))
		for _, f := range taken {
			if f.s == nil {
				msg = append(msg, f.bytes...) // a catch-up batch: already parts
			} else {
				msg = appendBatchPart(msg, f.bytes)
			}
		}
	}
	c.removeLocked(n)
	return msg, at, n, nil
}

// Done is closed when the hub or the owner closed the client; Err then says why.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns nil while the client is open, else ErrSlowConsumer (close 1013), ErrRevoked
// (1008), ErrSessionEnded (4401), ErrShutdown (1001) or ErrClosed (Close was called).
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close unsubscribes the client. It is idempotent and safe to call concurrently with Next.
func (c *Client) Close() { c.closeWith(ErrClosed) }
