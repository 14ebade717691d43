package postgres_test

import (
	"context"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tenantops/onboard/internal/postgres"
	"github.com/tenantops/onboard/internal/postgres/pgtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestParseLiveEvent(t *testing.T) {
	t.Parallel()
	const d, r = "0b7e4c2a-5d0c-4a8e-9f1e-2c3d4e5f6a7b", "1c7e4c2a-5d0c-4a8e-9f1e-2c3d4e5f6a7b"
	const sum = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	ok := []struct {
		name, payload string
		want          postgres.LiveEvent
	}{
		{"Draft", `{"k":"draft","d":"` + d + `","w":3,"v":2,"r":17}`, postgres.LiveEvent{Kind: postgres.LiveKindDraft, DraftID: d, WorkspaceID: 3, Version: 2, Rev: 17}},
		{"Run", `{"k":"run","d":"` + d + `","w":3,"run":"` + r + `","r":18}`, postgres.LiveEvent{Kind: postgres.LiveKindRun, DraftID: d, WorkspaceID: 3, Rev: 18}},
		{"Membership", `{"k":"membership","w":3,"u":9}`, postgres.LiveEvent{Kind: postgres.LiveKindMembership, WorkspaceID: 3, UserID: 9}},
		{"Notification", `{"k":"notification","w":3,"u":9}`, postgres.LiveEvent{Kind: postgres.LiveKindNotification, WorkspaceID: 3, UserID: 9}},
		{"Audit", `{"k":"audit","w":3}`, postgres.LiveEvent{Kind: postgres.LiveKindAudit, WorkspaceID: 3}},
		{"Session", `{"k":"session","s":"` + sum + `"}`, postgres.LiveEvent{Kind: postgres.LiveKindSession, Session: sum}},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			got, err := postgres.ParseLiveEvent(tt.payload)
			if err != nil || got != tt.want {
				t.Fatalf("ParseLiveEvent = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	bad := map[string]string{
		"Empty":            ``,
		"NotJSON":          `draft`,
		"Array":            `[1]`,
		"UnknownKind":      `{"k":"tenant","w":3}`,
		"UnknownField":     `{"k":"draft","d":"` + d + `","w":3,"v":2,"r":17,"secret":"x"}`,
		"Trailing":         `{"k":"membership","w":3,"u":9} {}`,
		"NoWorkspace":      `{"k":"draft","d":"` + d + `","v":2,"r":17}`,
		"NoDraft":          `{"k":"draft","w":3,"v":2,"r":17}`,
		"UpperCaseUUID":    `{"k":"draft","d":"0B7E4C2A-5D0C-4A8E-9F1E-2C3D4E5F6A7B","w":3,"v":2,"r":17}`,
		"ShortUUID":        `{"k":"draft","d":"0b7e4c2a","w":3,"v":2,"r":17}`,
		"NoRev":            `{"k":"draft","d":"` + d + `","w":3,"v":2}`,
		"WrongType":        `{"k":"draft","d":"` + d + `","w":"3","v":2,"r":17}`,
		"RunWithoutRun":    `{"k":"run","d":"` + d + `","w":3,"r":18}`,
		"RunWithVersion":   `{"k":"run","d":"` + d + `","w":3,"run":"` + r + `","v":1,"r":18}`,
		"MemberNoUser":     `{"k":"membership","w":3}`,
		"NoticeNoUser":     `{"k":"notification","w":3}`,
		"AuditNoWorkspace": `{"k":"audit"}`,
		"AuditWithUser":    `{"k":"audit","w":3,"u":9}`,
		"NoticeWithR":      `{"k":"notification","w":3,"u":9,"r":4}`,
		"MemberWithD":      `{"k":"membership","w":3,"u":9,"d":"` + d + `"}`,
		"SessionShort":     `{"k":"session","s":"9f86d0"}`,
		"SessionUpper":     `{"k":"session","s":"` + strings.ToUpper(sum) + `"}`,
		"SessionWithW":     `{"k":"session","w":3,"s":"` + sum + `"}`,
		"SessionNoS":       `{"k":"session"}`,
		"DraftWithS":       `{"k":"draft","d":"` + d + `","w":3,"v":2,"r":17,"s":"` + sum + `"}`,
	}
	for name, payload := range bad {
		t.Run("Bad/"+name, func(t *testing.T) {
			if got, err := postgres.ParseLiveEvent(payload); err == nil {
				t.Fatalf("ParseLiveEvent(%s) = %+v, want an error", payload, got)
			}
		})
	}
}

// recHub records what the listener feeds it.
type recHub struct {
	events  chan postgres.LiveEvent
	resyncs chan struct{}
}

func newRecHub() *recHub {
	return &recHub{events: make(chan postgres.LiveEvent, 1024), resyncs: make(chan struct{}, 64)}
}

func (h *recHub) Notify(e postgres.LiveEvent) { h.events <- e }
func (h *recHub) Resync()                     { h.resyncs <- struct{}{} }
func (h *recHub) Disconnected()               {}

func (h *recHub) waitResync(t *testing.T) {
	t.Helper()
	select {
	case <-h.resyncs:
	case <-time.After(20 * time.Second):
		t.Fatal("no Resync (listener did not connect)")
	}
}

func (h *recHub) waitEvent(t *testing.T, match func(postgres.LiveEvent) bool) postgres.LiveEvent {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-h.events:
			if match(e) {
				return e
			}
		case <-deadline:
			t.Fatal("no matching event")
		}
	}
}

type listenerFixture struct {
	db   *postgres.DB
	hub  *recHub
	l    *postgres.Listener
	kill func() // terminates the listener's backend
}

// setupListener starts a listener on a fresh database (through listenURL when given, to put
// a proxy in between) and waits until it listens.
func setupListener(t *testing.T, cfg postgres.ListenerConfig, via func(dbURL string) string) *listenerFixture {
	t.Helper()
	dbURL := pgtest.NewURL(t)
	db, err := postgres.Open(context.Background(), dbURL, "test", 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	f := &listenerFixture{db: db, hub: newRecHub()}
	cfg.URL, cfg.Hub, cfg.Pool = dbURL, f.hub, db.Pool
	if via != nil {
		cfg.URL = via(dbURL)
	}
	f.l, err = postgres.NewListener(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if f.l.Connected() {
			t.Error("Connected after Run returned")
		}
	})
	f.hub.waitResync(t)
	if !f.l.Connected() {
		t.Fatal("not Connected after the first resync")
	}
	f.kill = func() {
		t.Helper()
		var n int
		err := db.Pool.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE application_name = $1 AND datname = current_database()`, postgres.ListenerAppName).Scan(&n)
		if err != nil || n != 1 {
			t.Fatalf("terminate listener backend: %d terminated, %v", n, err)
		}
	}
	return f
}

// insertDraft inserts a workspace, tenant and draft and returns the draft's id and workspace.
func insertDraft(t *testing.T, db *postgres.DB) (string, int64) {
	t.Helper()
	ctx := context.Background()
	var ws int64
	var id string
	err := db.Pool.QueryRow(ctx, `INSERT INTO workspaces (slug, name) VALUES ('w-' || substr(md5(random()::text), 1, 8), 'W') RETURNING id`).Scan(&ws)
	if err == nil {
		_, err = db.Pool.Exec(ctx, `INSERT INTO tenants (workspace_id, tenant_id) VALUES ($1, '3f1e4c2a-5d0c-4a8e-9f1e-2c3d4e5f6a7b')`, ws)
	}
	if err == nil {
		err = db.Pool.QueryRow(ctx, `INSERT INTO managed_tenant_onboarding_sessions (workspace_id, tenant_id)
			VALUES ($1, '3f1e4c2a-5d0c-4a8e-9f1e-2c3d4e5f6a7b') RETURNING id::text`, ws).Scan(&id)
	}
	if err != nil {
		t.Fatalf("insert draft: %v", err)
	}
	return id, ws
}

func bumpVersion(t *testing.T, db *postgres.DB, id string) int64 {
	t.Helper()
	var v int64
	if err := db.Pool.QueryRow(context.Background(), `UPDATE managed_tenant_onboarding_sessions SET version = version + 1
		WHERE id = $1 RETURNING version`, id).Scan(&v); err != nil {
		t.Fatalf("update draft: %v", err)
	}
	return v
}

func TestListener(t *testing.T) {
	t.Parallel()

	t.Run("TriggerToEvent", func(t *testing.T) {
		t.Parallel()
		f := setupListener(t, postgres.ListenerConfig{}, nil)
		id, ws := insertDraft(t, f.db)
		before := time.Now()
		v := bumpVersion(t, f.db, id)
		e := f.hub.waitEvent(t, func(e postgres.LiveEvent) bool { return e.Kind == postgres.LiveKindDraft && e.Version == v })
		if e.DraftID != id || e.WorkspaceID != ws || e.Rev <= 0 || e.At.Before(before) {
			t.Errorf("event = %+v, want draft %s in workspace %d with a rev and a receive time", e, id, ws)
		}
	})

	t.Run("BadPayloadCounted", func(t *testing.T) {
		t.Parallel()
		f := setupListener(t, postgres.ListenerConfig{}, nil)
		ctx := context.Background()
		for _, p := range []string{`{`, `{"k":"nope","w":1}`, `{"k":"membership","w":1,"u":2,"x":3}`} {
			if _, err := f.db.Pool.Exec(ctx, `SELECT pg_notify($1, $2)`, postgres.LiveChannel, p); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.db.Pool.Exec(ctx, `SELECT pg_notify($1, $2)`, postgres.LiveChannel, `{"k":"membership","w":1,"u":2}`); err != nil {
			t.Fatal(err)
		}
		f.hub.waitEvent(t, func(e postgres.LiveEvent) bool { return e.Kind == postgres.LiveKindMembership })
		// Notifications are handled in order, so the bad ones were counted before.
		if got := f.l.Stats().BadPayloads; got != 3 {
			t.Errorf("BadPayloads = %d, want 3", got)
		}
	})

	t.Run("ReconnectIsNewEpoch", func(t *testing.T) {
		t.Parallel()
		f := setupListener(t, postgres.ListenerConfig{ReconnectDelay: 50 * time.Millisecond}, nil)
		f.kill()
		f.hub.waitResync(t)
		id, _ := insertDraft(t, f.db)
		v := bumpVersion(t, f.db, id)
		f.hub.waitEvent(t, func(e postgres.LiveEvent) bool { return e.DraftID == id && e.Version == v })
		st := f.l.Stats()
		if !st.Connected || st.Connects != 2 || st.Disconnects != 1 {
			t.Errorf("stats = %+v, want connected after 2 connects and 1 disconnect", st)
		}
	})

	t.Run("HeartbeatDetectsSilentDeath", func(t *testing.T) {
		t.Parallel()
		p := newProxy(t)
		f := setupListener(t, postgres.ListenerConfig{
			ReconnectDelay:    50 * time.Millisecond,
			HeartbeatInterval: 100 * time.Millisecond,
			HeartbeatTimeout:  300 * time.Millisecond,
		}, p.via)
		// Heartbeats flow and do not cause reconnects while the connection is healthy.
		deadline := time.Now().Add(10 * time.Second)
		for f.l.Stats().Heartbeats < 5 {
			if time.Now().After(deadline) {
				t.Fatalf("heartbeats not received: %+v", f.l.Stats())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if st := f.l.Stats(); st.HeartbeatTimeouts != 0 || st.Connects != 1 {
			t.Fatalf("healthy connection: %+v, want no timeout and one connect", st)
		}
		// The connection stays open but nothing passes: only the heartbeat can tell.
		p.freeze()
		f.hub.waitResync(t)
		st := f.l.Stats()
		if st.HeartbeatTimeouts < 1 || st.Connects != 2 || !f.l.Connected() {
			t.Errorf("after freeze: %+v, want a heartbeat timeout and a second connection", st)
		}
		id, _ := insertDraft(t, f.db)
		v := bumpVersion(t, f.db, id)
		f.hub.waitEvent(t, func(e postgres.LiveEvent) bool { return e.DraftID == id && e.Version == v })
	})
}

// proxy forwards TCP connections to PostgreSQL; freeze makes the current ones silently stop
// passing data in both directions while staying open, as a dead network path would.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []*proxyConn
	wg     sync.WaitGroup
}

type proxyConn struct {
	a, b   net.Conn
	frozen atomic.Bool
	stop   chan struct{}
	once   sync.Once
}

func (c *proxyConn) close() {
	c.once.Do(func() {
		close(c.stop)
		c.a.Close()
		c.b.Close()
	})
}

func newProxy(t *testing.T) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

// via returns dbURL pointing at the proxy, and remembers the real address.
func (p *proxy) via(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		panic(err)
	}
	p.mu.Lock()
	p.target = u.Host
	p.mu.Unlock()
	u.Host = p.ln.Addr().String()
	return u.String()
}

func (p *proxy) accept() {
	for {
		a, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		target := p.target
		p.mu.Unlock()
		b, err := net.Dial("tcp", target)
		if err != nil {
			a.Close()
			continue
		}
		c := &proxyConn{a: a, b: b, stop: make(chan struct{})}
		p.mu.Lock()
		p.conns = append(p.conns, c)
		p.mu.Unlock()
		p.wg.Go(func() { pipe(c, a, b) })
		p.wg.Go(func() { pipe(c, b, a) })
	}
}

func pipe(c *proxyConn, dst, src net.Conn) {
	defer c.close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if c.frozen.Load() {
			<-c.stop // swallow everything until the test ends
			return
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *proxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.frozen.Store(true)
	}
}
