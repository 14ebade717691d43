package live

import (
	"context"
	"errors"
	"hash/maphash"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tenantops/onboard/internal/fault"
)

// Hub fans change notifications out to subscribed clients. Create it with NewHub, start Run,
// feed it with Notify and Resync, and attach connections with Subscribe.
//
// Locking: h.mu guards the draft and client indexes, every draft's scheduling state and
// render cache, and each subscription's cohort. Client.mu guards one client's queue and its
// subscriptions' revs. h.mu may be held while taking a Client.mu, never the reverse. No lock
// is held while calling Source or Authorizer.
type Hub struct {
	src  Source
	auth Authorizer
	opts Options
	obs  Observer
	log  *slog.Logger
	now  func() time.Time
	seed maphash.Seed
	pace *pace // Subscribe loads (Options.LoadRate)

	wake chan struct{} // cap 1: pending work was added
	jobs chan job

	mu      sync.Mutex
	drafts  map[string]*draftState
	clients map[*Client]struct{}
	byUser  map[int64]map[*Client]struct{}
	// bySession indexes clients by their viewer's session keys; ended remembers keys of
	// sessions that ended within endedTTL, so a Subscribe that raced the session's end
	// (its request was authenticated just before) is refused rather than left open.
	bySession map[string]map[*Client]struct{}
	ended     map[string]time.Time
	pending   []job              // drafts and memberships to process after the coalesce window
	members   map[memberKey]bool // memberships already in pending
	running   bool               // Run was called
	shutdown  bool               // Run returned or is returning
	started   chan struct{}      // closed when Run has started
	stopped   chan struct{}      // closed when Run is shutting down
	stats     counters

	// epoch counts Resync calls: 0 = the listener has not (yet) connected, so no snapshot is
	// known to be current. Subscribe reuses a draft's snapshot only within the epoch that
	// loaded it (draftState.fresh).
	epoch uint64
	// disconnected: the listener said it lost its connection (Disconnected) and has not
	// resynced since; nothing is reused meanwhile.
	disconnected bool
	// cohorts caches and single-flights Authorizer.Cohort per (user, workspace); see
	// share.go.
	cohorts   map[memberKey]*cohortCall
	cohortTTL time.Duration
	// memberSeq counts membership events and resyncs (see cohortCall.seq).
	memberSeq uint64

	// afterPass, when set before Run, is called after each draft pass (tests' readiness
	// signal).
	afterPass func(draftID string)
}

type counters struct {
	connections, subscriptions, notifications, ignored, bad atomic.Int64
	loads, loadErrors, renders, renderErrors, unchanged     atomic.Int64
	queued, dropped, slowCloses, revocations, resyncs       atomic.Int64
	reused, loadsShared, cohortQueries, cohortHits          atomic.Int64
	catchUps, catchUpItems, sessionCloses                   atomic.Int64
}

type memberKey struct{ user, workspace int64 }

// job is one unit for the worker pool: a draft to load and render, or a membership to
// re-check.
type job struct {
	ds     *draftState
	member memberKey
}

// renderKey identifies one fragment of a draft.
type renderKey struct{ view, cohort string }

type rendered struct {
	hash  uint64
	rev   int64
	bytes []byte
	// fanned: a pass offered these bytes to the key's active subscribers. Only then may a
	// later pass skip identical bytes as unchanged; a fragment rendered for a Subscribe
	// (possibly of a newer rev than the subscribers have) must still be fanned out.
	fanned bool
	// older are the fragments rendered for the key before this one, newest first (at most
	// deltaHistory): the bases deltas are made from.
	older []past
}

// past is an earlier fragment of a key.
type past struct {
	rev   int64
	bytes []byte
}

// deltaHistory is how many earlier fragments of a key the hub keeps as delta bases: a
// subscriber that fell further behind (its queued frame replaced that often before its
// writer took it) gets the full fragment.
const deltaHistory = 4

// fanOut is what one pass offers for one (view, cohort): the full fragment of rev and, for
// subscribers that apply deltas, the deltas from the fragments rendered before it.
type fanOut struct {
	rev    int64
	full   []byte
	deltas []past // base rev → delta fragment
}

// pick returns the delta from base, else the full fragment.
func (o *fanOut) pick(base int64) []byte {
	for _, d := range o.deltas {
		if d.rev == base {
			return d.bytes
		}
	}
	return o.full
}

// newFanOut makes the deltas of b (rev) from older when withDeltas.
func newFanOut(rev int64, b []byte, older []past, withDeltas bool) *fanOut {
	out := &fanOut{rev: rev, full: b}
	if !withDeltas {
		return out
	}
	for _, p := range older {
		if d := Delta(p.bytes, b, p.rev); d != nil {
			out.deltas = append(out.deltas, past{p.rev, d})
		}
	}
	return out
}

// draftState is the hub's per-draft record; it exists while the draft has subscribers.
type draftState struct {
	id        string
	workspace int64
	subs      map[*sub]struct{}
	cache     map[renderKey]*rendered
	snap      Snapshot // newest snapshot loaded (by the pool or by Subscribe)

	// Subscribe's reuse and single-flight (h.mu). seq counts accepted notifications and
	// resyncs for the draft. fresh is the newest snapshot whose load began at the current
	// seq and epoch, i.e. one that reflects every notification received so far; nil when a
	// notification or resync came after its load began. loading is Subscribe's load in
	// flight; rendering are Subscribe's renders in flight.
	seq       uint64
	fresh     Snapshot
	loading   *loadCall
	rendering map[renderCallKey]*renderCall

	// Scheduling: queued = in h.pending or h.jobs; busy = a worker owns it; dirty = an event
	// arrived since the worker's load began, so one more pass follows.
	queued, busy, dirty bool
	force               bool      // resync or cohort change: fan out even unchanged bytes
	since               time.Time // earliest event At since the last pass began
	gone                bool
}

// NewHub returns a hub reading snapshots and fragments from src and cohorts from auth.
func NewHub(src Source, auth Authorizer, opts Options) *Hub {
	if opts.Coalesce == 0 {
		opts.Coalesce = 5 * time.Millisecond
	}
	if opts.SlowTimeout <= 0 {
		opts.SlowTimeout = 2 * time.Second
	}
	if opts.RecheckInterval <= 0 {
		opts.RecheckInterval = 3 * time.Second
	}
	if opts.WorkTimeout <= 0 {
		opts.WorkTimeout = 10 * time.Second
	}
	if opts.Workers <= 0 {
		opts.Workers = max(2, runtime.GOMAXPROCS(0))
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Observer == nil {
		opts.Observer = NopObserver{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Hub{
		src:       src,
		auth:      auth,
		opts:      opts,
		obs:       opts.Observer,
		log:       opts.Logger,
		now:       opts.Clock,
		seed:      maphash.MakeSeed(),
		pace:      newPace(opts.LoadRate, opts.LoadBurst),
		wake:      make(chan struct{}, 1),
		jobs:      make(chan job),
		drafts:    make(map[string]*draftState),
		clients:   make(map[*Client]struct{}),
		byUser:    make(map[int64]map[*Client]struct{}),
		bySession: make(map[string]map[*Client]struct{}),
		ended:     make(map[string]time.Time),
		members:   make(map[memberKey]bool),
		cohorts:   make(map[memberKey]*cohortCall),
		cohortTTL: cohortTTL(opts),
		started:   make(chan struct{}),
		stopped:   make(chan struct{}),
	}
}

// Stats returns the counters.
func (h *Hub) Stats() Stats {
	c := &h.stats
	return Stats{
		Connections:   c.connections.Load(),
		Subscriptions: c.subscriptions.Load(),
		Notifications: c.notifications.Load(),
		Ignored:       c.ignored.Load(),
		BadEvents:     c.bad.Load(),
		Loads:         c.loads.Load(),
		LoadErrors:    c.loadErrors.Load(),
		Renders:       c.renders.Load(),
		RenderErrors:  c.renderErrors.Load(),
		Unchanged:     c.unchanged.Load(),
		FramesQueued:  c.queued.Load(),
		FramesDropped: c.dropped.Load(),
		SlowCloses:    c.slowCloses.Load(),
		Revocations:   c.revocations.Load(),
		Resyncs:       c.resyncs.Load(),
		Reused:        c.reused.Load(),
		LoadsShared:   c.loadsShared.Load(),
		CohortQueries: c.cohortQueries.Load(),
		CohortHits:    c.cohortHits.Load(),
		CatchUps:      c.catchUps.Load(),
		CatchUpItems:  c.catchUpItems.Load(),
		SessionCloses: c.sessionCloses.Load(),
		LoadPaceWait:  h.pace.waitedTotal(),
	}
}

// Notify schedules the work an event calls for. It never blocks on I/O: it takes the hub's
// lock briefly, so the listener's single goroutine can call it for every notification.
func (h *Hub) Notify(e Event) {
	h.stats.notifications.Add(1)
	outcome := h.notify(e)
	switch outcome {
	case NotifyIgnored:
		h.stats.ignored.Add(1)
	case NotifyBad:
		h.stats.bad.Add(1)
	}
	h.obs.Notified(e.Kind, outcome)
}

func (h *Hub) notify(e Event) NotifyOutcome {
	switch e.Kind {
	case KindDraft, KindRun:
		if e.DraftID == "" {
			return NotifyBad
		}
		// A draft event also schedules its workspace's drafts topic, a run event its runs
		// topic (when watched): the lists' digests are coalesced and rendered like a draft.
		// Both also schedule the workspace's dashboard.
		topic, dashboard := "", ""
		if e.WorkspaceID > 0 && e.Kind == KindDraft {
			topic = DraftsTopic(e.WorkspaceID)
		} else if e.WorkspaceID > 0 {
			topic = RunsTopic(e.WorkspaceID)
		}
		if e.WorkspaceID > 0 {
			dashboard = WorkspaceTopic(e.WorkspaceID)
		}
		return h.touch(e.At, e.DraftID, topic, dashboard)
	case KindAudit:
		if e.WorkspaceID <= 0 {
			return NotifyBad
		}
		return h.touch(e.At, AuditTopic(e.WorkspaceID))
	case KindWorkspace:
		if e.WorkspaceID <= 0 {
			return NotifyBad
		}
		return h.touch(e.At, WorkspaceTopic(e.WorkspaceID))
	case KindNotification:
		if e.UserID == 0 {
			return NotifyBad
		}
		return h.touch(e.At, UserTopic(e.UserID))
	case KindMembership:
		if e.UserID == 0 || e.WorkspaceID == 0 {
			return NotifyBad
		}
		k := memberKey{e.UserID, e.WorkspaceID}
		h.mu.Lock()
		defer h.mu.Unlock()
		// Forget the cached cohort at once, even with no client yet: a Subscribe in flight
		// may hold the old answer (activate notices and schedules a re-check).
		h.memberSeq++
		h.invalidateCohortLocked(k)
		if len(h.byUser[e.UserID]) == 0 || h.shutdown {
			return NotifyIgnored
		}
		if !h.members[k] {
			h.members[k] = true
			h.pending = append(h.pending, job{member: k})
			h.signal()
		}
		return NotifyAccepted
	case KindSession:
		if e.Session == "" {
			return NotifyBad
		}
		return h.endSession(e.Session)
	default:
		return NotifyBad
	}
}

// touch schedules a pass for each watched id (a draft or a topic; "" is skipped): the
// snapshot known so far is no longer current. at is the event's time (zero: now).
func (h *Hub) touch(at time.Time, ids ...string) NotifyOutcome {
	if at.IsZero() {
		at = h.now()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	outcome := NotifyIgnored
	for _, id := range ids {
		ds := h.drafts[id]
		if id == "" || ds == nil || h.shutdown {
			continue
		}
		if ds.since.IsZero() || at.Before(ds.since) {
			ds.since = at
		}
		ds.seq++
		ds.fresh = nil
		h.scheduleLocked(ds)
		outcome = NotifyAccepted
	}
	return outcome
}

// endedTTL is how long an ended session's key is remembered: far longer than a Subscribe
// takes between its request's authentication and its registration.
const endedTTL = time.Minute

// endSession closes every client of the session with ErrSessionEnded and remembers the key.
func (h *Hub) endSession(key string) NotifyOutcome {
	now := h.now()
	h.mu.Lock()
	for k, at := range h.ended {
		if now.Sub(at) > endedTTL {
			delete(h.ended, k)
		}
	}
	h.ended[key] = now
	var clients []*Client
	for c := range h.bySession[key] {
		clients = append(clients, c)
	}
	h.mu.Unlock()
	for _, c := range clients {
		if c.closeWith(ErrSessionEnded) {
			h.stats.sessionCloses.Add(1)
		}
	}
	if len(clients) == 0 {
		return NotifyIgnored
	}
	return NotifyAccepted
}

// scheduleLocked marks ds for another pass: queued once, or dirty when a worker owns it (the
// worker requeues it when done, so a burst during a slow render costs one more load, not one
// per event).
func (h *Hub) scheduleLocked(ds *draftState) {
	switch {
	case ds.busy:
		ds.dirty = true
	case !ds.queued:
		ds.queued = true
		h.pending = append(h.pending, job{ds: ds})
		h.signal()
	}
}

func (h *Hub) signal() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// Resync re-renders every draft with subscribers and sends the fragment to every client whose
// rev is older. Call it whenever the listener (re)connects: notifications sent while it was
// away are lost, so each connection starts a new epoch.
func (h *Hub) Resync() {
	h.stats.resyncs.Add(1)
	h.mu.Lock()
	n := 0
	h.epoch++
	h.disconnected = false
	// Notifications may have been lost: no snapshot or cohort is known current any more.
	h.memberSeq++
	clear(h.cohorts)
	for _, ds := range h.drafts {
		ds.seq++
		ds.fresh = nil
	}
	if !h.shutdown {
		for _, ds := range h.drafts {
			ds.force = true
			h.scheduleLocked(ds)
			n++
		}
	}
	h.mu.Unlock()
	h.obs.Resynced(n)
}

// Disconnected tells the hub that the listener lost its connection: notifications may be
// lost until the next Resync, so until then Subscribe loads every snapshot and asks for every
// cohort instead of reusing them. Optional; without it reuse continues until the Resync of
// the next connection.
func (h *Hub) Disconnected() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.disconnected = true
	h.memberSeq++
	clear(h.cohorts)
}

// Run runs the dispatcher, the render pool, the slow-consumer sweep and the periodic
// re-authorisation until ctx ends; then it closes every client with ErrShutdown and returns
// nil once its goroutines have stopped. Run may be called once.
func (h *Hub) Run(ctx context.Context) error {
	h.mu.Lock()
	if h.running {
		h.mu.Unlock()
		return errors.New("live: Run called twice")
	}
	h.running = true
	h.mu.Unlock()
	close(h.started)

	var wg sync.WaitGroup
	for range h.opts.Workers {
		wg.Go(func() { h.worker(ctx) })
	}
	wg.Go(func() { h.recheckLoop(ctx) })
	wg.Go(func() { h.sweepLoop(ctx) })
	h.dispatch(ctx)

	h.mu.Lock()
	h.shutdown = true
	clients := make([]*Client, 0, len(h.clients))
	for c := range h.clients {
		clients = append(clients, c)
	}
	h.mu.Unlock()
	close(h.stopped)
	for _, c := range clients {
		c.closeWith(ErrShutdown)
	}
	wg.Wait()
	return nil
}

// dispatch waits for work, lets a burst gather for the coalesce window, then hands each job
// to the pool. It may block on a busy pool; Notify never does, it only appends to h.pending.
func (h *Hub) dispatch(ctx context.Context) {
	var timer *time.Timer
	if h.opts.Coalesce > 0 {
		timer = time.NewTimer(time.Hour)
		timer.Stop()
		defer timer.Stop()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.wake:
		}
		if timer != nil {
			timer.Reset(h.opts.Coalesce)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		h.mu.Lock()
		batch := h.pending
		h.pending = nil
		clear(h.members)
		h.mu.Unlock()
		for _, j := range batch {
			select {
			case h.jobs <- j:
			case <-ctx.Done():
				return
			}
		}
	}
}

func (h *Hub) worker(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-h.jobs:
			if j.ds != nil {
				h.process(ctx, j.ds)
			} else {
				h.recheck(ctx, j.member.user, j.member.workspace)
			}
		}
	}
}

// target is one subscription to offer a fragment to.
type target struct {
	c *Client
	s *sub
}

// process loads one draft and renders each fragment its subscribers need, once per
// (view, cohort), then offers the bytes to those subscribers.
func (h *Hub) process(ctx context.Context, ds *draftState) {
	h.mu.Lock()
	ds.queued = false
	if ds.gone || len(ds.subs) == 0 || h.shutdown {
		h.forgetIfIdleLocked(ds)
		h.mu.Unlock()
		return
	}
	ds.busy, ds.dirty = true, false
	force, since := ds.force, ds.since
	ds.force, ds.since = false, time.Time{}
	seq, epoch := ds.seq, h.epoch
	h.mu.Unlock()

	defer func() {
		if h.afterPass != nil {
			h.afterPass(ds.id)
		}
		h.mu.Lock()
		ds.busy = false
		if ds.dirty && !ds.gone && len(ds.subs) > 0 {
			ds.dirty = false
			ds.queued = true
			h.pending = append(h.pending, job{ds: ds})
			h.signal()
		}
		h.forgetIfIdleLocked(ds)
		h.mu.Unlock()
	}()

	ctx, cancel := context.WithTimeout(ctx, h.opts.WorkTimeout)
	defer cancel()
	snap, err := h.load(ctx, ds.id)
	if errors.Is(err, fault.ErrGone) {
		h.dropDraft(ds)
		return
	}
	if err != nil {
		// Retried on the next event or resync.
		h.log.Warn("live: load draft", "draft", ds.id, "err", err)
		return
	}

	h.mu.Lock()
	h.keepSnapLocked(ds, snap, seq, epoch)
	keys := make(map[renderKey]struct{}, 2)
	for s := range ds.subs {
		if s.active {
			keys[renderKey{s.view, s.cohort}] = struct{}{}
		}
	}
	h.mu.Unlock()

	var targets []target
	for k := range keys {
		b, d, err := h.render(ctx, snap, k)
		if err != nil {
			h.log.Warn("live: render draft", "draft", ds.id, "view", k.view, "cohort", k.cohort, "err", err)
			continue
		}
		changed, older := h.store(ds, k, snap.Rev(), b, true)
		h.obs.Rendered(k.view, k.cohort, d, len(b), changed, nil)
		if !changed && !force {
			continue
		}
		targets = targets[:0]
		deltas := false
		h.mu.Lock()
		for s := range ds.subs {
			if s.active && s.view == k.view && s.cohort == k.cohort {
				targets = append(targets, target{s.c, s})
				deltas = deltas || s.deltas
			}
		}
		h.mu.Unlock()
		out := newFanOut(snap.Rev(), b, older, deltas)
		var n offerCount
		now := h.now()
		for _, t := range targets {
			n.add(t.c.offer(t.s, k.cohort, out, since, now))
		}
		h.account(n, since, h.now())
	}
}

func (h *Hub) load(ctx context.Context, draftID string) (Snapshot, error) {
	h.stats.loads.Add(1)
	start := time.Now()
	snap, err := h.src.Load(ctx, draftID)
	h.obs.Loaded(time.Since(start), err)
	if err != nil {
		h.stats.loadErrors.Add(1)
		return nil, err
	}
	return snap, nil
}

func (h *Hub) render(ctx context.Context, snap Snapshot, k renderKey) ([]byte, time.Duration, error) {
	h.stats.renders.Add(1)
	start := time.Now()
	b, err := h.src.Render(ctx, snap, k.view, k.cohort)
	d := time.Since(start)
	if err != nil {
		h.stats.renderErrors.Add(1)
		h.obs.Rendered(k.view, k.cohort, d, 0, false, err)
		return nil, d, err
	}
	return b, d, nil
}

// store records a rendered fragment in ds's cache and reports whether it differs from the
// last one for that key that a pass fanned out (a false result means no client needs it).
// fanned says the caller (a pass) offers the bytes to the key's subscribers. older are the
// key's earlier fragments (delta bases), newest first.
func (h *Hub) store(ds *draftState, k renderKey, rev int64, b []byte, fanned bool) (changed bool, older []past) {
	sum := maphash.Bytes(h.seed, b)
	h.mu.Lock()
	defer h.mu.Unlock()
	old := ds.cache[k]
	same := old != nil && old.hash == sum && old.rev >= rev
	if same && old.fanned {
		h.stats.unchanged.Add(1)
		return false, nil
	}
	switch {
	case same:
		old.fanned = old.fanned || fanned
		return true, old.older
	case old == nil:
		ds.cache[k] = &rendered{hash: sum, rev: rev, bytes: b, fanned: fanned}
	case rev > old.rev:
		r := &rendered{hash: sum, rev: rev, bytes: b, fanned: fanned, older: make([]past, 0, deltaHistory)}
		r.older = append(r.older, past{old.rev, old.bytes})
		r.older = append(r.older, old.older[:min(len(old.older), deltaHistory-1)]...)
		ds.cache[k] = r
		return true, r.older
	case rev == old.rev:
		ds.cache[k] = &rendered{hash: sum, rev: rev, bytes: b, fanned: fanned, older: old.older}
		return true, old.older
	}
	return true, nil
}

// cached returns the cached fragment for k if it was rendered from rev or newer.
func (h *Hub) cached(ds *draftState, k renderKey, rev int64) (*rendered, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := ds.cache[k]
	if r == nil || r.rev < rev {
		return nil, false
	}
	return r, true
}

// keepSnapLocked records a snapshot whose load began at (seq, epoch): it becomes ds.snap if
// it is the newest, and ds.fresh if no notification or resync arrived since its load began.
func (h *Hub) keepSnapLocked(ds *draftState, snap Snapshot, seq, epoch uint64) {
	if ds.snap == nil || snap.Rev() >= ds.snap.Rev() {
		ds.snap = snap
	}
	if seq == ds.seq && epoch == h.epoch && (ds.fresh == nil || snap.Rev() >= ds.fresh.Rev()) {
		ds.fresh = snap
	}
}

// dropDraft forgets a deleted draft: its subscriptions stay on their clients (which may watch
// other drafts) but receive nothing more.
func (h *Hub) dropDraft(ds *draftState) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ds.gone = true
	ds.fresh = nil
	for s := range ds.subs {
		s.active = false
	}
	clear(ds.subs)
	if h.drafts[ds.id] == ds {
		delete(h.drafts, ds.id)
	}
	h.log.Info("live: draft gone", "draft", ds.id)
}

// sweepLoop closes clients whose oldest queued frame waited longer than SlowTimeout even when
// no further frame arrives to notice it.
func (h *Hub) sweepLoop(ctx context.Context) {
	t := time.NewTicker(max(h.opts.SlowTimeout/4, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := h.now()
		for _, c := range h.clientList() {
			if c.stale(now) {
				c.slow()
			}
		}
	}
}

func (h *Hub) clientList() []*Client {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*Client, 0, len(h.clients))
	for c := range h.clients {
		out = append(out, c)
	}
	return out
}
