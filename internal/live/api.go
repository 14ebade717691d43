// Package live is the hub between "a change notification arrived from PostgreSQL" and "bytes
// queued for each WebSocket connection". It coalesces notifications per draft, loads each
// draft's snapshot once, renders each fragment once per (draft, view, permission cohort), and
// offers the bytes to bounded per-connection queues where the newest fragment of a target
// replaces an older one that was not yet written.
//
// The package imports only the standard library: the PostgreSQL listener, the snapshot loader,
// the templ renderer and the WebSocket endpoint are adapters written against this API.
package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Errors. Adapters wrap fault.ErrNotFound and fault.ErrForbidden (Authorizer) and
// fault.ErrGone (Source.Load); Subscribe refuses with those or fault.ErrInvalid (a
// subscription that names no draft or an unknown view). The hub closes clients with
// ErrSlowConsumer, ErrRevoked, ErrSessionEnded, ErrShutdown or ErrClosed and returns them from
// Client.Err. The web edge maps all of them to close codes (docs/live.md, Close codes).
var (
	// ErrSlowConsumer: the connection's queue stayed full; close 1013 (try again later) so
	// the browser reconnects and resyncs.
	ErrSlowConsumer = errors.New("slow consumer")
	// ErrRevoked: the viewer lost access to a subscribed workspace; close 1008, final.
	ErrRevoked = errors.New("access revoked")
	// ErrSessionEnded: the viewer's session ended (signed out, expired, deleted); close
	// 4401, final until the viewer signs in again.
	ErrSessionEnded = errors.New("session ended")
	// ErrShutdown: the hub stopped; close 1001 (going away).
	ErrShutdown = errors.New("hub shut down")
	// ErrClosed: the client was closed by its owner (Client.Close).
	ErrClosed = errors.New("client closed")
)

// Event kinds, as carried in notification payloads.
const (
	KindDraft      = "draft"      // the draft row changed
	KindRun        = "run"        // one of the draft's operation runs changed
	KindMembership = "membership" // a workspace membership changed (UserID, WorkspaceID)
	KindSession    = "session"    // a sign-in session ended (Session)
	// KindNotification: one of a user's notifications was added or changed (UserID).
	KindNotification = "notification"
	// KindAudit: an entry was added to a workspace's audit log (WorkspaceID).
	KindAudit = "audit"
	// KindWorkspace: the workspace's dashboard changed without a draft or run row changing
	// (someone opened or left one of its drafts: presence); schedules its workspace topic.
	KindWorkspace = "workspace"
)

// Topics. A subscription's DraftID names a draft (its UUID) or one of these topics, which
// the hub handles exactly like a draft (one pass = one Load + one Render per (view, cohort),
// the same rev rule, queue and authorisation through the snapshot's workspace), except for
// which events schedule them (Notify) and who may subscribe (docs/live.md, Topics):
//   - "drafts:{workspace id}", view "digest": the drafts list's counts and latest changes;
//     scheduled by every draft event of the workspace.
//   - "runs:{workspace id}", view "digest": the operations list's latest runs; scheduled by
//     every run event of the workspace.
//   - "audit:{workspace id}", view "digest": the audit log's newest entry; scheduled by audit
//     events; only cohorts a TopicAuthorizer lets watch it (those who may read the audit log).
//   - "workspace:{workspace id}", view "digest": the workspace dashboard (counts by state,
//     checkpoint and run outcome, who is online); scheduled by every draft and run event of
//     the workspace and by KindWorkspace events (presence).
//   - "user:{user id}", view "bell": the user's notifications; scheduled by notification
//     events; only that user may subscribe (anyone else: fault.ErrNotFound). Its snapshot's
//     WorkspaceID is 0: no workspace authorises it, its cohort is CohortSelf.
const (
	TopicDraftsPrefix    = "drafts:"
	TopicRunsPrefix      = "runs:"
	TopicUserPrefix      = "user:"
	TopicAuditPrefix     = "audit:"
	TopicWorkspacePrefix = "workspace:"
	CohortSelf           = "self" // the cohort of a user topic's only subscriber
)

// DraftsTopic, RunsTopic and UserTopic name the topics of a workspace and of a user.
func DraftsTopic(workspaceID int64) string {
	return TopicDraftsPrefix + strconv.FormatInt(workspaceID, 10)
}

// RunsTopic names the operations list topic of a workspace.
func RunsTopic(workspaceID int64) string { return TopicRunsPrefix + strconv.FormatInt(workspaceID, 10) }

// AuditTopic names the audit log topic of a workspace.
func AuditTopic(workspaceID int64) string {
	return TopicAuditPrefix + strconv.FormatInt(workspaceID, 10)
}

// WorkspaceTopic names the dashboard topic of a workspace.
func WorkspaceTopic(workspaceID int64) string {
	return TopicWorkspacePrefix + strconv.FormatInt(workspaceID, 10)
}

// UserTopic names the notifications topic of a user.
func UserTopic(userID int64) string { return TopicUserPrefix + strconv.FormatInt(userID, 10) }

// ParseTopic splits a topic id into its prefix (TopicDraftsPrefix, TopicRunsPrefix,
// TopicAuditPrefix, TopicWorkspacePrefix or TopicUserPrefix) and its positive id; ok is false
// for anything else (a draft id).
func ParseTopic(id string) (prefix string, n int64, ok bool) {
	for _, p := range []string{TopicDraftsPrefix, TopicRunsPrefix, TopicAuditPrefix, TopicWorkspacePrefix, TopicUserPrefix} {
		rest, found := strings.CutPrefix(id, p)
		if !found {
			continue
		}
		if rest == "" || len(rest) > 18 || strings.TrimLeft(rest, "0123456789") != "" || rest[0] == '0' {
			return "", 0, false
		}
		v, err := strconv.ParseInt(rest, 10, 64)
		return p, v, err == nil
	}
	return "", 0, false
}

// topicView is the one view a topic serves; "" for a draft id.
func topicView(id string) (view string, topic bool) {
	p, _, ok := ParseTopic(id)
	switch {
	case !ok:
		return "", false
	case p == TopicUserPrefix:
		return ViewBell, true
	default:
		return ViewDigest, true
	}
}

// ValidSubscription reports whether id and view may be subscribed together: a topic with
// its view, or a draft id (anything else) with a draft's view (ParseView).
func ValidSubscription(id, view string) bool {
	if want, topic := topicView(id); topic {
		return view == want
	}
	v, err := ParseView(view)
	return err == nil && !v.TopicView()
}

// Event is one change notification, decoded by the listener adapter.
type Event struct {
	Kind        string // KindDraft, KindRun, KindMembership, KindSession, KindNotification, KindAudit or KindWorkspace
	DraftID     string // draft and run events
	WorkspaceID int64  // also schedules the workspace's topic (drafts or runs)
	UserID      int64  // membership and notification events
	// Session names the ended session of a session event: the SHA-256 (hex) of its stored
	// token, never the token. Clients subscribed with that key are closed.
	Session string
	// At is when the change was committed if the payload says so, else when it was received;
	// zero means "now". Latency reported to the Observer is measured from it.
	At time.Time
}

// Snapshot is everything a fragment of one draft or topic is rendered from, read in one query.
type Snapshot interface {
	Target() string     // the draft's id, or the topic's (Subscription.Target)
	WorkspaceID() int64 // authorises it; 0 for a user topic
	Rev() int64         // max rev of the draft and its runs; orders fragments
}

// Source loads snapshots and renders fragments. Both must be safe for concurrent use; the
// hub never renders one draft twice at the same time from its worker pool.
type Source interface {
	// Load reads the draft's snapshot; an error wrapping fault.ErrGone when it no longer exists.
	Load(ctx context.Context, draftID string) (Snapshot, error)
	// Render returns the fragment HTML for view and cohort. Its root element carries
	// data-draft-id, data-version and data-rev. Render must be a pure function of its inputs.
	Render(ctx context.Context, s Snapshot, view, cohort string) ([]byte, error)
}

// Authorizer maps a viewer to a permission cohort: the name of the set of capabilities that
// changes what a fragment shows (for example "operator" or "viewer").
type Authorizer interface {
	// Cohort returns the viewer's cohort in the workspace, or an error wrapping fault.ErrNotFound
	// (not a member) or fault.ErrForbidden (a member without the view capability).
	Cohort(ctx context.Context, userID, workspaceID int64) (string, error)
}

// TopicAuthorizer is an Authorizer that also says which cohorts may watch a workspace topic
// that needs more than the view capability (the audit topic). The hub asks it when a topic
// is subscribed (no: fault.ErrForbidden) and when a viewer's cohort changes (no: the client
// is revoked). Without it every cohort that may view the workspace may watch its topics.
type TopicAuthorizer interface {
	MayWatch(cohort, topic string) bool
}

// Subscription is one fragment a connection wants: a view of a draft or of a topic.
type Subscription struct {
	Target string // a draft's id or a topic (DraftsTopic, RunsTopic, UserTopic)
	View   string // a view name (ParseView); default ViewCheckpoint, or a topic's only view
	Rev    int64  // the rev the tab shows; 0 = nothing
	// Deltas: the connection applies delta fragments (docs/live.md, Deltas). After the first
	// frame, which is always a full fragment, a change of a fragment cut into regions is sent
	// as the regions that changed.
	Deltas bool
}

// Viewer is who subscribes: the user whose access is checked and the keys of the sign-in
// session the connection belongs to (a session event naming any of them closes it).
type Viewer struct {
	UserID   int64
	Sessions []string
}

// SubscribeError names the draft or topic whose subscription failed; it unwraps to fault.ErrNotFound,
// fault.ErrForbidden, fault.ErrInvalid or the loader's error.
type SubscribeError struct {
	Target string
	Err    error
}

func (e *SubscribeError) Error() string {
	return fmt.Sprintf("subscribe draft %q: %v", e.Target, e.Err)
}

// Unwrap returns the cause.
func (e *SubscribeError) Unwrap() error { return e.Err }

// Options tune the hub. Zero values take the defaults.
type Options struct {
	// Coalesce is how long the hub waits after the first notification of a burst before
	// loading; default 5ms, negative = no wait.
	Coalesce time.Duration
	// SlowTimeout: a connection whose oldest queued frame waits longer (it stopped
	// reading) is closed with ErrSlowConsumer; default 2s. The queue itself holds at most
	// one frame per subscription plus a catch-up, so its length is never the criterion.
	SlowTimeout time.Duration
	// RecheckInterval: every client's authorisation is re-checked this often; default 3s.
	RecheckInterval time.Duration
	// CohortTTL: how long Subscribe may reuse an Authorizer.Cohort answer for a (user,
	// workspace); a membership event or Resync forgets it at once. Default
	// min(RecheckInterval, 3s); negative = no cache (concurrent queries are still shared).
	CohortTTL time.Duration
	// WorkTimeout bounds one draft's load and renders, and one authorisation check;
	// default 10s.
	WorkTimeout time.Duration
	// Workers is the render pool's size; default max(2, GOMAXPROCS).
	Workers int
	// LoadRate and LoadBurst pace the snapshot loads of Subscribes (a connect's catch-up): at
	// most LoadBurst at once, then LoadRate per second, so that the reconnect storm of a
	// deploy reads the database at a rate it can take. LoadRate ≤ 0: no pacing (the default;
	// serve sets it, LIVE_LOAD_RATE). Loads of notifications and resyncs are never paced.
	LoadRate  float64
	LoadBurst int
	// Clock returns the current time; default time.Now.
	Clock func() time.Time
	// Observer receives metric hooks; nil = none.
	Observer Observer
	// Logger; nil = discard.
	Logger *slog.Logger
}

// NotifyOutcome says what Notify did with an event.
type NotifyOutcome string

// Notify outcomes reported to Observer.Notified.
const (
	NotifyAccepted NotifyOutcome = "accepted" // scheduled
	NotifyIgnored  NotifyOutcome = "ignored"  // no subscriber for that draft or user
	NotifyBad      NotifyOutcome = "bad"      // malformed: unknown kind, missing ids
)

// Observer receives metric hooks. Calls are made from hub goroutines and must be cheap and
// non-blocking. Embed NopObserver to implement only some hooks.
type Observer interface {
	// Notified: one event passed to Notify.
	Notified(kind string, outcome NotifyOutcome)
	// Loaded: one snapshot load by the render pool.
	Loaded(d time.Duration, err error)
	// Rendered: one fragment render; changed is false when the bytes equal the last ones.
	Rendered(view, cohort string, d time.Duration, size int, changed bool, err error)
	// FramesQueued: n frames queued for connections by one fan-out (one fragment offered to
	// its subscribers) or one subscribe. fromEvent is true when latency is measured from a
	// notification's At (commit → the fan-out's last frame queued); false for subscribe,
	// resync and cohort changes. Called once per fan-out, not per connection.
	FramesQueued(n int, latency time.Duration, fromEvent bool)
	// FramesDropped: n queued frames were replaced by newer ones for the same targets.
	FramesDropped(n int)
	// ClientOpened and ClientClosed: a connection's subscription set began or ended; reason
	// is ErrSlowConsumer, ErrRevoked, ErrShutdown or ErrClosed.
	ClientOpened()
	ClientClosed(reason error)
	// Resynced: Resync scheduled this many drafts.
	Resynced(drafts int)
	// CaughtUp: Subscribe queued this many current fragments as a catch-up batch.
	CaughtUp(items int)
}

// NopObserver implements Observer with no-ops; embed it to implement a subset.
type NopObserver struct{}

func (NopObserver) Notified(string, NotifyOutcome)                           {}
func (NopObserver) Loaded(time.Duration, error)                              {}
func (NopObserver) Rendered(string, string, time.Duration, int, bool, error) {}
func (NopObserver) FramesQueued(int, time.Duration, bool)                    {}
func (NopObserver) FramesDropped(int)                                        {}
func (NopObserver) ClientOpened()                                            {}
func (NopObserver) ClientClosed(error)                                       {}
func (NopObserver) Resynced(int)                                             {}
func (NopObserver) CaughtUp(int)                                             {}

// Stats are the hub's counters. Connections and Subscriptions are current values; the rest
// count since NewHub.
type Stats struct {
	Connections   int64 // open clients
	Subscriptions int64 // open (client, draft, view) subscriptions
	Notifications int64 // events passed to Notify
	Ignored       int64 // events with no subscriber
	BadEvents     int64 // malformed events
	Loads         int64 // Source.Load calls (render pool and Subscribe)
	LoadErrors    int64
	Renders       int64 // Source.Render calls
	RenderErrors  int64
	Unchanged     int64 // renders whose bytes equalled the last ones (send skipped)
	FramesQueued  int64
	FramesDropped int64 // queued frames replaced by newer ones
	SlowCloses    int64
	Revocations   int64 // clients closed with ErrRevoked
	Resyncs       int64 // Resync calls
	Reused        int64 // Subscribe snapshots taken from the hub without a Load
	LoadsShared   int64 // Subscribe snapshots taken from another Subscribe's Load in flight
	CohortQueries int64 // Authorizer.Cohort calls (Subscribe and re-checks)
	CohortHits    int64 // Subscribe cohorts answered from the cache or a query in flight
	CatchUps      int64 // Subscribes that queued a batch of several current fragments
	CatchUpItems  int64 // fragments in those batches
	SessionCloses int64 // clients closed with ErrSessionEnded
	// LoadPaceWait is how long Subscribe loads waited for the load pace (Options.LoadRate).
	LoadPaceWait time.Duration
}
