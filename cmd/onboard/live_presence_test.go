package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/tenantops/onboard/internal/postgres/pgtest"
)

// presenceFrame is a presence frame as the browser receives it.
type presenceFrame struct {
	T string `json:"t"`
	U int64  `json:"u"`
	D string `json:"d"`
	P []struct {
		U int64  `json:"u"`
		E string `json:"e"`
		S int    `json:"s"`
		N string `json:"n"`
		F string `json:"f"`
		I bool   `json:"i"`
	} `json:"p"`
}

// nextPresence reads frames until a presence frame of draft satisfies ok.
func nextPresence(t *testing.T, conn *websocket.Conn, draft string, within time.Duration, ok func(presenceFrame) bool) presenceFrame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("no matching presence frame of %s within %v: %v", draft, within, err)
		}
		if typ != websocket.MessageText || !strings.HasPrefix(string(data), "{") {
			continue
		}
		var f presenceFrame
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatalf("bad presence frame %s: %v", data, err)
		}
		if f.T == "presence" && f.D == draft && ok(f) {
			return f
		}
	}
}

func sendPresence(t *testing.T, conn *websocket.Conn, frame string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := conn.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		t.Fatalf("send %s: %v", frame, err)
	}
}

// TestLivePresence is the presence protocol on real sockets and PostgreSQL, across two server
// processes (docs/live.md, Presence): a frame sent on one process reaches a member's socket
// on the other; a socket without presence=1 gets no presence frame; bad frames close with
// 1008; a frame naming a draft the socket did not subscribe to is ignored; closing leaves.
func TestLivePresence(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)
	a1 := startLiveApp(t, dbURL, liveOptions{}, nil)
	a2 := startLiveApp(t, dbURL, liveOptions{}, nil)
	s := seedDraft(t, a1.db)
	other := seedDraft(t, a1.db) // a draft of another workspace
	// A second member of s's workspace.
	var second string
	if err := a1.db.Pool.QueryRow(context.Background(), `WITH u AS (INSERT INTO users (email, password_hash)
			SELECT 'second-' || $1, password_hash FROM users WHERE id = $2 RETURNING id, email)
		INSERT INTO workspace_memberships (workspace_id, user_id, role) SELECT $3, u.id, 'operator' FROM u
		RETURNING (SELECT email FROM u)`, s.member, s.memberID, s.ws).Scan(&second); err != nil {
		t.Fatal(err)
	}
	q := "presence=1&draft=" + s.draft + "&view=checkpoint:2"

	watcher := mustDial(t, a2.base, signIn(t, a2.base, second), q)
	defer watcher.CloseNow()
	// Without presence=1 a socket never receives a presence frame (old clients, the bench).
	plain := mustDial(t, a2.base, signIn(t, a2.base, second), "draft="+s.draft)
	defer plain.CloseNow()

	typist := mustDial(t, a1.base, signIn(t, a1.base, s.member), q)
	sent := time.Now()
	sendPresence(t, typist, `{"t":"presence","d":"`+s.draft+`","s":2,"f":"client_id","i":false}`)
	f := nextPresence(t, watcher, s.draft, 15*time.Second, func(f presenceFrame) bool { return len(f.P) == 1 })
	t.Logf("join seen on the other process after %v", time.Since(sent).Round(time.Millisecond))
	if p := f.P[0]; p.E != s.member || p.S != 2 || p.N != "client_id" || p.F != "Client ID" || p.I {
		t.Errorf("presence = %+v, want %s on step 2 editing Client ID", p, s.member)
	}

	t.Run("IgnoredForAnotherDraft", func(t *testing.T) {
		// Valid, but the socket did not subscribe to that draft: ignored, the socket stays.
		sendPresence(t, typist, `{"t":"presence","d":"`+other.draft+`","s":1,"f":"","i":false}`)
		sendPresence(t, typist, `{"t":"presence","d":"`+s.draft+`","s":3,"f":"<img src=x>","i":true}`)
		f := nextPresence(t, watcher, s.draft, 15*time.Second, func(f presenceFrame) bool { return len(f.P) == 1 && f.P[0].S == 3 })
		if p := f.P[0]; p.N != "" || p.F != "" || !p.I {
			t.Errorf("presence = %+v, want step 3, no field (unknown name), idle", p)
		}
	})

	t.Run("LeaveOnClose", func(t *testing.T) {
		closed := time.Now()
		typist.Close(websocket.StatusNormalClosure, "")
		nextPresence(t, watcher, s.draft, 15*time.Second, func(f presenceFrame) bool { return len(f.P) == 0 })
		t.Logf("leave seen on the other process after %v", time.Since(closed).Round(time.Millisecond))
	})

	t.Run("BadFramesClose1008", func(t *testing.T) {
		for _, bad := range []string{`hello`, `{"t":"presence"}`, `{"t":"presence","d":"` + s.draft + `","s":9}`,
			`{"t":"presence","d":"` + s.draft + `","s":1,"x":1}`, strings.Repeat("x", 5000)} {
			c := mustDial(t, a1.base, signIn(t, a1.base, s.member), q)
			sendPresence(t, c, bad)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			for {
				if _, _, err := c.Read(ctx); err != nil {
					if code := websocket.CloseStatus(err); code != websocket.StatusPolicyViolation && code != websocket.StatusMessageTooBig {
						t.Errorf("after %.40q: %v, want 1008 (or 1009 when too big)", bad, err)
					}
					break
				}
			}
			cancel()
		}
	})

	t.Run("PlainSocketGetsNoPresence", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		for {
			_, data, err := plain.Read(ctx)
			if err != nil {
				break
			}
			if strings.HasPrefix(string(data), "{") {
				t.Fatalf("a socket without presence=1 received %s", data)
			}
		}
	})
}
