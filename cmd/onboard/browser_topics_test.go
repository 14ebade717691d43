package main

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/postgres/pgtest"
)

// TestBrowserTopics checks the live topics in real Chromium (docs/live.md, Topics): the drafts
// list's counts and "new or moved" notice in a second tab, the same by polling in a tab whose
// socket is blocked, an operations-list row following its run, and a run's end reaching its
// initiator's tab on another server process as an unread count and a toast. Before, none of
// these pages updated.
func TestBrowserTopics(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)
	base := startApp(t, map[string]string{"DATABASE_URL": dbURL, "SIM_SLOW_DURATION": "12s"})
	// A second server process on the same database (no demo load: the first did it).
	other := startApp(t, map[string]string{"DATABASE_URL": dbURL, "DEMO": "never"})
	browser := newBrowser(t)
	api := &apiSetup{api: newAPIClient(t, base), owner: client(t, base, "owner@acme.test")}
	operator := client(t, base, "operator2@acme.test")
	f := &topicsBrowser{dbURL: dbURL, base: base, other: other, browser: browser, api: api, operator: operator}
	// Not parallel: it runs before the others start (they add drafts to this workspace,
	// 500 at once at the identify checkpoint).
	t.Run("NarrowedCountsStay", f.narrowedCountsStay)
	t.Run("CountsInSecondTab", f.countsInSecondTab)
	t.Run("BlockedTabCountsByPoll", f.blockedTabCountsByPoll)
	t.Run("FiveHundredRows", f.fiveHundredRows)
	t.Run("OperationsRowProgresses", f.operationsRowProgresses)
	t.Run("NotificationOnAnotherProcess", f.notificationOnAnotherProcess)
}

// topicsBrowser is TestBrowserTopics' two server processes on one database, its browser, the
// owner's API client and a second operator who changes things "elsewhere".
type topicsBrowser struct {
	dbURL, base, other string
	browser            context.Context
	api                *apiSetup
	operator           *http.Client
}

// The drafts list, and the script that reads its All count.
const (
	draftsListPath = "/admin/workspaces/acme/onboarding"
	allCountJS     = `Number(document.querySelector('[data-chip-count=all]').textContent)`
)

// narrowedCountsStay: on a list narrowed by a search or a checkpoint, the status tabs count
// what the filter selects (the server's); the topic, which counts the whole workspace, moves
// without overwriting them, and a draft the filter does not select is not announced.
func (f *topicsBrowser) narrowedCountsStay(t *testing.T) {
	// Filters nothing else in this workspace enters or leaves meanwhile: a search for a
	// random word, and the identify checkpoint (the draft made here starts past it; the demo's
	// runs that finish move drafts on to later checkpoints, into "activate").
	for _, narrow := range []string{"?q=" + newUUID()[:8], "?checkpoint=identify"} {
		b := newSession(t, f.browser, f.base, "operator@acme.test")
		b.open(draftsListPath + narrow)
		b.liveState("live", waitFor)
		before := eval[int](b, allCountJS)
		digestRev := `Number(document.querySelector('[data-testid=drafts-digest]').dataset.rev)`
		rev := eval[int](b, digestRev)
		createDraftAPI(t, f.operator, f.base, newUUID(), "Elsewhere", "elsewhere.healthy.test")
		b.jsWithin(waitFor, digestRev+` > `+strconv.Itoa(rev))
		if got := eval[int](b, allCountJS); got != before {
			t.Errorf("%s: All says %d after the topic moved, want the filter's %d", narrow, got, before)
		}
		// A draft the filter does not select is not announced as new or moved either. (The
		// other subtests add drafts to this workspace too, 500 of them at once: -1, "many
		// changed", is right when they pushed the digest's floor past this page.)
		if n := eval[int](b, `Number(document.querySelector('[data-list=drafts] [data-testid=list-notice]').dataset.count || 0)`); n > 0 {
			t.Errorf("%s: the list announces %d new or moved drafts, want none", narrow, n)
		}
	}
}

func (f *topicsBrowser) countsInSecondTab(t *testing.T) {
	t.Parallel()
	base, browser, operator := f.base, f.browser, f.operator
	b := newSession(t, browser, base, "operator@acme.test")
	b.open(draftsListPath)
	b.liveState("live", waitFor)
	b.markDocument()
	// A state without drafts has a chip, hidden (no one cancels here).
	b.js(`getComputedStyle(document.querySelector('[data-chip=cancelled]')).display === 'none'`)
	before := eval[int](b, allCountJS)
	createDraftAPI(t, operator, base, newUUID(), "Counted", "counted.healthy.test")
	b.jsWithin(waitFor, allCountJS+` > `+strconv.Itoa(before)+` && !document.querySelector('[data-chip=draft]').hidden`)
	b.jsWithin(waitFor, `Number(document.querySelector('[data-list=drafts] [data-testid=list-notice]').dataset.count) >= 1`)
	b.text(`[data-list=drafts] [data-testid=list-notice]`, "new or moved draft")
	b.visible(`[data-testid=list-refresh]`)
	b.shot("25-list-notice", `[data-testid=lifecycle-chips]`)
	b.stillSameDocument()
}

func (f *topicsBrowser) blockedTabCountsByPoll(t *testing.T) {
	t.Parallel()
	base, browser, operator := f.base, f.browser, f.operator
	b := newSession(t, browser, base, "viewer@acme.test", sessionOptions{blockLive: true})
	b.open(draftsListPath)
	b.markDocument()
	b.liveState("polling", 8*time.Second)
	before := eval[int](b, allCountJS)
	createDraftAPI(t, operator, base, newUUID(), "Polled", "polled.healthy.test")
	started := time.Now()
	b.jsWithin(12*time.Second, allCountJS+` > `+strconv.Itoa(before)+
		` && window.__liveLog.some(e => e.type === 'applied' && e.source === 'poll' && e.view === 'digest')`)
	t.Logf("the blocked tab counted the new draft %v after it was created", time.Since(started).Round(time.Millisecond))
	b.stillSameDocument()
}

// fiveHundredRows: a 500-row page (per_page=500) is live: a lifecycle change made in the
// database reaches its row and the counts.
func (f *topicsBrowser) fiveHundredRows(t *testing.T) {
	t.Parallel()
	base, browser, dbURL := f.base, f.browser, f.dbURL
	ctx := context.Background()
	db, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	if _, err := db.Exec(ctx, `WITH w AS (SELECT id FROM workspaces WHERE slug = 'acme'),
		t AS (INSERT INTO tenants (workspace_id, tenant_id, display_name)
			SELECT w.id, gen_random_uuid(), 'Bulk ' || i FROM w, generate_series(1, 500) i RETURNING workspace_id, tenant_id, display_name)
		INSERT INTO managed_tenant_onboarding_sessions (workspace_id, tenant_id, display_name, primary_domain)
		SELECT workspace_id, tenant_id, display_name, lower(replace(display_name, ' ', '')) || '.healthy.test' FROM t`); err != nil {
		t.Fatal(err)
	}
	b := newSession(t, browser, base, "viewer@acme.test")
	b.open(draftsListPath + "?per_page=500")
	b.liveState("live", waitFor)
	b.markDocument()
	b.js(`document.querySelectorAll('[data-testid=draft-row][data-live=row]').length === 500`)
	// Two changes made elsewhere, to the last row and to row 250: each reaches its row and
	// the counts. The first also proves the socket subscribed all 500 rows (subscribing
	// loads them, which takes a while after the socket opened); the second is timed.
	for i, c := range []struct {
		row   int
		state string
	}{{499, "action_required"}, {250, "bootstrapping"}} {
		id := eval[string](b, `document.querySelectorAll('[data-testid=draft-row]')[`+strconv.Itoa(c.row)+`].dataset.draftId`)
		count := `Number(document.querySelector('[data-chip-count=` + c.state + `]').textContent)`
		before := eval[int](b, count)
		changed := time.Now()
		if _, err := db.Exec(ctx, `UPDATE managed_tenant_onboarding_sessions SET lifecycle_state = $2,
			version = version + 1 WHERE id = $1`, id, c.state); err != nil {
			t.Fatal(err)
		}
		row := `document.querySelector('[data-testid=draft-row][data-draft-id="` + id + `"]')`
		b.jsWithin(waitFor, row+`.dataset.lifecycle === '`+c.state+`' && `+count+` > `+strconv.Itoa(before))
		var rowAt, countAt int64
		for _, e := range b.liveLog() {
			if e.Type != "applied" || e.T < changed.UnixMilli()-5 {
				continue
			}
			if e.DraftID == id && rowAt == 0 {
				rowAt = e.T
			}
			if strings.HasPrefix(e.DraftID, "drafts:") && countAt == 0 {
				countAt = e.T
			}
		}
		t.Logf("500-row page, change %d: row applied %d ms, counts %d ms after the database change",
			i+1, rowAt-changed.UnixMilli(), countAt-changed.UnixMilli())
	}
	b.stillSameDocument()
}

func (f *topicsBrowser) operationsRowProgresses(t *testing.T) {
	t.Parallel()
	base, browser, api := f.base, f.browser, f.api
	// Signed in first: the run must still be running when the list renders (a sign-in under
	// the race detector on a busy machine can outlast a short simulated run).
	b := newSession(t, browser, base, "operator@acme.test")
	_, run := api.startVerification(t, "row.slow.test")
	b.open("/admin/workspaces/acme/operations")
	b.liveState("live", waitFor)
	b.markDocument()
	row := `document.querySelector('[data-testid=run-row][data-run-id="` + run + `"]')`
	b.js(row + `.dataset.live === 'oprow:` + run + `'`)
	// The row moves by itself: more items done, or done altogether.
	progress := `(() => { const p = ` + row + `.querySelector('[data-testid=run-progress-count]');
		return p ? Number(p.textContent.split('/')[0]) : -1; })()`
	shown := eval[int](b, progress)
	b.jsWithin(30*time.Second, progress+` > `+strconv.Itoa(shown)+` || `+row+`.dataset.status === 'completed'`)
	// Once the database says the run ended (however long the simulated run took on a
	// busy machine), the row says so too.
	for deadline := time.Now().Add(90 * time.Second); ; {
		r := api.api.do(t, api.owner, http.MethodGet, "/workspaces/acme/operation-runs/"+run, "")
		if r.Status == http.StatusOK && r.object(t)["status"] == "completed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s did not complete", run)
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.jsWithin(waitFor, row+`.dataset.status === 'completed' && `+row+`.querySelector('[data-testid=run-duration]').textContent !== 'running'`)
	// A run started elsewhere is announced, not inserted.
	api.startVerification(t, "announced.healthy.test")
	b.jsWithin(waitFor, `Number(document.querySelector('[data-list=runs] [data-testid=list-notice]').dataset.count) >= 1`)
	b.text(`[data-list=runs] [data-testid=list-notice]`, "new run")
	b.stillSameDocument()

	// Searched, the list announces only the new runs its search would list: a run of another
	// tenant is not counted, one of the searched tenant is (its frame comes after the other's).
	b.open("/admin/workspaces/acme/operations?q=searched.healthy")
	b.liveState("live", waitFor)
	api.startVerification(t, "ignored.healthy.test")
	api.startVerification(t, "searched.healthy.test")
	notice := `document.querySelector('[data-list=runs] [data-testid=list-notice]')`
	newInDigest := `[...document.querySelectorAll('[data-testid=runs-digest] data[data-created]')].filter(d =>
		Number(d.dataset.created) > Number(document.querySelector('[data-list=runs]').dataset.renderedMs)).length`
	b.jsWithin(waitFor, newInDigest+` >= 2 && Number(`+notice+`?.dataset.count) >= 1`)
	if n := eval[int](b, `Number(`+notice+`.dataset.count)`); n != 1 {
		t.Errorf("a list searched for one tenant announces %d new runs after a run of it and one of another, want 1", n)
	}
}

func (f *topicsBrowser) notificationOnAnotherProcess(t *testing.T) {
	t.Parallel()
	base, other, browser, api := f.base, f.other, f.browser, f.api
	b := newSession(t, browser, other, "owner@acme.test")
	b.open("/admin/workspaces/acme/audit")
	b.liveState("live", waitFor)
	b.markDocument()
	unread := `Number((document.querySelector('[data-testid=unread-count]') || {textContent: '0'}).textContent)`
	before := eval[int](b, unread)
	// The bell is a disclosure; open, it stays open while it updates (live.js leaves a
	// details element's open attribute alone).
	b.click(`[data-testid=notifications-link]`)
	b.visible(`[data-testid=bell-see-all]`)
	started := time.Now()
	api.startVerification(t, "toast.healthy.test") // through the first process
	b.jsWithin(waitFor, unread+` > `+strconv.Itoa(before)+` && document.querySelector('[data-testid=notification-toast] a[href*="/operations/"]')`)
	t.Logf("unread count and toast on the other process %v after the run started", time.Since(started).Round(time.Millisecond))
	// Still open, and its summary (focused by the click) still focused: a keyboard user stays put.
	b.js(`document.querySelector('[data-testid=bell]').open && document.activeElement.matches('[data-testid=notifications-link]')`)
	// Its latest notifications link to the run.
	b.visible(`[data-testid=bell-menu] [data-testid=bell-item] a`)
	b.visible(`[data-testid=bell-see-all]`)
	b.shot("26-bell", `[data-testid=bell]`)
	b.stillSameDocument()
	if code, _, _ := get(t, api.owner, base+"/admin/notifications", "text/html"); code != http.StatusOK {
		t.Errorf("notifications page = %d", code)
	}
}
