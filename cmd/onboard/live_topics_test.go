package main

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/live"
	"github.com/tenantops/onboard/internal/liveedge"
	"github.com/tenantops/onboard/internal/postgres"
	"github.com/tenantops/onboard/internal/postgres/pgtest"
)

// This file tests the live topics (docs/live.md, Topics) over real PostgreSQL, real servers
// and real WebSockets: the drafts list's counts and digest, a 500-row list, operations rows,
// the notifications bell across two server processes, the poll and the refusal metrics.

// digestRev is the drafts or runs topic's current rev (what a page renders).
func digestRev(t *testing.T, db *postgres.DB, table string, ws int64) int64 {
	t.Helper()
	var rev int64
	if err := db.Pool.QueryRow(context.Background(), `SELECT coalesce(max(rev), 0) FROM `+table+` WHERE workspace_id = $1`, ws).Scan(&rev); err != nil {
		t.Fatal(err)
	}
	return rev
}

var countRE = regexp.MustCompile(`<data value="(\d+)" data-count="draft">`)

// readUntil reads frames until one of their fragments satisfies ok, within d, and returns
// that fragment and how long it took.
func readUntil(t *testing.T, conn *websocket.Conn, d time.Duration, what string, ok func(frag string) bool) (string, time.Duration) {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v (close %d)", what, err, websocket.CloseStatus(err))
		}
		for _, f := range live.SplitBatch(b) {
			if ok(string(f)) {
				return string(f), time.Since(start)
			}
		}
	}
}

// readAll reads frames until every named condition was met by a fragment, within d, and
// returns how long each took.
func readAll(t *testing.T, conn *websocket.Conn, d time.Duration, want map[string]func(frag string) bool) map[string]time.Duration {
	t.Helper()
	start := time.Now()
	got := map[string]time.Duration{}
	for len(got) < len(want) {
		var missing []string
		for name := range want {
			if _, ok := got[name]; !ok {
				missing = append(missing, name)
			}
		}
		readUntil(t, conn, d-time.Since(start), strings.Join(missing, ", "), func(f string) bool {
			for name, ok := range want {
				if _, done := got[name]; !done && ok(f) {
					got[name] = time.Since(start)
				}
			}
			return len(got) == len(want)
		})
	}
	return got
}

// draftCount reads the "draft" count of a drafts digest fragment (-1 when it is none).
func draftCount(frag string) int {
	if !strings.Contains(frag, `data-live="digest"`) {
		return -1
	}
	m := countRE.FindStringSubmatch(frag)
	if m == nil {
		return -1
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

// TestLiveDraftsTopic: the drafts list's counts reach every tab when a draft is created
// elsewhere, rendered once for all of them; a 500-row page (500 row subscriptions and the
// list's topic on one socket) sees a change to any row and the counts; outsiders are refused
// (4404, poll 404) and counted in onboard_live_refusals_total. Before, the counts were
// rendered with the page only, and a list had no topic.
func TestLiveDraftsTopic(t *testing.T) {
	t.Parallel()
	// FiveHundredRows subscribes one socket to 500 drafts, loading each: more than the
	// default 10 s when the two cores are busy with the rest of the suite.
	a := startLiveApp(t, pgtest.NewURL(t), liveOptions{Endpoint: liveedge.Config{SubscribeTimeout: time.Minute}}, nil)
	s := seedDraft(t, a.db)
	f := &draftsTopicFixture{a: a, s: s, member: signIn(t, a.base, s.member), topic: live.DraftsTopic(s.ws)}
	t.Run("CountsInEveryTab", f.countsInEveryTab)
	t.Run("FiveHundredRows", f.fiveHundredRows)
	t.Run("Poll", f.poll)
	t.Run("Refused", f.refused)
	t.Run("RevokedMemberClosed", f.revokedMemberClosed)
}

// draftsTopicFixture is TestLiveDraftsTopic's app, seed, signed-in member and topic; its
// subtests run in order (FiveHundredRows counts the drafts the ones before made).
type draftsTopicFixture struct {
	a      *liveApp
	s      seed
	member *http.Client
	topic  string
}

func (f *draftsTopicFixture) countsInEveryTab(t *testing.T) {
	a, s, member, topic := f.a, f.s, f.member, f.topic
	q := fmt.Sprintf("draft=%s&rev=%d", topic, digestRev(t, a.db, "managed_tenant_onboarding_sessions", s.ws))
	tabs := []*websocket.Conn{mustDial(t, a.base, member, q), mustDial(t, a.base, member, q)}
	waitConns(t, a, 2)
	before := a.lv.Hub.Stats().Renders
	moreDrafts(t, a.db, s.ws, 1) // created elsewhere: 2 drafts in state draft now
	for i, c := range tabs {
		_, took := readUntil(t, c, 5*time.Second, "the new count", func(f string) bool { return draftCount(f) == 2 })
		t.Logf("tab %d: count 2 after %v", i, took.Round(time.Millisecond))
	}
	if got := a.lv.Hub.Stats().Renders - before; got != 1 {
		t.Errorf("renders for one change seen by two tabs = %d, want 1", got)
	}
	for _, c := range tabs {
		c.Close(websocket.StatusNormalClosure, "")
	}
	waitConns(t, a, 0)
}

func (f *draftsTopicFixture) fiveHundredRows(t *testing.T) {
	a, s, member, topic := f.a, f.s, f.member, f.topic
	moreDrafts(t, a.db, s.ws, 498) // 500 with the seed's and CountsInEveryTab's
	rows, err := a.db.Pool.Query(context.Background(), `SELECT id::text FROM managed_tenant_onboarding_sessions WHERE workspace_id = $1`, s.ws)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(ids) != 500 {
		t.Fatalf("%d drafts (%v), want 500", len(ids), err)
	}
	var q []string
	for _, id := range ids {
		q = append(q, fmt.Sprintf("draft=%s&rev=%d&view=row", id, currentRev(t, a.db, id)))
	}
	q = append(q, fmt.Sprintf("draft=%s&rev=%d", topic, digestRev(t, a.db, "managed_tenant_onboarding_sessions", s.ws)),
		fmt.Sprintf("draft=%s", live.UserTopic(s.memberID)))
	conn := mustDial(t, a.base, member, strings.Join(q, "&"))
	conn.SetReadLimit(4 << 20)
	waitConns(t, a, 1)
	// Elsewhere: row 400 moves to action_required; counts and that row follow.
	target := ids[400]
	if _, err := a.db.Pool.Exec(context.Background(), `UPDATE managed_tenant_onboarding_sessions
		SET lifecycle_state = 'action_required', version = version + 1 WHERE id = $1`, target); err != nil {
		t.Fatal(err)
	}
	var counts string
	took := readAll(t, conn, 5*time.Second, map[string]func(string) bool{
		"row 400": func(f string) bool {
			return strings.Contains(f, `data-draft-id="`+target+`"`) && strings.Contains(f, `data-lifecycle="action_required"`)
		},
		"the counts": func(f string) bool {
			if strings.Contains(f, `<data value="1" data-count="action_required">`) {
				counts = f
				return true
			}
			return false
		},
	})
	if got := draftCount(counts); got != 499 {
		t.Errorf("draft count = %d, want 499", got)
	}
	t.Logf("500-row socket: row after %v, counts after %v", took["row 400"].Round(time.Millisecond), took["the counts"].Round(time.Millisecond))
	conn.Close(websocket.StatusNormalClosure, "")
	waitConns(t, a, 0)
	// The same page polling (its socket blocked): one request, and what it costs.
	var pq []string
	for _, id := range ids {
		pq = append(pq, fmt.Sprintf("draft=%s&rev=%d&view=row", id, currentRev(t, a.db, id)))
	}
	pq = append(pq, fmt.Sprintf("draft=%s&rev=%d", topic, digestRev(t, a.db, "managed_tenant_onboarding_sessions", s.ws)))
	loads, start := a.lv.Hub.Stats().Loads, time.Now()
	if code, body, _ := get(t, member, a.base+"/live/poll?"+strings.Join(pq, "&"), "text/html"); code != http.StatusNotModified {
		t.Fatalf("500-row poll at the current revs = %d %.200s, want 304", code, body)
	}
	pollTook, loaded := time.Since(start), a.lv.Hub.Stats().Loads-loads
	t.Logf("500-row poll answered 304 in %v with %d snapshot loads", pollTook.Round(time.Millisecond), loaded)
	// Drafts that did not move cost no snapshot: one query says so (the topic may load).
	if loaded > 1 {
		t.Errorf("a 500-row poll with nothing new loaded %d snapshots, want at most 1 (the topic)", loaded)
	}
	// One row moved: the poll answers with it (and the counts), loading only it.
	ignored := a.lv.Hub.Stats().Ignored
	v := bump(t, a.db, ids[7])
	// The change's notification must reach the hub (ignored: nobody subscribes now) before
	// the poll subscribes; arriving during the poll it would load the row again for it.
	for deadline := time.Now().Add(10 * time.Second); a.lv.Hub.Stats().Ignored == ignored; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the change's notification did not reach the hub within 10 s")
		}
	}
	loads = a.lv.Hub.Stats().Loads
	code, body, _ := get(t, member, a.base+"/live/poll?"+strings.Join(pq, "&"), "text/html")
	if code != http.StatusOK || !strings.Contains(body, `data-draft-id="`+ids[7]+`"`) || !strings.Contains(body, fmt.Sprintf(`data-version="%d"`, v)) {
		t.Fatalf("500-row poll after a change = %d %.300s, want the changed row", code, body)
	}
	if loaded := a.lv.Hub.Stats().Loads - loads; loaded > 2 {
		t.Errorf("a 500-row poll with one row moved loaded %d snapshots, want at most 2 (the row, the topic)", loaded)
	}
	// The shortcut vouches only for drafts the viewer may see: an outsider asking with
	// the current revs is refused as before.
	if code, _, _ := get(t, signIn(t, a.base, s.outsider), a.base+"/live/poll?"+pq[0], "text/html"); code != http.StatusNotFound {
		t.Errorf("an outsider's poll at the current rev = %d, want 404", code)
	}
}

func (f *draftsTopicFixture) poll(t *testing.T) {
	a, s, member, topic := f.a, f.s, f.member, f.topic
	rev := digestRev(t, a.db, "managed_tenant_onboarding_sessions", s.ws)
	q := fmt.Sprintf("draft=%s&rev=%d", topic, rev)
	if code, body, _ := get(t, member, a.base+"/live/poll?"+q, "text/html"); code != http.StatusNotModified {
		t.Fatalf("poll at the current rev = %d %s, want 304", code, body)
	}
	moreDrafts(t, a.db, s.ws, 1)
	code, body, _ := get(t, member, a.base+"/live/poll?"+q, "text/html")
	if code != http.StatusOK || !strings.Contains(body, `data-testid="drafts-digest"`) {
		t.Fatalf("poll after a new draft = %d %s, want the digest", code, body)
	}
}

func (f *draftsTopicFixture) refused(t *testing.T) {
	a, s, member, topic := f.a, f.s, f.member, f.topic
	outsider := signIn(t, a.base, s.outsider)
	for _, q := range []string{"draft=" + topic, "draft=" + live.RunsTopic(s.ws), "draft=" + live.UserTopic(s.memberID)} {
		conn := mustDial(t, a.base, outsider, q)
		if got := closeCode(t, conn, 5*time.Second); got != 4404 {
			t.Errorf("%s by an outsider: close %d, want 4404", q, got)
		}
		if code, _, _ := get(t, outsider, a.base+"/live/poll?"+q, "text/html"); code != http.StatusNotFound {
			t.Errorf("poll %s by an outsider = %d, want 404", q, code)
		}
	}
	if code, _, _ := get(t, member, a.base+"/live/poll?draft=drafts:1&view=row", "text/html"); code != http.StatusBadRequest {
		t.Errorf("poll with a row view of a topic = %d, want 400", code)
	}
	// 6 here and FiveHundredRows' outsider poll.
	_, metrics, _ := get(t, http.DefaultClient, a.metrics, "")
	for _, re := range []string{`onboard_live_refusals_total\{reason="not_found"\} 7`, `onboard_live_refusals_total\{reason="invalid"\} 1`} {
		if !regexp.MustCompile(`(?m)^` + re + `$`).MatchString(metrics) {
			t.Errorf("/metrics lacks %s", re)
		}
	}
}

func (f *draftsTopicFixture) revokedMemberClosed(t *testing.T) {
	a, s, member, topic := f.a, f.s, f.member, f.topic
	conn := mustDial(t, a.base, member, "draft="+topic)
	readUntil(t, conn, 5*time.Second, "the digest", func(f string) bool { return draftCount(f) >= 0 })
	if _, err := a.db.Pool.Exec(context.Background(), `DELETE FROM workspace_memberships WHERE workspace_id = $1 AND user_id = $2`,
		s.ws, s.memberID); err != nil {
		t.Fatal(err)
	}
	if got := closeCode(t, conn, 5*time.Second); got != websocket.StatusPolicyViolation {
		t.Fatalf("close code = %d, want 1008", got)
	}
}

// addRun inserts a running run of the draft with total items and returns its id.
func addRun(t *testing.T, db *postgres.DB, draft string, total int) string {
	t.Helper()
	var id string
	if err := db.Pool.QueryRow(context.Background(), `INSERT INTO operation_runs
			(workspace_id, tenant_id, draft_id, type, status, started_at, summary_counts)
		SELECT workspace_id, tenant_id, id, 'verify_access', 'running', now(), jsonb_build_object('total', $2::int)
		FROM managed_tenant_onboarding_sessions WHERE id = $1 RETURNING id::text`, draft, total).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestLiveOperationsRows: an operations-list row of a running run follows its progress and
// completion (view oprow:<run>), and a run started elsewhere reaches the list's runs topic.
// Before, the operations list had no live fragment at all.
func TestLiveOperationsRows(t *testing.T) {
	t.Parallel()
	a := startLiveApp(t, pgtest.NewURL(t), liveOptions{}, nil)
	s := seedDraft(t, a.db)
	member := signIn(t, a.base, s.member)
	run := addRun(t, a.db, s.draft, 48)
	conn := mustDial(t, a.base, member, fmt.Sprintf("draft=%s&view=oprow:%s&rev=%d&draft=%s&rev=%d", s.draft, run,
		currentRev(t, a.db, s.draft), live.RunsTopic(s.ws), digestRev(t, a.db, "operation_runs", s.ws)))
	waitConns(t, a, 1)
	if _, err := a.db.Pool.Exec(context.Background(), `UPDATE operation_runs SET summary_counts = '{"total":48,"succeeded":12}' WHERE id = $1`, run); err != nil {
		t.Fatal(err)
	}
	_, took := readUntil(t, conn, 5*time.Second, "progress 12/48", func(f string) bool {
		return strings.Contains(f, `data-live="oprow:`+run+`"`) && strings.Contains(f, ">12/48<")
	})
	t.Logf("row progressed after %v", took.Round(time.Millisecond))
	if _, err := a.db.Pool.Exec(context.Background(), `UPDATE operation_runs SET status = 'completed', outcome = 'succeeded',
		completed_at = started_at + interval '12 seconds' WHERE id = $1`, run); err != nil {
		t.Fatal(err)
	}
	readUntil(t, conn, 5*time.Second, "completion", func(f string) bool {
		return strings.Contains(f, `data-live="oprow:`+run+`"`) && strings.Contains(f, `data-status="completed"`) && strings.Contains(f, "12 s")
	})
	other := addRun(t, a.db, moreDrafts(t, a.db, s.ws, 1)[0], 0)
	readUntil(t, conn, 5*time.Second, "the new run in the runs digest", func(f string) bool {
		return strings.Contains(f, `data-testid="runs-digest"`) && strings.Contains(f, `value="`+other+`"`)
	})
	// Rows are one label value, whatever the run.
	_, metrics, _ := get(t, http.DefaultClient, a.metrics, "")
	if !regexp.MustCompile(`onboard_live_renders_total\{[^}]*view="oprow"`).MatchString(metrics) || strings.Contains(metrics, `view="oprow:`) {
		t.Errorf("/metrics: renders of rows not labelled view=\"oprow\"")
	}
}

// TestLiveNotificationsTwoProcesses: a notification written through one server process
// reaches its user's bell on a socket of another process (unread count), and reading it
// clears the count. Before, the count was rendered with each page only.
func TestLiveNotificationsTwoProcesses(t *testing.T) {
	t.Parallel()
	a, b, s := twoLiveApps(t)
	conn := mustDial(t, a.base, signIn(t, a.base, s.member), "draft="+live.UserTopic(s.memberID)+"&rev=0")
	waitConns(t, a, 1)
	var run string
	if err := b.db.Pool.QueryRow(context.Background(), `INSERT INTO user_notifications (user_id, workspace_id, kind, title, draft_id, payload)
		VALUES ($1, $2, 'run_completed', 'Verification finished', $3, '{"type":"verify_access","outcome":"failed"}') RETURNING id::text`,
		s.memberID, s.ws, s.draft).Scan(&run); err != nil {
		t.Fatal(err)
	}
	frag, took := readUntil(t, conn, 5*time.Second, "unread 1", func(f string) bool {
		return strings.Contains(f, `data-testid="unread-count">1<`)
	})
	t.Logf("bell on process A after a notification through B: %v", took.Round(time.Millisecond))
	if !strings.Contains(frag, "Access verification for Contoso: failed.") || !strings.Contains(frag, `data-newest="`+run+`"`) {
		t.Errorf("bell %s lacks the notification", frag)
	}
	if _, err := b.db.Pool.Exec(context.Background(), `UPDATE user_notifications SET read_at = now() WHERE user_id = $1`, s.memberID); err != nil {
		t.Fatal(err)
	}
	readUntil(t, conn, 5*time.Second, "no unread", func(f string) bool {
		return strings.Contains(f, `data-live="bell"`) && !strings.Contains(f, `unread-count`)
	})
}
