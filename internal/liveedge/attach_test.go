package liveedge

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/coder/websocket"

	"github.com/tenantops/onboard/internal/live"
)

// oneDraft is a live source and authorizer of one draft, "d1", that every user may view.
type oneDraft struct{}

type oneSnap struct{}

func (oneSnap) Target() string     { return "d1" }
func (oneSnap) WorkspaceID() int64 { return 1 }
func (oneSnap) Rev() int64         { return 1 }

func (oneDraft) Load(context.Context, string) (live.Snapshot, error) { return oneSnap{}, nil }
func (oneDraft) Render(context.Context, live.Snapshot, string, string) ([]byte, error) {
	return []byte(`<div data-draft-id="d1" data-version="1" data-rev="1"></div>`), nil
}
func (oneDraft) Cohort(context.Context, int64, int64) (string, error) { return "viewer", nil }

// TestAttachEndedSocket: a socket whose browser vanished while it subscribed (its context
// ended before attach) is closed by the writers, and nothing they read races with what attach
// sets. Before attach held its kicks back, the end's kick could run close on a worker before
// attach had set stopHook: a data race that TestFaultAbruptSocketCloses met now and then, and
// a nil call (SIGSEGV) that this test met in each of four runs of 1,000 sockets.
func TestAttachEndedSocket(t *testing.T) {
	t.Parallel()
	ctx, stopHub := context.WithCancel(context.Background())
	hub := live.NewHub(oneDraft{}, oneDraft{}, live.Options{})
	hubDone := make(chan error, 1)
	go func() { hubDone <- hub.Run(ctx) }()
	defer func() { stopHub(); <-hubDone }()

	conns := make(chan *websocket.Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			t.Error(err)
			return
		}
		conns <- c
	}))
	defer srv.Close()
	browser, _, err := websocket.Dial(ctx, "ws"+srv.URL[len("http"):], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer browser.CloseNow()

	cfg := &Config{Hub: hub}
	e := New(cfg, Edge{Faults: Faults{Close: func(error) Close { return Close{Drop: true} }}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for range 1000 {
		sctx, cancel := context.WithCancelCause(context.Background())
		sock, _, ok := e.sockets.add(cancel, 1, "test", 1000, 1000)
		if !ok {
			t.Fatal("socket refused")
		}
		lc := &liveConn{s: e, cfg: cfg, user: 1, conn: <-conns, sock: sock, ctx: sctx, cancel: cancel, readEnd: make(chan struct{})}
		close(lc.readEnd) // no reader: the browser is gone
		client, err := hub.SubscribeAs(ctx, live.Viewer{UserID: 1}, []live.Subscription{{Target: "d1"}})
		if err != nil {
			t.Fatal(err)
		}
		cancel(ErrPeerGone)
		lc.attach(client)
		if err := e.Close(context.Background()); err != nil { // waits for the socket's end
			t.Fatalf("the ended socket was not closed: %v", err)
		}
		if lc.state.Load() != connEnded {
			t.Fatalf("socket state %d after its end, want ended", lc.state.Load())
		}
		e = New(cfg, e.edge, e.log)
		go func() { // the next socket
			b, _, err := websocket.Dial(ctx, "ws"+srv.URL[len("http"):], nil)
			if err == nil {
				defer b.CloseNow()
				<-ctx.Done()
			}
		}()
	}
}
