package web

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/tenantops/onboard/internal/live"
)

// LiveHub is what GET /live needs from the live hub.
type LiveHub interface {
	Subscribe(ctx context.Context, userID int64, subs []live.Subscription) (*live.Client, error)
}

// Live configures GET /live; cmd/onboard builds it. Zero durations take the defaults.
type Live struct {
	Hub     LiveHub
	Metrics *LiveMetrics // nil: no metrics
	// WriteTimeout bounds one frame's write; a write that fails or times out closes the
	// socket (the slow-client guard under the hub's own). Default 5s.
	WriteTimeout time.Duration
	// PingInterval: how often a ping is sent, busy or not; default 20s.
	PingInterval time.Duration
	// PingTimeout: the pong must arrive within it, or the socket is closed; default 5s.
	PingTimeout time.Duration
	// SubscribeTimeout bounds authorising and loading the drafts; default 10s.
	SubscribeTimeout time.Duration
}

// Close codes of /live beyond the standard ones (see docs/live.md).
const (
	closeForbidden websocket.StatusCode = 4403
	closeNotFound  websocket.StatusCode = 4404
)

// liveReadLimit bounds a message from the browser; the protocol has none to send.
const liveReadLimit = 4 << 10

var (
	errGoingAway = errors.New("server shutting down")
	errPeerGone  = errors.New("connection closed")
	errPeerData  = errors.New("unexpected data message")
)

// liveSockets tracks open /live connections: http.Server.Shutdown does not close hijacked
// connections, so CloseLive does.
type liveSockets struct {
	mu      sync.Mutex
	closing bool
	open    map[*liveSocket]struct{}
	wg      sync.WaitGroup
}

type liveSocket struct {
	cancel context.CancelCauseFunc
	conn   *websocket.Conn // nil until accepted; guarded by liveSockets.mu
}

// add registers a socket about to be accepted; false once CloseLive was called.
func (ls *liveSockets) add(cancel context.CancelCauseFunc) (*liveSocket, bool) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.closing {
		return nil, false
	}
	if ls.open == nil {
		ls.open = make(map[*liveSocket]struct{})
	}
	s := &liveSocket{cancel: cancel}
	ls.open[s] = struct{}{}
	ls.wg.Add(1)
	return s, true
}

func (ls *liveSockets) accepted(s *liveSocket, c *websocket.Conn) {
	ls.mu.Lock()
	s.conn = c
	ls.mu.Unlock()
}

func (ls *liveSockets) remove(s *liveSocket) {
	ls.mu.Lock()
	delete(ls.open, s)
	ls.mu.Unlock()
	ls.wg.Done()
}

// CloseLive closes every open /live socket with 1001 (going away) and refuses new ones; it
// returns when their handlers have finished or, when ctx ends first, after dropping the
// remaining connections without a close handshake. Call it after http.Server.Shutdown.
func (s *Server) CloseLive(ctx context.Context) error {
	ls := &s.sockets
	ls.mu.Lock()
	ls.closing = true
	for sock := range ls.open {
		sock.cancel(errGoingAway)
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

// handleLive is GET /live: the WebSocket that pushes draft fragments (docs/live.md).
//
// Before the upgrade: no session → 401, malformed query → 400, foreign Origin → 403
// (coder/websocket's same-origin check; no OriginPatterns: it is the socket's only CSRF
// defence). After it, authorisation failures are close codes, because a browser's WebSocket
// cannot read an HTTP status: 4404 (no such draft, or not a member), 4403 (no view capability).
func (s *Server) handleLive(w http.ResponseWriter, r *http.Request) {
	cfg := s.deps.Live
	if cfg == nil || cfg.Hub == nil {
		writeProblem(w, &httpError{Status: http.StatusServiceUnavailable, Title: "Unavailable", Detail: "Live updates are not enabled."})
		return
	}
	u, ok := userFrom(r.Context())
	if !ok {
		writeProblem(w, errUnauthenticated)
		return
	}
	subs, err := parseLiveQuery(r.URL.RawQuery)
	if err != nil {
		writeProblem(w, badRequest(err.Error()))
		return
	}
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	sock, ok := s.sockets.add(cancel)
	if !ok {
		writeProblem(w, &httpError{Status: http.StatusServiceUnavailable, Title: "Unavailable", Detail: "The server is shutting down."})
		return
	}
	defer s.sockets.remove(sock)

	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		// Accept wrote the response (403 for a foreign Origin, 426 for a plain GET).
		s.log.DebugContext(r.Context(), "live: upgrade refused", "err", err)
		return
	}
	s.sockets.accepted(sock, conn)
	metrics := cfg.Metrics
	metrics.socketOpened()
	code := 0
	defer func() { metrics.socketClosed(code) }()
	conn.SetReadLimit(liveReadLimit)
	// The browser sends nothing. A reader answers pings and the close handshake; a data
	// message ends ctx with errPeerData (closed 1008 below), a closed or failed connection
	// with errPeerGone. (conn.CloseRead would do this, but its Close from inside its own
	// goroutine waits 15 s for itself, and cancelling its context drops the connection
	// without the 1001 that shutdown must send.)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		_, _, err := conn.Read(context.WithoutCancel(ctx))
		if err == nil {
			cancel(errPeerData)
		} else {
			cancel(errPeerGone)
		}
	}()
	defer func() { <-readDone }() // every path below closes conn first
	closeWith := func(c websocket.StatusCode, reason string) {
		code = int(c)
		_ = conn.Close(c, reason)
	}
	// closeEnded closes the connection once ctx has ended, as its cause calls for.
	closeEnded := func() {
		switch context.Cause(ctx) {
		case errPeerGone:
			_ = conn.CloseNow()
		case errPeerData:
			closeWith(websocket.StatusPolicyViolation, "unexpected data message")
		default:
			// CloseLive, or the server's base context ended.
			closeWith(websocket.StatusGoingAway, "going away")
		}
	}
	// Writes and pings are not cut short by ctx: shutdown waits for them to finish, then
	// sends its 1001; their own timeouts bound them.
	wbase := context.WithoutCancel(ctx)

	sctx, scancel := context.WithTimeout(ctx, durationOr(cfg.SubscribeTimeout, 10*time.Second))
	client, err := cfg.Hub.Subscribe(sctx, u.ID, subs)
	scancel()
	if err != nil {
		switch {
		case errors.Is(err, live.ErrNotFound):
			closeWith(closeNotFound, "not found")
		case errors.Is(err, live.ErrForbidden):
			closeWith(closeForbidden, "forbidden")
		case errors.Is(err, live.ErrInvalid):
			closeWith(websocket.StatusPolicyViolation, "invalid subscription")
		case ctx.Err() != nil:
			closeEnded()
		case errors.Is(err, live.ErrShutdown):
			closeWith(websocket.StatusGoingAway, "going away")
		default:
			s.log.ErrorContext(r.Context(), "live: subscribe", "user", u.ID, "err", err)
			closeWith(websocket.StatusInternalError, "internal error")
		}
		return
	}
	defer client.Close()

	writeTimeout := durationOr(cfg.WriteTimeout, 5*time.Second)
	pingEvery := durationOr(cfg.PingInterval, 20*time.Second)
	pingTimeout := durationOr(cfg.PingTimeout, 5*time.Second)
	pingAt := time.Now().Add(pingEvery)
	for {
		// One goroutine per socket writes frames and pings: Next waits at most until the
		// next ping is due.
		nctx, ncancel := context.WithDeadline(ctx, pingAt)
		frame, at, err := client.NextAt(nctx)
		ncancel()
		switch {
		case err == nil:
		case ctx.Err() != nil:
			closeEnded()
			return
		case errors.Is(err, context.DeadlineExceeded):
			pctx, pcancel := context.WithTimeout(wbase, pingTimeout)
			err := conn.Ping(pctx)
			pcancel()
			if err != nil {
				metrics.writeFailed()
				_ = conn.CloseNow()
				return
			}
			pingAt = time.Now().Add(pingEvery)
			continue
		case errors.Is(err, live.ErrSlowConsumer):
			closeWith(websocket.StatusTryAgainLater, "slow consumer: reconnect")
			return
		case errors.Is(err, live.ErrRevoked):
			closeWith(websocket.StatusPolicyViolation, "access revoked")
			return
		case errors.Is(err, live.ErrShutdown):
			closeWith(websocket.StatusGoingAway, "going away")
			return
		default:
			closeWith(websocket.StatusInternalError, "internal error")
			return
		}
		wctx, wcancel := context.WithTimeout(wbase, writeTimeout)
		err = conn.Write(wctx, websocket.MessageText, frame)
		wcancel()
		if err != nil {
			// coder/websocket closes the connection on any write error, a timeout included:
			// a client that does not read is dropped here.
			metrics.writeFailed()
			s.log.DebugContext(r.Context(), "live: write", "user", u.ID, "err", err)
			return
		}
		metrics.frameSent(at)
	}
}

func durationOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
