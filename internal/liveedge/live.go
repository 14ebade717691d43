package liveedge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/live"
)

// Hub is what GET /live needs from the live hub.
type Hub interface {
	SubscribeAs(ctx context.Context, v live.Viewer, subs []live.Subscription) (*live.Client, error)
}

// Config configures GET /live; cmd/onboard builds it. Zero durations take the defaults.
type Config struct {
	Hub     Hub
	Metrics *Metrics // nil: no metrics
	// WriteTimeout bounds one frame's write; a write that fails or times out closes the
	// socket (the slow-client guard under the hub's own). Default 5s.
	WriteTimeout time.Duration
	// PingInterval: how often a ping is sent, busy or not; default 20s.
	PingInterval time.Duration
	// PingTimeout: the pong must arrive within it, or the socket is closed; default 5s.
	PingTimeout time.Duration
	// SubscribeTimeout bounds authorising and loading the drafts; default 10s.
	SubscribeTimeout time.Duration
	// MaxSocketsPerUser and MaxSocketsPerAddress cap the open /live sockets of one user and
	// of one client address in this process; a socket over a cap is closed with 4429.
	// Zero takes the default (DefaultMaxSocketsPerUser, DefaultMaxSocketsPerAddress);
	// negative = no cap.
	MaxSocketsPerUser    int
	MaxSocketsPerAddress int
	// CurrentRevs, when set, lets /live/poll skip the drafts that did not move: for each of
	// draftIDs the viewer may see (the hub's rule: a member with the view capability), a rev
	// no fragment of the draft exceeds; drafts left out go through the hub as usual (which
	// refuses those the viewer may not see). One query instead of a snapshot per draft.
	CurrentRevs func(ctx context.Context, userID int64, draftIDs []string) (map[string]int64, error)
	// Presence, when set, lets a socket opened with presence=1 carry presence: the browser
	// reports its step and field, the socket receives who else has its drafts open
	// (docs/live.md, Presence). Nil: presence=1 is accepted and ignored.
	Presence Presence
}

// Default socket caps of /live (per process).
const (
	DefaultMaxSocketsPerUser    = 32
	DefaultMaxSocketsPerAddress = 256
)

// Close codes of /live beyond the standard ones (see docs/live.md).
const (
	CloseSignedOut websocket.StatusCode = 4401
	CloseForbidden websocket.StatusCode = 4403
	CloseNotFound  websocket.StatusCode = 4404
	CloseTooMany   websocket.StatusCode = 4429
)

// liveReadLimit bounds a message from the browser (presence frames are far smaller).
const liveReadLimit = 4 << 10

// Why a socket ends, besides the hub's errors (the faults table gives each its close).
var (
	ErrGoingAway = errors.New("server shutting down")
	// ErrPeerGone: the connection failed under the reader (the peer vanished: no close
	// frame); ErrPeerClosed: the browser sent a close frame, which coder/websocket answered.
	ErrPeerGone   = errors.New("connection lost")
	ErrPeerClosed = errors.New("connection closed by the peer")
	ErrPeerData   = errors.New("unexpected data message")
	// ErrWriteFailed: a frame or ping write failed or timed out; coder/websocket has closed
	// the connection already.
	ErrWriteFailed = errors.New("write failed")
	// ErrTooMany: a socket cap was reached; the reason says which (tooManyError).
	ErrTooMany = errors.New("too many live connections")
)

// tooManyError is a refused socket: which cap, and its limit.
type tooManyError struct {
	who   string // "user" or "address"
	limit int
}

func (e *tooManyError) Error() string {
	return fmt.Sprintf("too many live connections for this %s (limit %d)", e.who, e.limit)
}

func (e *tooManyError) Unwrap() error { return ErrTooMany }

// liveSockets tracks open /live connections: http.Server.Shutdown does not close hijacked
// connections, so Close does.
type liveSockets struct {
	mu      sync.Mutex
	closing bool
	open    map[*liveSocket]struct{}
	perUser map[int64]int // counted sockets by user and by client address
	perAddr map[string]int
	wg      sync.WaitGroup
}

type liveSocket struct {
	cancel  context.CancelCauseFunc
	conn    *websocket.Conn // nil until accepted; guarded by liveSockets.mu
	user    int64
	addr    string
	counted bool // within the caps: counted in perUser and perAddr
}

// add registers a socket about to be accepted; false once Close was called. A socket
// over a cap (maxUser, maxAddr; ≤ 0 = none) is registered but not counted, and over is the
// cap it broke: the endpoint accepts it only to close it with 4429 and that reason.
func (ls *liveSockets) add(cancel context.CancelCauseFunc, user int64, addr string, maxUser, maxAddr int) (s *liveSocket, over error, ok bool) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.closing {
		return nil, nil, false
	}
	if ls.open == nil {
		ls.open = make(map[*liveSocket]struct{})
		ls.perUser = make(map[int64]int)
		ls.perAddr = make(map[string]int)
	}
	s = &liveSocket{cancel: cancel, user: user, addr: addr}
	switch {
	case maxUser > 0 && ls.perUser[user] >= maxUser:
		over = &tooManyError{"user", maxUser}
	case maxAddr > 0 && ls.perAddr[addr] >= maxAddr:
		over = &tooManyError{"address", maxAddr}
	default:
		s.counted = true
		ls.perUser[user]++
		ls.perAddr[addr]++
	}
	ls.open[s] = struct{}{}
	ls.wg.Add(1)
	return s, over, true
}

func (ls *liveSockets) accepted(s *liveSocket, c *websocket.Conn) {
	ls.mu.Lock()
	s.conn = c
	ls.mu.Unlock()
}

func (ls *liveSockets) remove(s *liveSocket) {
	ls.mu.Lock()
	delete(ls.open, s)
	if s.counted {
		decr(ls.perUser, s.user)
		decr(ls.perAddr, s.addr)
	}
	ls.mu.Unlock()
	ls.wg.Done()
}

// decr decrements m[k], deleting it at zero.
func decr[K comparable](m map[K]int, k K) {
	if m[k] <= 1 {
		delete(m, k)
	} else {
		m[k]--
	}
}

// Close closes every open /live socket with 1001 (going away) and refuses new ones; it
// returns when their handlers have finished or, when ctx ends first, after dropping the
// remaining connections without a close handshake. Call it after http.Server.Shutdown.
func (s *Endpoint) Close(ctx context.Context) error {
	defer s.writers.stop() // after every socket has ended
	ls := &s.sockets
	ls.mu.Lock()
	ls.closing = true
	for sock := range ls.open {
		sock.cancel(ErrGoingAway)
	}
	ls.mu.Unlock()

	done := make(chan struct{})
	go func() {
		ls.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	ls.mu.Lock()
	var conns []*websocket.Conn
	for sock := range ls.open {
		if sock.conn != nil {
			conns = append(conns, sock.conn)
		}
	}
	ls.mu.Unlock()
	for _, c := range conns {
		go c.CloseNow()
	}
	<-done
	return ctx.Err()
}

// ServeSocket is GET /live: the WebSocket that pushes draft fragments (docs/live.md).
//
// Before the upgrade: no session → 401, malformed query → 400, foreign Origin → 403
// (sameOrigin: scheme, host and port against Config.LiveOrigins, never the request's Host;
// it is the socket's only CSRF defence). After it, every ending is a close code from one table
// (the web edge's faults, through Edge.Faults), because a browser's WebSocket cannot read an
// HTTP status: 4404 (no such draft, or not a member), 4403 (no view capability), …
func (s *Endpoint) ServeSocket(w http.ResponseWriter, r *http.Request) {
	cfg, u, subs, ok := s.liveRequest(w, r)
	if !ok {
		return
	}
	var pres *livePresence
	if _, on := splitPresenceParam(r.URL.RawQuery); on && cfg.Presence != nil {
		pres = newLivePresence(cfg.Presence, u.ID, u.Email, subs)
	}
	lc, over, ok := s.acceptLive(w, r, cfg, u.ID, pres)
	if !ok {
		return
	}
	if over != nil {
		cfg.Metrics.refused(s.edge.Faults.Refusal(over))
		lc.end(over)
		lc.finish()
		return
	}
	client, err := lc.subscribe(subs, s.edge.SessionKeys(r))
	if err != nil {
		if lc.ctx.Err() == nil {
			cfg.Metrics.refused(s.edge.Faults.Refusal(err))
		}
		lc.end(err)
		lc.finish()
		return
	}
	lc.attach(client)
	if pres != nil {
		// Only now: the hub has authorised every draft of the socket (and closes it when
		// that access ends, which ends its presence too).
		pres.start()
	}
	// The handler returns: the request's goroutine, whose stack grew through the middleware,
	// the session's reads and the subscription, ends. The socket keeps its reader; its writes
	// go through the endpoint's writers (writers.go). That is why lc.ctx does not end with
	// the request.
	lc.kick()
}

// liveRequest checks what /live and /live/poll need before anything else: live updates
// enabled (else 503), a session (401) and a well-formed query (400). On false the answer has
// been written.
func (s *Endpoint) liveRequest(w http.ResponseWriter, r *http.Request) (*Config, access.User, []live.Subscription, bool) {
	cfg := s.cfg
	if cfg == nil || cfg.Hub == nil {
		s.edge.WriteProblem(w, Problem{Status: http.StatusServiceUnavailable, Title: "Unavailable", Detail: "Live updates are not enabled."})
		return nil, access.User{}, nil, false
	}
	u, ok := s.edge.User(r)
	if !ok {
		cfg.Metrics.refused("unauthenticated")
		s.edge.WriteProblem(w, s.edge.Faults.Unauthenticated)
		return nil, access.User{}, nil, false
	}
	raw, _ := splitPresenceParam(r.URL.RawQuery)
	subs, err := parseLiveQuery(raw)
	if err != nil {
		cfg.Metrics.refused("invalid")
		s.edge.WriteProblem(w, Problem{Status: http.StatusBadRequest, Title: "Bad request", Detail: err.Error()})
		return nil, access.User{}, nil, false
	}
	return cfg, u, subs, true
}

// liveConn is one accepted /live socket.
type liveConn struct {
	s      *Endpoint
	cfg    *Config
	user   int64
	conn   *websocket.Conn
	sock   *liveSocket
	ctx    context.Context // ends with a cause: ErrPeerGone, ErrPeerData, ErrGoingAway, …
	cancel context.CancelCauseFunc
	// closed is the socket's onboard_live_socket_closes_total label (closeLabel), set by end
	// when its close handshake completed and else by finish from the reader's readErr.
	closed  string
	readErr error         // why the reader stopped; set before readEnd is closed
	readEnd chan struct{} // closed when the reader has stopped
	pres    *livePresence // nil: the socket carries no presence

	// Set by attach. The socket has no writer goroutine: kick queues it on the endpoint's
	// writers, whose worker runs flush.
	client   *live.Client
	wctx     context.Context // ctx without its end, for writes and pings
	state    atomic.Int32    // connIdle, connScheduled, connAgain, connEnded
	guard    *time.Timer     // bounds a write: closes the connection when it fires
	pinger   *time.Timer     // sends the next ping
	stopHook func() bool     // unregisters the kick on ctx's end
}

// A socket's scheduling state: idle; queued on the writers or being flushed; the same with a
// kick since (flush goes round again); ended (close has started, kicks do nothing).
const (
	connIdle int32 = iota
	connScheduled
	connAgain
	connEnded
)

// acceptLive registers the socket (refused while Close runs), upgrades, and starts the
// reader. On false the response has been written. over is a socket cap the socket broke:
// it is accepted all the same, so that the browser can read the 4429 close and its reason.
func (s *Endpoint) acceptLive(w http.ResponseWriter, r *http.Request, cfg *Config, user int64, pres *livePresence) (_ *liveConn, over error, ok bool) {
	// The Origin check is ours (scheme, host and port against the public origin; the
	// library's compares the host only), so the library's is skipped.
	if !s.sameOrigin(r) {
		cfg.Metrics.refused("origin")
		s.edge.WriteProblem(w, Problem{Status: http.StatusForbidden, Title: "Forbidden", Detail: "Cross-origin WebSocket refused."})
		return nil, nil, false
	}
	// Not the request's context: the writer outlives the handler (see handleLive), and a
	// context derived from the request's would keep the request, and through it net/http's
	// per-request state, for the socket's life. The hub's shutdown and Close end it.
	ctx, cancel := context.WithCancelCause(context.Background())
	sock, over, ok := s.sockets.add(cancel, user, s.edge.ClientAddr(r),
		capOr(cfg.MaxSocketsPerUser, DefaultMaxSocketsPerUser), capOr(cfg.MaxSocketsPerAddress, DefaultMaxSocketsPerAddress))
	if !ok {
		cancel(nil)
		cfg.Metrics.refused("unavailable")
		s.edge.WriteProblem(w, Problem{Status: http.StatusServiceUnavailable, Title: "Unavailable", Detail: "The server is shutting down."})
		return nil, nil, false
	}
	conn, err := websocket.Accept(smallBuffers{w}, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled, InsecureSkipVerify: true})
	if err != nil {
		// Accept wrote the response (426 for a plain GET).
		s.log.DebugContext(r.Context(), "live: upgrade refused", "err", err)
		s.sockets.remove(sock)
		cancel(nil)
		return nil, nil, false
	}
	s.sockets.accepted(sock, conn)
	cfg.Metrics.socketOpened()
	conn.SetReadLimit(liveReadLimit)
	lc := &liveConn{s: s, cfg: cfg, user: user, conn: conn, sock: sock, ctx: ctx, cancel: cancel,
		readEnd: make(chan struct{}), pres: pres}
	// The browser sends nothing but presence frames, and those only on a presence socket. A
	// reader answers pings and the close handshake; any other data message ends ctx with
	// ErrPeerData (closed 1008), the browser's close frame with ErrPeerClosed, a failed
	// connection with ErrPeerGone.
	// (conn.CloseRead would do this, but its Close from inside its own goroutine waits 15 s
	// for itself, and cancelling its context drops the connection without the 1001 that
	// shutdown must send.)
	go func() {
		defer close(lc.readEnd)
		rctx := context.WithoutCancel(ctx)
		for {
			typ, data, err := conn.Read(rctx)
			switch {
			case err != nil:
				lc.readErr = err
				if websocket.CloseStatus(err) != -1 {
					cancel(ErrPeerClosed)
				} else {
					cancel(ErrPeerGone)
				}
				return
			case typ != websocket.MessageText || pres == nil || !pres.receive(data, time.Now()):
				cancel(ErrPeerData)
				return
			}
		}
	}()
	return lc, over, true
}

// finish runs after end closed the connection: it waits for the reader, counts the close and
// unregisters.
func (lc *liveConn) finish() {
	<-lc.readEnd
	lc.cancel(nil)
	if lc.closed == "" {
		// No close handshake of ours completed: the browser closed first, or it vanished
		// (or a write failed) and nobody read a close frame.
		lc.closed = LabelDropped
		if websocket.CloseStatus(lc.readErr) != -1 {
			lc.closed = LabelPeer
		}
	}
	lc.cfg.Metrics.socketClosed(lc.closed)
	lc.s.sockets.remove(lc.sock)
}

// subscribe attaches the socket to the hub, bounded by SubscribeTimeout. sessions are the
// keys of the request's sign-in session: its end closes the socket (4401).
func (lc *liveConn) subscribe(subs []live.Subscription, sessions []string) (*live.Client, error) {
	sctx, cancel := context.WithTimeout(lc.ctx, lc.cfg.subscribeTimeout())
	defer cancel()
	client, err := lc.cfg.Hub.SubscribeAs(sctx, live.Viewer{UserID: lc.user, Sessions: sessions}, subs)
	if err != nil && lc.ctx.Err() != nil {
		return nil, context.Cause(lc.ctx)
	}
	return client, err
}

// attach makes the socket write client's frames: the client's wake-ups, the presence
// frames, the socket's end (ctx) and the ping every PingInterval, busy or not, all kick it.
//
// Until attach returns, a kick only notes itself (the state says scheduled): the flush it
// asks for is queued at the end, after every field the writers and close read is set.
func (lc *liveConn) attach(client *live.Client) {
	cfg := lc.cfg
	lc.state.Store(connScheduled)
	lc.client = client
	lc.wctx = context.WithoutCancel(lc.ctx)
	// A write still running when guard fires is cut short by closing the connection (what
	// coder/websocket does on a write deadline): a client that does not read is dropped.
	lc.guard = time.AfterFunc(time.Hour, func() { _ = lc.conn.CloseNow() })
	lc.guard.Stop()
	lc.pinger = time.AfterFunc(time.Hour, lc.pingRound)
	lc.pinger.Stop()
	client.OnWake(lc.kick)
	if lc.pres != nil {
		lc.pres.notify = lc.kick
	}
	lc.stopHook = context.AfterFunc(lc.ctx, lc.kick)
	lc.pinger.Reset(cfg.pingInterval())
	if !lc.state.CompareAndSwap(connScheduled, connIdle) { // kicked meanwhile (again)
		lc.state.Store(connScheduled)
		lc.s.writers.push(lc)
	}
}

// kick schedules the socket's flush: queued on the writers unless it is queued or being
// flushed already (flush then goes round again). It never blocks.
func (lc *liveConn) kick() {
	for {
		switch st := lc.state.Load(); st {
		case connIdle:
			if lc.state.CompareAndSwap(connIdle, connScheduled) {
				lc.s.writers.push(lc)
				return
			}
		case connScheduled:
			if lc.state.CompareAndSwap(connScheduled, connAgain) {
				return
			}
		default:
			return
		}
	}
}

// flush runs on a worker of the writers: it writes what is waiting, as long as kicks come
// meanwhile, and starts the socket's close when something ended it.
func (lc *liveConn) flush() {
	for {
		if err := lc.writeWaiting(); err != nil {
			lc.state.Store(connEnded)
			go lc.close(err)
			return
		}
		if lc.state.CompareAndSwap(connAgain, connScheduled) {
			continue
		}
		if lc.state.CompareAndSwap(connScheduled, connIdle) {
			return
		}
	}
}

// writeWaiting writes the presence frames and the client's queued frames, and returns why the
// socket ends, if it does. Per message it does only the write: several queued frames go out
// as one message (Client.Take), and one timer per connection (armed around each write) bounds
// writes instead of a context and timer per write.
func (lc *liveConn) writeWaiting() error {
	if lc.ctx.Err() != nil {
		return context.Cause(lc.ctx)
	}
	if lc.pres != nil {
		for _, f := range lc.pres.take() {
			if err := lc.write(f); err != nil {
				return err
			}
		}
	}
	for {
		msg, at, n, err := lc.client.Take()
		if err != nil || n == 0 {
			return err
		}
		if err := lc.write(msg); err != nil {
			return err
		}
		lc.cfg.Metrics.sent(n, at)
	}
}

// close ends the socket as why says, on a goroutine of its own (the close handshake waits
// for the browser's answer).
func (lc *liveConn) close(why error) {
	lc.stopHook()
	lc.pinger.Stop()
	lc.end(why)
	lc.client.Close()
	lc.finish()
	if lc.pres != nil {
		lc.pres.stop() // after finish: the reader, which applies the browser's frames, has ended
	}
}

// pingRound sends a ping every PingInterval on the pinger's goroutine; a missing pong ends
// the socket.
func (lc *liveConn) pingRound() {
	if lc.state.Load() == connEnded {
		return
	}
	// Not cut short by the socket's context: shutdown waits for it, then sends its 1001.
	if err := lc.ping(lc.wctx, lc.cfg.pingTimeout()); err != nil {
		if lc.state.Load() != connEnded {
			lc.cfg.Metrics.writeFailed()
			lc.cancel(ErrWriteFailed)
		}
		return
	}
	lc.pinger.Reset(lc.cfg.pingInterval())
}

// write writes one text message, cut short by the guard after WriteTimeout. Writes are not cut
// short by the socket's context: shutdown waits for them to finish, then sends its 1001.
func (lc *liveConn) write(msg []byte) error {
	lc.guard.Reset(lc.cfg.writeTimeout())
	// No Done channel: coder/websocket then sets up no per-write timeout of its own.
	err := lc.conn.Write(lc.wctx, websocket.MessageText, msg)
	if !lc.guard.Stop() && err == nil {
		err = errors.New("write timed out")
	}
	if err != nil {
		// coder/websocket closes the connection on any write error; the guard closed it
		// on a timeout.
		lc.cfg.Metrics.writeFailed()
		lc.s.log.DebugContext(lc.ctx, "live: write", "user", lc.user, "err", err)
		return ErrWriteFailed
	}
	return nil
}

// ping sends a ping and waits for its pong, at most timeout.
func (lc *liveConn) ping(base context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(base, timeout)
	defer cancel()
	if err := lc.conn.Ping(ctx); err != nil {
		lc.cfg.Metrics.writeFailed()
		return ErrWriteFailed
	}
	return nil
}

// end closes the connection as the faults table says for why.
func (lc *liveConn) end(why error) {
	c := lc.s.edge.Faults.Close(why)
	code, reason := c.Code, c.Reason
	if errors.Is(why, ErrTooMany) {
		reason = why.Error()
	}
	if c.Drop {
		_ = lc.conn.CloseNow()
		return
	}
	if code == websocket.StatusInternalError {
		lc.s.log.ErrorContext(lc.ctx, "live: socket ended", "user", lc.user, "err", why)
	}
	// A vanished peer answers no close frame: Close then fails (a write error, or no answer
	// within 5 s), and the socket is counted as dropped, not under the code nobody read.
	if err := lc.conn.Close(code, reason); err == nil {
		lc.closed = c.Label()
	}
}

func capOr(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}

// The Config's durations with their defaults, each resolved here only.
func (c *Config) writeTimeout() time.Duration { return durationOr(c.WriteTimeout, 5*time.Second) }
func (c *Config) pingInterval() time.Duration { return durationOr(c.PingInterval, 20*time.Second) }
func (c *Config) pingTimeout() time.Duration  { return durationOr(c.PingTimeout, 5*time.Second) }
func (c *Config) subscribeTimeout() time.Duration {
	return durationOr(c.SubscribeTimeout, 10*time.Second)
}

func durationOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
