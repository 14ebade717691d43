package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgxlisten"

	"github.com/tenantops/onboard/internal/presence"
)

// LiveChannel is the channel the triggers of migrations/00003_live_triggers.sql notify.
const LiveChannel = "onboard_live"

// ListenerAppName is the application_name of the listener's connection (pg_stat_activity).
const ListenerAppName = "onboard-listener"

// Notifier is what the listener feeds: the live hub. Notify must not block.
type Notifier interface {
	Notify(LiveEvent)
	Resync()
	// Disconnected tells the hub notifications may be lost until the next Resync, so it
	// stops reusing snapshots and cached cohorts meanwhile.
	Disconnected()
}

// PresenceSink is what the listener feeds presence messages to: the presence registry.
// Remote must not block.
type PresenceSink interface {
	Remote(payload string)
	Resync()
}

// ListenerObserver receives the listener's metric hooks. Calls are made from the listener's
// goroutines and must be cheap. Every method is optional in spirit: implement no-ops.
type ListenerObserver interface {
	// ListenerConnected: a connection is listening on every channel; reconnect is false for
	// the process's first connection.
	ListenerConnected(reconnect bool)
	// ListenerDisconnected: the listening connection was lost (or could not be made).
	ListenerDisconnected()
	// ListenerNotification: a valid payload of kind was passed to the hub.
	ListenerNotification(kind string)
	// ListenerBadPayload: a payload was malformed and dropped.
	ListenerBadPayload()
	// ListenerHeartbeatTimeout: a heartbeat was not received in time; the connection is
	// being closed and re-established.
	ListenerHeartbeatTimeout()
}

// ListenerConfig configures a Listener. Zero durations take the defaults.
type ListenerConfig struct {
	URL      string        // database URL; the listener opens its own connection
	Hub      Notifier      // required
	Pool     *pgxpool.Pool // sends heartbeats; nil disables them
	Logger   *slog.Logger  // nil = discard
	Observer ListenerObserver
	// Presence, when set, receives the presence messages of the live channel (payloads
	// starting with presence.MessagePrefix) instead of the hub, and is resynced with it.
	Presence PresenceSink

	// ReconnectDelay is the wait between a lost connection and the next attempt; default 1s
	// (pgxlisten's own default is one minute).
	ReconnectDelay time.Duration
	// HeartbeatInterval: how often a heartbeat NOTIFY is sent through Pool; default 5s.
	HeartbeatInterval time.Duration
	// HeartbeatTimeout: a heartbeat sent successfully but not received back within this long
	// means the listening connection is dead; default 8s. Heartbeats are checked once per
	// interval, so a silently dead connection is closed within
	// HeartbeatInterval × (1 + ⌈HeartbeatTimeout / HeartbeatInterval⌉): 15 s by default.
	HeartbeatTimeout time.Duration
}

// ListenerStats are the listener's counters since NewListener.
type ListenerStats struct {
	Connected         bool
	Connects          int64 // connections that reached "listening on every channel"
	Disconnects       int64 // listening connections lost
	Notifications     int64 // valid payloads passed to the hub
	BadPayloads       int64 // malformed payloads dropped
	Heartbeats        int64 // heartbeats received back
	HeartbeatTimeouts int64 // connections closed because a heartbeat did not come back
}

// Listener is the process's one LISTEN connection: it decodes the triggers' payloads into
// LiveEvents for the hub, makes every (re)connection a new epoch (Hub.Resync), and proves the
// connection alive with heartbeats, because pgxlisten never pings and a silently dead TCP
// connection would otherwise be noticed only by keepalive, minutes later.
//
// The connection is dedicated, not taken from the pool: LISTEN is session state, and a pooled
// connection would be handed to other work.
type Listener struct {
	cfg     ListenerConfig
	connCfg *pgx.ConnConfig
	pl      pgxlisten.Listener
	hbChan  string // this listener's own heartbeat channel
	log     *slog.Logger
	obs     ListenerObserver

	connected atomic.Bool
	up        chan struct{} // closed at the first connection
	upOnce    sync.Once
	stats     struct {
		connects, disconnects, notifications, bad, heartbeats, hbTimeouts atomic.Int64
	}
	hbSeq atomic.Int64

	// mu guards the current connection and its heartbeat bookkeeping.
	mu        sync.Mutex
	conn      *pgx.Conn // the connection pgxlisten is using; nil between connections
	gen       uint64    // incremented per connection
	listening int       // channels whose LISTEN succeeded on conn (backlog hook ran)
	acked     int64     // highest heartbeat seq received on conn
	pending   []heartbeat
	started   bool
}

type heartbeat struct {
	seq    int64
	sentAt time.Time
}

// NewListener checks the configuration; Run starts listening.
func NewListener(cfg ListenerConfig) (*Listener, error) {
	if cfg.Hub == nil {
		return nil, errors.New("listener: no hub")
	}
	connCfg, err := pgx.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("listener: parse database url: %w", err)
	}
	connCfg.RuntimeParams["application_name"] = ListenerAppName
	if connCfg.ConnectTimeout == 0 {
		connCfg.ConnectTimeout = 5 * time.Second
	}
	if cfg.ReconnectDelay <= 0 {
		cfg.ReconnectDelay = time.Second
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = 5 * time.Second
	}
	if cfg.HeartbeatTimeout <= 0 {
		cfg.HeartbeatTimeout = 8 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Observer == nil {
		cfg.Observer = nopListenerObserver{}
	}
	l := &Listener{
		cfg:     cfg,
		connCfg: connCfg,
		// Lower-case and unquoted-safe: pg_notify matches the channel name exactly.
		hbChan: "onboard_live_hb_" + lowerText(rand.Text()[:16]),
		log:    cfg.Logger,
		obs:    cfg.Observer,
		up:     make(chan struct{}),
	}
	l.pl = pgxlisten.Listener{
		Connect:        l.connect,
		LogError:       l.lost,
		ReconnectDelay: cfg.ReconnectDelay,
	}
	// Handlers are registered before Listen, as pgxlisten requires.
	l.pl.Handle(LiveChannel, liveHandler{l})
	l.pl.Handle(l.hbChan, heartbeatHandler{l})
	return l, nil
}

// Run listens until ctx ends, reconnecting after every failure; it returns nil then. Call it
// once.
func (l *Listener) Run(ctx context.Context) error {
	l.mu.Lock()
	if l.started {
		l.mu.Unlock()
		return errors.New("listener: Run called twice")
	}
	l.started = true
	l.mu.Unlock()

	var wg sync.WaitGroup
	if l.cfg.Pool != nil {
		wg.Go(func() { l.heartbeatLoop(ctx) })
	}
	err := l.pl.Listen(ctx)
	wg.Wait()
	l.setDown(nil)
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("listener: %w", err)
}

// Connected reports whether the listener is listening on every channel right now (for
// /readyz).
func (l *Listener) Connected() bool { return l.connected.Load() }

// Listening is closed once the listener has listened for the first time.
func (l *Listener) Listening() <-chan struct{} { return l.up }

// Stats returns the counters.
func (l *Listener) Stats() ListenerStats {
	return ListenerStats{
		Connected:         l.connected.Load(),
		Connects:          l.stats.connects.Load(),
		Disconnects:       l.stats.disconnects.Load(),
		Notifications:     l.stats.notifications.Load(),
		BadPayloads:       l.stats.bad.Load(),
		Heartbeats:        l.stats.heartbeats.Load(),
		HeartbeatTimeouts: l.stats.hbTimeouts.Load(),
	}
}

// connect opens a dedicated connection for pgxlisten, which closes it when it fails.
func (l *Listener) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, l.connCfg.Copy())
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.gen++
	l.conn = conn
	l.listening, l.acked, l.pending = 0, 0, nil
	l.mu.Unlock()
	return conn, nil
}

// lost is pgxlisten's LogError. Our handlers never return errors, so every call means the
// connection failed or could not be made: pgxlisten will reconnect after ReconnectDelay.
func (l *Listener) lost(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return // shutting down
	}
	l.setDown(err)
}

func (l *Listener) setDown(err error) {
	l.mu.Lock()
	l.conn = nil
	l.listening = 0
	l.pending = nil
	l.mu.Unlock()
	if l.connected.Swap(false) {
		l.stats.disconnects.Add(1)
		l.cfg.Hub.Disconnected()
		l.obs.ListenerDisconnected()
		if err != nil {
			l.log.Warn("live listener: connection lost; reconnecting", "err", err, "delay", l.cfg.ReconnectDelay)
		}
	} else if err != nil {
		l.log.Warn("live listener: cannot listen; retrying", "err", err, "delay", l.cfg.ReconnectDelay)
	}
}

// listened is called from a channel's backlog hook, after its LISTEN succeeded.
func (l *Listener) listened(conn *pgx.Conn) {
	l.mu.Lock()
	if conn != l.conn {
		l.mu.Unlock()
		return
	}
	l.listening++
	up := l.listening == 2
	l.mu.Unlock()
	if up && !l.connected.Swap(true) {
		n := l.stats.connects.Add(1)
		l.obs.ListenerConnected(n > 1)
		l.log.Info("live listener: listening", "channel", LiveChannel, "connection", n)
		// Notifications sent while no connection listened are lost, so each connection
		// starts a new epoch: the hub re-renders every watched draft. Resync is idempotent,
		// as pgxlisten requires of backlog handling.
		l.cfg.Hub.Resync()
		if l.cfg.Presence != nil {
			l.cfg.Presence.Resync()
		}
		l.upOnce.Do(func() { close(l.up) })
	}
}

type liveHandler struct{ l *Listener }

// HandleBacklog runs after LISTEN on every (re)connection; once every channel listens, the
// connection is up and the hub resyncs (see listened).
func (h liveHandler) HandleBacklog(ctx context.Context, channel string, conn *pgx.Conn) error {
	h.l.listened(conn)
	return nil
}

// HandleNotification decodes one payload and hands it to the hub without blocking: handlers
// run one at a time on the listening connection.
func (h liveHandler) HandleNotification(ctx context.Context, n *pgconn.Notification, conn *pgx.Conn) error {
	l := h.l
	at := time.Now()
	defer func() {
		// A bug in a hub must not take the listener, and so the process, down.
		if p := recover(); p != nil {
			l.log.Error("live listener: panic handling notification", "panic", p)
		}
	}()
	if l.cfg.Presence != nil && strings.HasPrefix(n.Payload, presence.MessagePrefix) {
		l.cfg.Presence.Remote(n.Payload)
		return nil
	}
	e, err := ParseLiveEvent(n.Payload)
	if err != nil {
		l.stats.bad.Add(1)
		l.obs.ListenerBadPayload()
		l.log.Warn("live listener: bad payload dropped", "err", err, "payload", truncate(n.Payload, 200))
		return nil
	}
	e.At = at
	l.stats.notifications.Add(1)
	l.obs.ListenerNotification(e.Kind)
	l.cfg.Hub.Notify(e)
	return nil
}

type heartbeatHandler struct{ l *Listener }

func (h heartbeatHandler) HandleBacklog(ctx context.Context, channel string, conn *pgx.Conn) error {
	h.l.listened(conn)
	return nil
}

func (h heartbeatHandler) HandleNotification(ctx context.Context, n *pgconn.Notification, conn *pgx.Conn) error {
	seq, err := strconv.ParseInt(n.Payload, 10, 64)
	if err != nil {
		return nil
	}
	l := h.l
	l.stats.heartbeats.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if conn != l.conn {
		return nil
	}
	l.acked = max(l.acked, seq)
	i := 0
	for i < len(l.pending) && l.pending[i].seq <= l.acked {
		i++
	}
	l.pending = l.pending[i:]
	return nil
}

// heartbeatLoop sends a NOTIFY on this listener's own channel through the pool every
// HeartbeatInterval, and closes the listening connection when a heartbeat that was committed
// did not come back within HeartbeatTimeout. A heartbeat that could not be sent proves
// nothing about the listening connection and is not counted.
func (l *Listener) heartbeatLoop(ctx context.Context) {
	t := time.NewTicker(l.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		l.checkHeartbeats(time.Now())
		if !l.connected.Load() {
			continue
		}
		l.mu.Lock()
		gen := l.gen
		l.mu.Unlock()
		seq := l.hbSeq.Add(1)
		sentAt := time.Now()
		sctx, cancel := context.WithTimeout(ctx, l.cfg.HeartbeatInterval)
		_, err := l.cfg.Pool.Exec(sctx, `SELECT pg_notify($1, $2)`, l.hbChan, strconv.FormatInt(seq, 10))
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				l.log.Warn("live listener: send heartbeat", "err", err)
			}
			continue
		}
		l.mu.Lock()
		// The heartbeat may already be back (it is delivered at commit).
		if gen == l.gen && l.conn != nil && seq > l.acked {
			l.pending = append(l.pending, heartbeat{seq, sentAt})
		}
		l.mu.Unlock()
	}
}

// checkHeartbeats closes the listening connection if its oldest unanswered heartbeat is
// older than HeartbeatTimeout. Closing the socket makes pgxlisten's wait fail, after which it
// reconnects (a new epoch).
func (l *Listener) checkHeartbeats(now time.Time) {
	l.mu.Lock()
	if l.conn == nil || len(l.pending) == 0 || now.Sub(l.pending[0].sentAt) <= l.cfg.HeartbeatTimeout {
		l.mu.Unlock()
		return
	}
	conn := l.conn
	late := now.Sub(l.pending[0].sentAt)
	l.pending = nil
	l.mu.Unlock()
	l.stats.hbTimeouts.Add(1)
	l.obs.ListenerHeartbeatTimeout()
	l.log.Warn("live listener: heartbeat not received; closing the connection", "late", late.Round(time.Millisecond))
	// net.Conn.Close is safe while pgxlisten's goroutine is blocked reading the connection.
	_ = conn.PgConn().Conn().Close()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func lowerText(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

type nopListenerObserver struct{}

func (nopListenerObserver) ListenerConnected(bool)      {}
func (nopListenerObserver) ListenerDisconnected()       {}
func (nopListenerObserver) ListenerNotification(string) {}
func (nopListenerObserver) ListenerBadPayload()         {}
func (nopListenerObserver) ListenerHeartbeatTimeout()   {}
