// Package livemetrics exports the live path (hub, PostgreSQL listener, /live endpoint) to
// Prometheus.
package livemetrics

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenantops/onboard/internal/live"
)

// Metrics exports the live path to Prometheus. It is the hub's live.Observer, the PostgreSQL
// listener's observer (postgres.ListenerObserver, satisfied structurally so the adapters do
// not import each other) and the /live endpoint's observer (liveedge.EndpointObserver, likewise).
// The endpoint's hooks are safe on a nil *Metrics.
//
// Latency (onboard_live_frame_latency_seconds) runs from the moment the listener received
// the NOTIFY to the moment the frame was written to the socket: the payloads carry no commit
// time, and NOTIFY is delivered at commit, so the receive time is the commit time plus the
// delivery delay.
type Metrics struct {
	hub atomic.Pointer[func() live.Stats]

	notifications  *prometheus.CounterVec
	loadSeconds    prometheus.Histogram
	loadErrors     prometheus.Counter
	renders        *prometheus.CounterVec
	renderSeconds  prometheus.Histogram
	framesQueued   prometheus.Counter
	queueLatency   prometheus.Histogram
	framesDropped  prometheus.Counter
	clientCloses   *prometheus.CounterVec
	slowCloses     prometheus.Counter
	resyncs        prometheus.Counter
	resyncDrafts   prometheus.Counter
	sockets        prometheus.Gauge
	socketCloses   *prometheus.CounterVec
	framesSent     prometheus.Counter
	writeFailures  prometheus.Counter
	frameLatency   prometheus.Histogram
	lnConnected    prometheus.Gauge
	lnReconnects   prometheus.Counter
	lnDisconnects  prometheus.Counter
	lnNotification *prometheus.CounterVec
	lnBadPayloads  prometheus.Counter
	lnHeartbeat    prometheus.Counter
	catchUpItems   prometheus.Histogram
	polls          *prometheus.CounterVec
	refusals       *prometheus.CounterVec
}

var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// New creates the live metrics and registers them with reg (nil: not registered).
func New(reg prometheus.Registerer) *Metrics {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	m := &Metrics{
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "onboard_live_notifications_total",
			Help: "Events passed to the hub, by kind and outcome (accepted, ignored, bad)."}, []string{"kind", "outcome"}),
		loadSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "onboard_live_load_duration_seconds",
			Help: "Snapshot loads by the hub.", Buckets: latencyBuckets}),
		loadErrors: counter("onboard_live_load_errors_total", "Snapshot loads that failed."),
		renders: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "onboard_live_renders_total",
			Help: "Fragment renders by view (checkpoint, row, run) and result (changed, unchanged, error)."}, []string{"view", "result"}),
		renderSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "onboard_live_render_duration_seconds",
			Help: "Fragment render duration.", Buckets: latencyBuckets}),
		framesQueued: counter("onboard_live_frames_queued_total", "Frames queued for connections."),
		queueLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "onboard_live_queue_latency_seconds",
			Help: "NOTIFY received → a fan-out's frames queued, once per fan-out caused by a notification.", Buckets: latencyBuckets}),
		framesDropped: counter("onboard_live_frames_dropped_total", "Queued frames replaced by a newer fragment of the same target before being written."),
		clientCloses: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "onboard_live_client_closes_total",
			Help: "Hub clients closed, by reason (slow_consumer, revoked, session_ended, shutdown, closed)."}, []string{"reason"}),
		slowCloses:   counter("onboard_live_slow_closes_total", "Connections closed because they stopped reading: a queued frame waited longer than the slow timeout (close 1013)."),
		resyncs:      counter("onboard_live_resyncs_total", "Hub resyncs (one per listener connection: a new epoch)."),
		resyncDrafts: counter("onboard_live_resync_drafts_total", "Drafts re-rendered by resyncs."),
		sockets:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "onboard_live_sockets", Help: "Open /live WebSockets."}),
		socketCloses: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "onboard_live_socket_closes_total",
			Help: "/live WebSockets closed, by the close code the server sent; dropped: no close handshake (the peer vanished or a write failed); peer: the browser closed first."}, []string{"code"}),
		framesSent:    counter("onboard_live_frames_sent_total", "Frames written to /live WebSockets (a batched message counts each frame it carries)."),
		writeFailures: counter("onboard_live_write_failures_total", "Frame or ping writes that failed or timed out (the socket is closed)."),
		frameLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "onboard_live_frame_latency_seconds",
			Help: "NOTIFY received by the listener → message written to the socket, once per message (from the earliest change it carries).", Buckets: latencyBuckets}),
		lnConnected:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "onboard_live_listener_connected", Help: "1 while the listener listens on every channel."}),
		lnReconnects:  counter("onboard_live_listener_reconnects_total", "Listener connections after the first (each is a new epoch)."),
		lnDisconnects: counter("onboard_live_listener_disconnects_total", "Listening connections lost."),
		lnNotification: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "onboard_live_listener_notifications_total",
			Help: "Valid notifications received by the listener, by kind."}, []string{"kind"}),
		lnBadPayloads: counter("onboard_live_listener_bad_payloads_total", "Malformed notification payloads dropped."),
		lnHeartbeat:   counter("onboard_live_listener_heartbeat_timeouts_total", "Listener connections closed because a heartbeat did not come back."),
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "onboard_live_polls_total",
			Help: "GET /live/poll answers: changed (200), not_modified (304), refused (4xx/5xx)."}, []string{"result"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "onboard_live_refusals_total",
			Help: "Refused /live and /live/poll subscriptions, by reason (liveedge.RefusalReasons)."}, []string{"reason"}),
		catchUpItems: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "onboard_live_catchup_fragments",
			Help: "Current fragments sent at once to a (re)connect that was behind on several items.", Buckets: prometheus.ExponentialBuckets(2, 2, 10)}),
	}
	if reg == nil {
		return m
	}
	stat := func(f func(live.Stats) int64) func() float64 {
		return func() float64 {
			if p := m.hub.Load(); p != nil {
				return float64(f((*p)()))
			}
			return 0
		}
	}
	reg.MustRegister(
		m.notifications, m.loadSeconds, m.loadErrors, m.renders, m.renderSeconds, m.framesQueued,
		m.queueLatency, m.framesDropped, m.clientCloses, m.slowCloses, m.resyncs, m.resyncDrafts,
		m.sockets, m.socketCloses, m.framesSent, m.writeFailures, m.frameLatency, m.lnConnected,
		m.lnReconnects, m.lnDisconnects, m.lnNotification, m.lnBadPayloads, m.lnHeartbeat, m.catchUpItems, m.polls, m.refusals,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "onboard_live_connections", Help: "Open hub clients (subscribed connections)."},
			stat(func(s live.Stats) int64 { return s.Connections })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "onboard_live_subscriptions", Help: "Open (connection, draft, view) subscriptions."},
			stat(func(s live.Stats) int64 { return s.Subscriptions })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "onboard_live_load_pace_wait_seconds_total",
			Help: "Time Subscribe snapshot loads waited for the load pace's tokens (LIVE_LOAD_RATE), in all."},
			func() float64 { return stat(func(s live.Stats) int64 { return int64(s.LoadPaceWait) })() / 1e9 }),
	)
	return m
}

// WatchHub makes the connections and subscriptions gauges read stats (the hub's Stats).
func (m *Metrics) WatchHub(stats func() live.Stats) { m.hub.Store(&stats) }

var _ live.Observer = (*Metrics)(nil)

// Notified implements live.Observer.
func (m *Metrics) Notified(kind string, outcome live.NotifyOutcome) {
	switch kind {
	case live.KindDraft, live.KindRun, live.KindMembership:
	default:
		kind = "other" // bounded label values
	}
	m.notifications.WithLabelValues(kind, string(outcome)).Inc()
}

// Loaded implements live.Observer.
func (m *Metrics) Loaded(d time.Duration, err error) {
	m.loadSeconds.Observe(d.Seconds())
	if err != nil {
		m.loadErrors.Inc()
	}
}

// Rendered implements live.Observer.
func (m *Metrics) Rendered(view, cohort string, d time.Duration, size int, changed bool, err error) {
	// One label value for every run's panel and every run's row: the label stays bounded.
	if v, err := live.ParseView(view); err == nil && v.RunID != "" {
		view = v.Kind
	}
	result := "unchanged"
	switch {
	case err != nil:
		result = "error"
	case changed:
		result = "changed"
	}
	m.renders.WithLabelValues(view, result).Inc()
	m.renderSeconds.Observe(d.Seconds())
}

// FramesQueued implements live.Observer: called once per fan-out, so the latency histogram
// counts fan-outs, not frames.
func (m *Metrics) FramesQueued(n int, latency time.Duration, fromEvent bool) {
	m.framesQueued.Add(float64(n))
	if fromEvent {
		m.queueLatency.Observe(latency.Seconds())
	}
}

// FramesDropped implements live.Observer.
func (m *Metrics) FramesDropped(n int) { m.framesDropped.Add(float64(n)) }

// ClientOpened implements live.Observer; the connections gauge reads the hub's Stats.
func (m *Metrics) ClientOpened() {}

// ClientClosed implements live.Observer.
func (m *Metrics) ClientClosed(reason error) {
	r := "closed"
	switch {
	case errors.Is(reason, live.ErrSlowConsumer):
		r = "slow_consumer"
		m.slowCloses.Inc()
	case errors.Is(reason, live.ErrRevoked):
		r = "revoked"
	case errors.Is(reason, live.ErrShutdown):
		r = "shutdown"
	case errors.Is(reason, live.ErrSessionEnded):
		r = "session_ended"
	}
	m.clientCloses.WithLabelValues(r).Inc()
}

// Resynced implements live.Observer.
func (m *Metrics) Resynced(drafts int) {
	m.resyncs.Inc()
	m.resyncDrafts.Add(float64(drafts))
}

// CaughtUp implements live.Observer.
func (m *Metrics) CaughtUp(items int) { m.catchUpItems.Observe(float64(items)) }

// ListenerConnected implements postgres.ListenerObserver.
func (m *Metrics) ListenerConnected(reconnect bool) {
	m.lnConnected.Set(1)
	if reconnect {
		m.lnReconnects.Inc()
	}
}

// ListenerDisconnected implements postgres.ListenerObserver.
func (m *Metrics) ListenerDisconnected() {
	m.lnConnected.Set(0)
	m.lnDisconnects.Inc()
}

// ListenerNotification implements postgres.ListenerObserver.
func (m *Metrics) ListenerNotification(kind string) {
	m.lnNotification.WithLabelValues(kind).Inc()
}

// ListenerBadPayload implements postgres.ListenerObserver.
func (m *Metrics) ListenerBadPayload() { m.lnBadPayloads.Inc() }

// ListenerHeartbeatTimeout implements postgres.ListenerObserver.
func (m *Metrics) ListenerHeartbeatTimeout() { m.lnHeartbeat.Inc() }

// The /live endpoint's hooks (liveedge.EndpointObserver); safe on a nil receiver.

// SocketOpened counts an accepted WebSocket.
func (m *Metrics) SocketOpened() {
	if m != nil {
		m.sockets.Inc()
	}
}

// SocketClosed counts a closed WebSocket by label: the close code the server sent, or dropped
// (the peer vanished or a write failed) or peer (the browser closed first). The endpoint
// gives one of a fixed set (web.CloseLabels), so the label stays bounded.
func (m *Metrics) SocketClosed(label string) {
	if m != nil {
		m.sockets.Dec()
		m.socketCloses.WithLabelValues(label).Inc()
	}
}

// FramesSent counts one message written to a socket that carried n frames and, when at is
// set (the earliest NOTIFY receive time among them), observes its latency once.
func (m *Metrics) FramesSent(n int, at time.Time) {
	if m == nil {
		return
	}
	m.framesSent.Add(float64(n))
	if !at.IsZero() {
		m.frameLatency.Observe(time.Since(at).Seconds())
	}
}

// Polled counts an answer of the poll endpoint: changed, not_modified or refused.
func (m *Metrics) Polled(result string) {
	if m != nil {
		m.polls.WithLabelValues(result).Inc()
	}
}

// Refused counts a refused /live or /live/poll subscription; reason is one of a fixed set
// (liveedge.RefusalReasons), so the label stays bounded.
func (m *Metrics) Refused(reason string) {
	if m != nil {
		m.refusals.WithLabelValues(reason).Inc()
	}
}

// WriteFailed counts a failed socket write.
func (m *Metrics) WriteFailed() {
	if m != nil {
		m.writeFailures.Inc()
	}
}
