// Package presence tracks who has which draft open, on which wizard step and in which field,
// across every server process (docs/live.md, Presence).
//
// Each process keeps its own sockets' presence in memory (Set, Leave) and tells the other
// processes only of changes: per draft, at most one message per Coalesce, carrying this
// process's whole entry list for that draft (so a message is idempotent and a lost one is
// repaired by the next). Every LeaseInterval the process renews one lease row holding its
// current state; other processes read the rows at the same time, so a crashed process's
// entries expire after LeaseTTL and a starting process learns the state at once. Presence is
// never a draft write: nothing here touches a draft, its version, rev or audit trail.
//
// The package imports only the standard library; the transport (NOTIFY on the live channel
// and the UNLOGGED lease table) is the Store, implemented by internal/postgres.
package presence

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Store carries presence between processes. Implementations must be safe for concurrent use.
type Store interface {
	// Publish sends each payload to every process (the live channel's NOTIFY), all in one
	// transaction.
	Publish(ctx context.Context, payloads []string) error
	// Renew writes this process's lease (expiring ttl from now) holding state, deletes
	// expired leases, and returns every other process's live lease, in one transaction.
	Renew(ctx context.Context, process string, ttl time.Duration, state []byte) ([]Lease, error)
	// Drop deletes this process's lease (graceful shutdown).
	Drop(ctx context.Context, process string) error
}

// Lease is one process's lease row.
type Lease struct {
	Process string
	Expires time.Time
	State   []byte // what that process passed to Renew
}

// Watcher receives presence frames for the browser: one JSON text message per draft
// (FrameType). Offer must not block; a watcher keeps only the latest frame per draft.
type Watcher interface {
	Offer(draftID string, frame []byte)
}

// State is what one tab reports: the wizard step it shows (1–5), the form field it is
// editing ("" = none; see FieldLabel) and whether its operator has been idle.
type State struct {
	Step  int
	Field string
	Idle  bool
}

// Conn names one socket's presence; NewConn hands them out.
type Conn uint64

// Options tune a Registry; zero values take the defaults.
type Options struct {
	// Process names this process in messages and its lease row; required and unique per
	// running process.
	Process string
	// Coalesce: changes are published, and pushed to this process's watchers, at most once
	// per Coalesce (default 150ms): at most one message per draft per Coalesce.
	Coalesce time.Duration
	// LeaseInterval: how often the lease is renewed and the others' are read; default 20s.
	LeaseInterval time.Duration
	// LeaseTTL: a lease not renewed for this long has expired and its process's entries are
	// dropped; default 3 × LeaseInterval. It must exceed 2 × LeaseInterval.
	LeaseTTL time.Duration
	// LeaveGrace: a closed socket's entry stays this long (default 1s; negative = none), so a
	// tab moving to another step (a new page, a new socket) does not flicker out and back
	// in for everyone; a person's entries fold into one, so the new socket's shows at once.
	LeaveGrace time.Duration
	Logger     *slog.Logger
	// OnChange, when set, is called after each flush with the drafts whose presence changed
	// (this process's sockets or another process's message), outside the registry's lock, on
	// the flushing goroutine with its context (like Publish: keep it short). The workspace
	// dashboard's live topic is scheduled by it.
	OnChange func(ctx context.Context, draftIDs []string)
}

// Stats are a registry's counters since New.
type Stats struct {
	Present      int64 // local (socket, draft) entries now
	Published    int64 // messages published (payloads)
	PublishTx    int64 // Publish transactions
	LeaseTx      int64 // Renew transactions
	Received     int64 // valid messages from other processes
	BadMessages  int64 // malformed messages dropped
	FramesPushed int64 // frames offered to watchers
	Expired      int64 // processes whose entries expired
}

// MessagePrefix starts every presence message on the live channel; the listener routes
// payloads that start with it here instead of to the hub.
const MessagePrefix = `{"k":"presence"`

// FrameType is the "t" of frames to and from the browser.
const FrameType = "presence"

// maxPayload keeps a message under PostgreSQL's NOTIFY limit (8,000 bytes).
const maxPayload = 7800

// IdleAfter is how long without input the browser waits before it reports its operator idle.
const IdleAfter = 3 * time.Minute

// fieldLabels names the wizard's form fields a tab may report editing. Any other field name
// is reported as none, so a client cannot make others' pages show text of its choosing.
var fieldLabels = map[string]string{
	"tenant_id":       "Tenant ID",
	"display_name":    "Display name",
	"primary_domain":  "Primary domain",
	"client_id":       "Client ID",
	"client_secret":   "Client secret",
	"operations":      "Operations",
	"override_reason": "Override reason",
}

// FieldLabel is a reportable field's label, "" for any other name.
func FieldLabel(name string) string { return fieldLabels[name] }

// entry is one person's presence on one draft, on the wire between processes.
type entry struct {
	U int64  `json:"u"`
	E string `json:"e"`
	S int    `json:"s"`
	F string `json:"f,omitempty"`
	I bool   `json:"i,omitempty"`
}

// better reports whether a says more than b about the same person (several tabs or processes):
// active over idle, in a field over not, the later step.
func better(a, b entry) bool {
	if a.I != b.I {
		return !a.I
	}
	if (a.F != "") != (b.F != "") {
		return a.F != ""
	}
	return a.S > b.S
}

// message is one process's entries for one draft, or its goodbye.
type message struct {
	K   string  `json:"k"`
	N   string  `json:"n"`
	Q   uint64  `json:"q,omitempty"`
	D   string  `json:"d,omitempty"`
	P   []entry `json:"p,omitempty"`
	Bye bool    `json:"bye,omitempty"`
}

// leaseState is a lease row's state: this process's entries per draft as of seq Q.
type leaseState struct {
	Q uint64             `json:"q"`
	D map[string][]entry `json:"d"`
}

type local struct {
	conn  Conn
	draft string
	e     entry
}

type remote struct {
	seq     uint64
	entries []entry
}

type draftState struct {
	local    map[Conn]entry
	remote   map[string]remote // by process
	watchers map[Watcher]struct{}
	frame    []byte // last frame offered to watchers
}

func (d *draftState) empty() bool {
	return len(d.local) == 0 && len(d.remote) == 0 && len(d.watchers) == 0
}

// leaving is a closed socket's entry, kept until at (Options.LeaveGrace).
type leaving struct {
	draft string
	at    time.Time
}

type proc struct {
	expires time.Time
}

// Registry is one process's presence: its sockets' entries, the other processes' and the
// watchers to tell. Create it with New and Run it.
type Registry struct {
	opts  Options
	store Store
	log   *slog.Logger

	nextConn atomic.Uint64

	mu        sync.Mutex
	drafts    map[string]*draftState
	conns     map[Conn]string // conn → the draft it is present on
	leaving   map[Conn]leaving
	procs     map[string]*proc
	seq       uint64 // of this process's messages and lease states
	dirtyPub  map[string]struct{}
	dirtyView map[string]struct{}
	wake      chan struct{} // a change is waiting for the next flush
	resync    chan struct{}

	stats struct {
		published, publishTx, leaseTx, received, bad, pushed, expired atomic.Int64
	}
}

// New builds a registry publishing through store.
func New(store Store, opts Options) (*Registry, error) {
	if opts.Process == "" {
		return nil, errors.New("presence: no process name")
	}
	opts.Coalesce = cmp.Or(opts.Coalesce, 150*time.Millisecond)
	opts.LeaseInterval = cmp.Or(opts.LeaseInterval, 20*time.Second)
	opts.LeaseTTL = cmp.Or(opts.LeaseTTL, 3*opts.LeaseInterval)
	opts.LeaveGrace = cmp.Or(opts.LeaveGrace, time.Second)
	if opts.LeaseTTL <= 2*opts.LeaseInterval {
		return nil, fmt.Errorf("presence: lease TTL %v must exceed twice the interval %v", opts.LeaseTTL, opts.LeaseInterval)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Registry{
		opts: opts, store: store, log: opts.Logger,
		drafts:    map[string]*draftState{},
		conns:     map[Conn]string{},
		leaving:   map[Conn]leaving{},
		procs:     map[string]*proc{},
		dirtyPub:  map[string]struct{}{},
		dirtyView: map[string]struct{}{},
		wake:      make(chan struct{}, 1),
		resync:    make(chan struct{}, 1),
	}, nil
}

// Process is this registry's process name.
func (r *Registry) Process() string { return r.opts.Process }

// NewConn names a new socket's presence.
func (r *Registry) NewConn() Conn { return Conn(r.nextConn.Add(1)) }

// Stats returns the counters.
func (r *Registry) Stats() Stats {
	r.mu.Lock()
	present := int64(len(r.conns))
	r.mu.Unlock()
	return Stats{
		Present:      present,
		Published:    r.stats.published.Load(),
		PublishTx:    r.stats.publishTx.Load(),
		LeaseTx:      r.stats.leaseTx.Load(),
		Received:     r.stats.received.Load(),
		BadMessages:  r.stats.bad.Load(),
		FramesPushed: r.stats.pushed.Load(),
		Expired:      r.stats.expired.Load(),
	}
}

func (r *Registry) draft(id string) *draftState {
	d := r.drafts[id]
	if d == nil {
		d = &draftState{local: map[Conn]entry{}, remote: map[string]remote{}, watchers: map[Watcher]struct{}{}}
		r.drafts[id] = d
	}
	return d
}

func (r *Registry) forget(id string, d *draftState) {
	if d.empty() {
		delete(r.drafts, id)
	}
}

// changed marks a draft's view (and, when pub, this process's message) due at the next
// flush. r.mu is held.
func (r *Registry) changed(id string, pub bool) {
	r.dirtyView[id] = struct{}{}
	if pub {
		r.dirtyPub[id] = struct{}{}
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Set records that conn (a socket of user, whose email is shown) has draftID open in state
// st. A conn is present on one draft at a time: setting another draft leaves the first.
// Step must be 1–5; a field without a label counts as none.
func (r *Registry) Set(c Conn, user int64, email, draftID string, st State) {
	if st.Step < 1 || st.Step > 5 {
		st.Step = 0
	}
	if fieldLabels[st.Field] == "" {
		st.Field = ""
	}
	e := entry{U: user, E: email, S: st.Step, F: st.Field, I: st.Idle}
	r.mu.Lock()
	defer r.mu.Unlock()
	if prev, ok := r.conns[c]; ok && prev != draftID {
		r.leaveLocked(c, 0)
	}
	d := r.draft(draftID)
	if old, ok := d.local[c]; ok && old == e {
		return
	}
	d.local[c] = e
	r.conns[c] = draftID
	r.changed(draftID, true)
}

// Leave removes conn's presence (its socket closed) after Options.LeaveGrace.
func (r *Registry) Leave(c Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.leaveLocked(c, r.opts.LeaveGrace)
}

func (r *Registry) leaveLocked(c Conn, grace time.Duration) {
	id, ok := r.conns[c]
	if !ok {
		return
	}
	delete(r.conns, c)
	if grace > 0 {
		r.leaving[c] = leaving{id, time.Now().Add(grace)}
		return
	}
	d := r.drafts[id]
	delete(d.local, c)
	r.changed(id, true)
}

// Watch offers w the presence frames of drafts (at once for those with anyone present, then
// on every change) until Unwatch. The caller has authorised w's viewer for every draft.
func (r *Registry) Watch(w Watcher, drafts []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range drafts {
		d := r.draft(id)
		d.watchers[w] = struct{}{}
		if d.frame != nil {
			w.Offer(id, d.frame)
		} else if len(d.local)+len(d.remote) > 0 {
			r.changed(id, false)
		}
	}
}

// Unwatch stops offering w frames of drafts.
func (r *Registry) Unwatch(w Watcher, drafts []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range drafts {
		if d := r.drafts[id]; d != nil {
			delete(d.watchers, w)
			r.forget(id, d)
		}
	}
}

// Resync makes Run renew the lease and re-read every other process's state now: messages
// sent while the listener was disconnected are lost.
func (r *Registry) Resync() {
	select {
	case r.resync <- struct{}{}:
	default:
	}
}

// Remote applies a message another process published (the listener hands over every
// payload that starts with MessagePrefix). It never blocks on I/O; malformed messages are
// counted and dropped.
func (r *Registry) Remote(payload string) {
	m, err := parseMessage(payload)
	if err != nil {
		r.stats.bad.Add(1)
		r.log.Warn("presence: bad message dropped", "err", err, "payload", truncate(payload, 200))
		return
	}
	if m.N == r.opts.Process {
		return // our own, back through the listener
	}
	r.stats.received.Add(1)
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if m.Bye {
		r.dropProcLocked(m.N)
		return
	}
	p := r.procs[m.N]
	if p == nil {
		p = &proc{}
		r.procs[m.N] = p
	}
	// A message proves its process alive; a dead one's entries expire LeaseTTL after its last
	// message or lease renewal, whichever is later.
	if exp := now.Add(r.opts.LeaseTTL); exp.After(p.expires) {
		p.expires = exp
	}
	r.setRemoteLocked(m.N, m.D, m.Q, m.P)
}

// setRemoteLocked replaces process n's entries of draft id when seq is not older than what
// is held.
func (r *Registry) setRemoteLocked(n, id string, seq uint64, es []entry) {
	d := r.drafts[id]
	if d == nil && len(es) == 0 {
		return
	}
	d = r.draft(id)
	old, ok := d.remote[n]
	if ok && old.seq > seq {
		return
	}
	if len(es) == 0 {
		if !ok {
			return
		}
		delete(d.remote, n)
	} else {
		if ok && slices.Equal(old.entries, es) {
			d.remote[n] = remote{seq, es}
			return
		}
		d.remote[n] = remote{seq, es}
	}
	r.changed(id, false)
}

func (r *Registry) dropProcLocked(n string) {
	delete(r.procs, n)
	for id, d := range r.drafts {
		if _, ok := d.remote[n]; ok {
			delete(d.remote, n)
			r.changed(id, false)
		}
	}
}

// Run flushes changes, renews the lease and expires other processes until ctx ends; then it
// says goodbye (other processes drop this one's entries at once) and deletes its lease.
func (r *Registry) Run(ctx context.Context) error {
	r.renew(ctx)
	lease := time.NewTicker(r.opts.LeaseInterval)
	defer lease.Stop()
	every := min(time.Second, r.opts.LeaseTTL/4)
	if r.opts.LeaveGrace > 0 {
		every = min(every, r.opts.LeaveGrace/2)
	}
	sweep := time.NewTicker(every)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			r.goodbye()
			return nil
		case <-r.wake:
			// Coalesce: everything that changes within the window goes out together.
			t := time.NewTimer(r.opts.Coalesce)
			select {
			case <-ctx.Done():
				t.Stop()
				r.goodbye()
				return nil
			case <-t.C:
			}
			r.flush(ctx)
		case <-r.resync:
			r.renew(ctx)
		case <-lease.C:
			r.renew(ctx)
		case <-sweep.C:
			r.expire(time.Now())
		}
	}
}

// flush publishes this process's changed drafts in one transaction and offers the changed
// views to their watchers.
func (r *Registry) flush(ctx context.Context) {
	r.mu.Lock()
	var payloads []string
	var pubIDs []string
	for id := range r.dirtyPub {
		r.seq++
		payloads = append(payloads, r.messageLocked(id, r.seq))
		pubIDs = append(pubIDs, id)
	}
	clear(r.dirtyPub)
	type offer struct {
		id    string
		frame []byte
		ws    []Watcher
	}
	var offers []offer
	var changed []string
	for id := range r.dirtyView {
		d := r.drafts[id]
		if d == nil {
			continue
		}
		f := frameOf(id, d)
		if !bytes.Equal(f, d.frame) {
			changed = append(changed, id)
			d.frame = f
			if len(d.local)+len(d.remote) == 0 {
				d.frame = nil // nobody: a new watcher needs no frame
			}
			if len(d.watchers) > 0 {
				ws := make([]Watcher, 0, len(d.watchers))
				for w := range d.watchers {
					ws = append(ws, w)
				}
				offers = append(offers, offer{id, f, ws})
			}
		}
		r.forget(id, d)
	}
	clear(r.dirtyView)
	r.mu.Unlock()

	for _, o := range offers {
		for _, w := range o.ws {
			w.Offer(o.id, o.frame)
		}
		r.stats.pushed.Add(int64(len(o.ws)))
	}
	if len(changed) > 0 && r.opts.OnChange != nil {
		r.opts.OnChange(ctx, changed)
	}
	if len(payloads) == 0 {
		return
	}
	if err := r.store.Publish(ctx, payloads); err != nil {
		if ctx.Err() == nil {
			r.log.Warn("presence: publish", "err", err, "drafts", len(payloads))
		}
		// The next flush (or lease renewal) carries them.
		r.mu.Lock()
		for _, id := range pubIDs {
			r.dirtyPub[id] = struct{}{}
		}
		r.mu.Unlock()
		return
	}
	r.stats.publishTx.Add(1)
	r.stats.published.Add(int64(len(payloads)))
}

// aggregate folds entries by person (several tabs): the most telling one each, by email.
func aggregate(es []entry) []entry {
	by := map[int64]entry{}
	for _, e := range es {
		if old, ok := by[e.U]; !ok || better(e, old) {
			by[e.U] = e
		}
	}
	out := make([]entry, 0, len(by))
	for _, e := range by {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b entry) int { return cmp.Or(strings.Compare(a.E, b.E), cmp.Compare(a.U, b.U)) })
	return out
}

func localEntries(d *draftState) []entry {
	es := make([]entry, 0, len(d.local))
	for _, e := range d.local {
		es = append(es, e)
	}
	return aggregate(es)
}

// messageLocked is this process's message for draft id, within maxPayload.
func (r *Registry) messageLocked(id string, seq uint64) string {
	var es []entry
	if d := r.drafts[id]; d != nil {
		es = localEntries(d)
	}
	for {
		b, _ := json.Marshal(message{K: "presence", N: r.opts.Process, Q: seq, D: id, P: es})
		if len(b) <= maxPayload || len(es) == 0 {
			return string(b)
		}
		es = es[:len(es)*3/4] // an absurdly crowded draft: show fewer people
	}
}

// browserEntry is one person in a frame for the browser.
type browserEntry struct {
	U int64  `json:"u"`
	E string `json:"e"`
	S int    `json:"s,omitempty"`
	N string `json:"n,omitempty"` // the field's form name (the page finds its label by it)
	F string `json:"f,omitempty"` // the field's label
	I bool   `json:"i,omitempty"`
}

type browserFrame struct {
	T string         `json:"t"`
	D string         `json:"d"`
	P []browserEntry `json:"p"`
}

// Person is one person present on one draft, as Everyone reports them.
type Person struct {
	UserID  int64
	Email   string
	DraftID string
	Step    int // the wizard step their tab shows, 0 when unknown
	Idle    bool
}

// Everyone lists everyone present on any draft, on every process: one entry per person and
// draft (several tabs fold into the most telling one), by draft id, then email.
func (r *Registry) Everyone() []Person {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Person
	for id, d := range r.drafts {
		all := localEntries(d)
		for _, rm := range d.remote {
			all = append(all, rm.entries...)
		}
		for _, e := range aggregate(all) {
			out = append(out, Person{UserID: e.U, Email: e.E, DraftID: id, Step: e.S, Idle: e.I})
		}
	}
	slices.SortFunc(out, func(a, b Person) int {
		return cmp.Or(strings.Compare(a.DraftID, b.DraftID), strings.Compare(a.Email, b.Email))
	})
	return out
}

// frameOf is the browser frame of a draft: everyone present (the browser leaves out its own
// user), one entry per person, by email.
func frameOf(id string, d *draftState) []byte {
	all := localEntries(d)
	for _, rm := range d.remote {
		all = append(all, rm.entries...)
	}
	all = aggregate(all)
	f := browserFrame{T: FrameType, D: id, P: make([]browserEntry, 0, len(all))}
	for _, e := range all {
		f.P = append(f.P, browserEntry{U: e.U, E: e.E, S: e.S, N: e.F, F: fieldLabels[e.F], I: e.I})
	}
	b, _ := json.Marshal(f)
	return b
}

// renew writes this process's lease and applies the others'.
func (r *Registry) renew(ctx context.Context) {
	r.mu.Lock()
	r.seq++
	st := leaseState{Q: r.seq, D: map[string][]entry{}}
	for id, d := range r.drafts {
		if len(d.local) > 0 {
			st.D[id] = localEntries(d)
		}
	}
	r.mu.Unlock()
	b, _ := json.Marshal(st)
	leases, err := r.store.Renew(ctx, r.opts.Process, r.opts.LeaseTTL, b)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("presence: renew lease", "err", err)
		}
		return
	}
	r.stats.leaseTx.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range leases {
		if l.Process == r.opts.Process {
			continue
		}
		var ls leaseState
		if err := json.Unmarshal(l.State, &ls); err != nil {
			r.stats.bad.Add(1)
			continue
		}
		p := r.procs[l.Process]
		if p == nil {
			p = &proc{}
			r.procs[l.Process] = p
		}
		if l.Expires.After(p.expires) {
			p.expires = l.Expires
		}
		// The lease is the process's whole state as of ls.Q: drafts it does not list are
		// empty, unless a newer message said otherwise.
		for id, d := range r.drafts {
			if _, listed := ls.D[id]; !listed {
				if _, ok := d.remote[l.Process]; ok {
					r.setRemoteLocked(l.Process, id, ls.Q, nil)
				}
			}
		}
		for id, es := range ls.D {
			if validDraftID(id) {
				r.setRemoteLocked(l.Process, id, ls.Q, validEntries(es))
			}
		}
	}
}

// expire drops the entries of processes whose lease has expired, and of closed sockets
// whose grace has passed.
func (r *Registry) expire(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c, l := range r.leaving {
		if now.After(l.at) {
			delete(r.leaving, c)
			if d := r.drafts[l.draft]; d != nil {
				delete(d.local, c)
				r.changed(l.draft, true)
			}
		}
	}
	for n, p := range r.procs {
		if now.After(p.expires) {
			r.stats.expired.Add(1)
			r.log.Info("presence: process lease expired", "process", n)
			r.dropProcLocked(n)
		}
	}
}

// goodbye tells the other processes this one is leaving and deletes its lease, so its
// entries disappear at once rather than at the lease's expiry.
func (r *Registry) goodbye() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	b, _ := json.Marshal(message{K: "presence", N: r.opts.Process, Bye: true})
	if err := r.store.Publish(ctx, []string{string(b)}); err != nil {
		r.log.Warn("presence: goodbye", "err", err)
	}
	if err := r.store.Drop(ctx, r.opts.Process); err != nil {
		r.log.Warn("presence: drop lease", "err", err)
	}
}

// parseMessage decodes a message strictly.
func parseMessage(payload string) (message, error) {
	var m message
	if err := strictDecode(payload, &m); err != nil {
		return m, err
	}
	switch {
	case m.K != "presence":
		return m, errors.New("not a presence message")
	case m.N == "" || len(m.N) > 64:
		return m, errors.New("bad process name")
	case m.Bye:
		if m.D != "" || m.P != nil || m.Q != 0 {
			return m, errors.New("goodbye with entries")
		}
		return m, nil
	case !validDraftID(m.D):
		return m, errors.New("bad draft id")
	case m.Q == 0:
		return m, errors.New("no sequence")
	}
	if es := validEntries(m.P); len(es) != len(m.P) {
		return m, errors.New("bad entry")
	}
	return m, nil
}

func validEntries(es []entry) []entry {
	out := es[:0:0]
	for _, e := range es {
		if e.U > 0 && e.E != "" && len(e.E) <= 254 && e.S >= 0 && e.S <= 5 && (e.F == "" || fieldLabels[e.F] != "") {
			out = append(out, e)
		}
	}
	return out
}

func strictDecode(s string, v any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data")
	}
	return nil
}

// validDraftID reports whether s is a canonical (lower-case) UUID, the form drafts are
// keyed by.
func validDraftID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// clientFrame is what the browser sends on /live: the step its tab shows on draft d, the
// field it is editing and whether its operator is idle.
type clientFrame struct {
	T string `json:"t"`
	D string `json:"d"`
	S int    `json:"s"`
	F string `json:"f"`
	I bool   `json:"i"`
}

// ParseClientFrame decodes a browser's presence frame strictly. An unknown field name is
// not an error: it reads as no field (FieldLabel).
func ParseClientFrame(data []byte) (draftID string, st State, err error) {
	var f clientFrame
	if len(data) > 512 {
		return "", State{}, errors.New("frame too long")
	}
	if err := strictDecode(string(data), &f); err != nil {
		return "", State{}, err
	}
	switch {
	case f.T != FrameType:
		return "", State{}, fmt.Errorf("unknown frame type %q", f.T)
	case !validDraftID(strings.ToLower(f.D)):
		return "", State{}, errors.New("bad draft id")
	case f.S < 1 || f.S > 5:
		return "", State{}, errors.New("bad step")
	}
	if fieldLabels[f.F] == "" {
		f.F = ""
	}
	return strings.ToLower(f.D), State{Step: f.S, Field: f.F, Idle: f.I}, nil
}
