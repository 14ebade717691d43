package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/postgres"
	"github.com/tenantops/onboard/internal/postgres/pgtest"
	"github.com/tenantops/onboard/internal/presence"
)

// presenceEnv makes leases short, so that a crashed process's presence expires within
// seconds instead of a minute.
// DB_MAX_CONNS keeps the two processes' pools small on the shared database server.
var presenceEnv = map[string]string{"PRESENCE_LEASE_INTERVAL": "300ms", "PRESENCE_LEASE_TTL": "1s", "DB_MAX_CONNS": "8"}

// TestBrowserPresence checks presence in real Chromium (docs/live.md, Presence) with people
// signed in through separate browser contexts on two server processes sharing one database:
// each sees the others with their step and field, the field's label carries "… is editing",
// the drafts list shows who has a draft open; a closed tab, a crashed tab and a removed member
// disappear; a process that stops reaching the database disappears when its lease expires;
// nobody of another workspace sees anything; and presence never moves a version, a rev, the
// audit log or raises a banner.
func TestBrowserPresence(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)
	env := map[string]string{"DATABASE_URL": dbURL}
	other := map[string]string{"DATABASE_URL": dbURL, "DEMO": "never"}
	for k, v := range presenceEnv {
		env[k], other[k] = v, v
	}
	base := startApp(t, env)
	base2 := startApp(t, other) // a second server process on the same database
	browser := newBrowser(t)
	owner := client(t, base, "owner@acme.test")
	f := &presenceBrowser{dbURL: dbURL, base: base, base2: base2, browser: browser}
	f.draft = func(name string) string {
		return createDraftAPI(t, owner, base, newUUID(), name, "presence.healthy.test")
	}
	t.Run("StepFieldAndLeave", f.stepFieldAndLeave)
	t.Run("DraftsList", f.draftsList)
	t.Run("Idle", f.idle)
	t.Run("CrashedTab", f.crashedTab)
	t.Run("RemovedMember", f.removedMember)
	t.Run("OtherWorkspace", f.otherWorkspace)
	t.Run("CrashedProcessLeaseExpires", f.crashedProcess)
}

type presenceBrowser struct {
	dbURL, base, base2 string
	browser            context.Context
	draft              func(name string) string
}

// personJS is true when the wizard's presence list shows email and cond holds for its item
// (li; its text is li.innerText).
func personJS(email, cond string) string {
	return fmt.Sprintf(`(() => { const li = document.querySelector('[data-testid=presence] [data-testid=presence-person][data-email=%q]');
		return !!li && (%s); })()`, email, cond)
}

// absentJS is true when the presence list does not show email.
func absentJS(email string) string {
	return fmt.Sprintf(`!document.querySelector('[data-testid=presence] [data-testid=presence-person][data-email=%q]')`, email)
}

// fieldHintJS is true when "<text>" stands beside the label (or legend) of the field named
// name: on the label's line, after its words, not over them.
func fieldHintJS(name, text string) string {
	return fmt.Sprintf(`(() => { const h = document.querySelector('[data-testid=field-presence][data-field=%[1]q]');
		if (!h || h.textContent !== %[2]q) return false;
		const f = document.querySelector('[name=%[1]q]');
		const l = document.querySelector('label[for=%[1]q]') || f.closest('fieldset').querySelector('legend');
		const own = [...l.childNodes].filter(n => n.nodeType === 3 && n.textContent.trim());
		const words = document.createRange(); words.setStartBefore(own[0]); words.setEndAfter(own[own.length - 1]);
		const w = words.getBoundingClientRect(), r = h.getBoundingClientRect();
		return r.width > 0 && r.left >= w.right && r.top < w.bottom && r.bottom > w.top; })()`, name, text)
}

// fieldTopJS is where the field named name (its first input) starts, in page pixels.
func fieldTopJS(name string) string {
	return fmt.Sprintf(`document.querySelector('[name=%q]').getBoundingClientRect().top + scrollY`, name)
}

// closeTab closes the page's tab as a user would (the page unloads).
func closeTab(p *page) {
	p.t.Helper()
	if err := chromedp.Cancel(p.ctx); err != nil && !errors.Is(err, context.Canceled) {
		p.t.Logf("close tab: %v", err)
	}
}

// draftState is what presence must never move: the draft's version, its rev and its audit
// entries.
func draftState(t *testing.T, dbURL, id string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v, r, a int64
	if err := conn.QueryRow(ctx, `SELECT version, rev, (SELECT count(*) FROM workspace_audit_log WHERE subject_id = $1)
		FROM managed_tenant_onboarding_sessions WHERE id = $1::uuid`, id).Scan(&v, &r, &a); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("version %d, rev %d, %d audit entries", v, r, a)
}

// stepFieldAndLeave: three people on one draft over two processes see each other's steps
// and fields; the field being typed in is named beside its label; a closed tab leaves.
func (f *presenceBrowser) stepFieldAndLeave(t *testing.T) {
	t.Parallel()
	id := f.draft("Presence Ltd")
	a := newSession(t, f.browser, f.base, "operator@acme.test")
	b := newSession(t, f.browser, f.base2, "operator2@acme.test") // the other process
	c := newSession(t, f.browser, f.base, "viewer@acme.test")
	a.open(wizardPath("acme", id) + "?step=1")
	a.liveState("live", waitFor)
	a.markDocument()
	before := draftState(t, f.dbURL, id)

	opened := time.Now()
	b.open(wizardPath("acme", id) + "?step=2")
	a.jsWithin(waitFor, personJS("operator2@acme.test", `li.dataset.step === '2' && li.innerText.includes('step 2, Connect provider')`))
	t.Logf("operator2 (process 2) appeared in operator's tab (process 1) %v after her page was asked for", time.Since(opened).Round(time.Millisecond))
	c.open(wizardPath("acme", id) + "?step=1")
	a.jsWithin(waitFor, personJS("viewer@acme.test", `li.dataset.step === '1'`))
	b.jsWithin(waitFor, personJS("operator@acme.test", `li.dataset.step === '1'`)+" && "+personJS("viewer@acme.test", "true"))
	// Nobody is shown to themselves; initials stand beside the email.
	a.js(absentJS("operator@acme.test"))
	a.js(personJS("operator2@acme.test", `li.querySelector('.presence-avatar').textContent === 'OP' && li.querySelector('.presence-avatar').getAttribute('aria-hidden') === 'true'`))
	a.js(`document.querySelector('[data-testid=presence-list]').getAttribute('aria-live') === 'polite' && document.querySelector('[data-testid=presence-empty]').hidden`)

	// operator2 goes to step 1 and types a display name: operator sees the field, beside its
	// label too, without any banner.
	b.open(wizardPath("acme", id) + "?step=1")
	a.jsWithin(waitFor, personJS("operator2@acme.test", `li.dataset.step === '1'`))
	top := eval[float64](a, fieldTopJS("display_name"))
	typing := time.Now()
	b.typeInto("#display_name", "Renamed by operator2")
	a.jsWithin(waitFor, personJS("operator2@acme.test", `li.dataset.field === 'display_name' && li.innerText.includes('editing Display name')`))
	a.jsWithin(waitFor, fieldHintJS("display_name", "operator2@acme.test is editing"))
	t.Logf("operator saw operator2 editing Display name %v after she started typing", time.Since(typing).Round(time.Millisecond))
	// The hint moves nothing: the input stays where operator's pointer found it.
	if now := eval[float64](a, fieldTopJS("display_name")); now != top {
		t.Errorf("the hint moved Display name's input from %v px to %v px", top, now)
	}
	a.shot("40-presence-editing", `[data-testid=presence]`)
	listShots(a, "presence-field-hint", "label[for=display_name]")
	// Leaving the field clears it.
	b.js(`(document.activeElement.blur(), true)`)
	a.jsWithin(waitFor, personJS("operator2@acme.test", `li.dataset.field === ''`)+
		` && !document.querySelector('[data-testid=field-presence]')`)

	// Closing the tab: gone within 5 s, for everyone, on both processes.
	closed := time.Now()
	closeTab(b)
	a.jsWithin(waitFor, absentJS("operator2@acme.test"))
	c.jsWithin(waitFor, absentJS("operator2@acme.test"))
	t.Logf("operator2's closed tab left operator's list after %v", time.Since(closed).Round(time.Millisecond))
	closeTab(c)
	a.jsWithin(waitFor, `!document.querySelector('[data-testid=presence-person]') && !document.querySelector('[data-testid=presence-empty]').hidden`)

	if after := draftState(t, f.dbURL, id); after != before {
		t.Errorf("presence wrote to the draft: before %s, after %s", before, after)
	}
	a.noBanner()
	a.stillSameDocument()
}

// draftsList: each row of the drafts list shows who has that draft open.
func (f *presenceBrowser) draftsList(t *testing.T) {
	t.Parallel()
	id := f.draft("Listed Presence")
	l := newSession(t, f.browser, f.base, "owner@acme.test")
	l.open(draftsListPath)
	l.liveState("live", waitFor)
	row := fmt.Sprintf(`document.querySelector('tr[data-live=row][data-draft-id=%q] [data-testid=row-presence]')`, id)
	b := newSession(t, f.browser, f.base2, "operator2@acme.test")
	b.open(wizardPath("acme", id))
	l.jsWithin(waitFor, `(`+row+` || {}).innerText?.includes('operator2@acme.test')`)
	// Under the tenant's name, not in the owner's checkbox cell (a selectable list's first).
	l.js(row + `.closest('td, th').dataset.label === 'Tenant'`)
	closeTab(b)
	l.jsWithin(waitFor, `!`+row)
}

// idle: a tab without input for presenceIdleMs (3 minutes by default; 1.5 s here) is shown
// idle, and active again at the next input.
func (f *presenceBrowser) idle(t *testing.T) {
	t.Parallel()
	id := f.draft("Idle Presence")
	a := newSession(t, f.browser, f.base, "operator@acme.test")
	a.open(wizardPath("acme", id) + "?step=1")
	b := newSession(t, f.browser, f.base2, "operator2@acme.test", sessionOptions{liveOptions: `{presenceIdleMs: 1500}`})
	b.open(wizardPath("acme", id) + "?step=1")
	// (Whether she shows active first depends on how fast the page loads: 1.5 s is short.)
	a.jsWithin(waitFor, personJS("operator2@acme.test", `li.classList.contains('is-idle') && li.innerText.includes('idle')`))
	b.typeInto("#display_name", "Back")
	a.jsWithin(waitFor, personJS("operator2@acme.test", `!li.classList.contains('is-idle') && li.dataset.field === 'display_name'`))
}

// crashedTab: a tab whose renderer dies (no page unload, no close handshake) leaves too.
func (f *presenceBrowser) crashedTab(t *testing.T) {
	t.Parallel()
	id := f.draft("Crashed Tab")
	a := newSession(t, f.browser, f.base, "operator@acme.test")
	a.open(wizardPath("acme", id))
	b := newSession(t, f.browser, f.base2, "viewer@acme.test")
	b.open(wizardPath("acme", id))
	a.jsWithin(waitFor, personJS("viewer@acme.test", "true"))
	crashed := time.Now()
	// Page.crash does not answer (the renderer is gone): do not wait for it.
	go func() { _, _ = chromedp.Call(b.ctx, cdppage.Crash, cdp.Empty{}) }()
	a.jsWithin(60*time.Second, absentJS("viewer@acme.test"))
	t.Logf("the crashed tab left after %v", time.Since(crashed).Round(time.Millisecond))
}

// removedMember: removing someone from the workspace removes their presence (their socket
// is closed when access is re-checked).
func (f *presenceBrowser) removedMember(t *testing.T) {
	t.Parallel()
	id := f.draft("Removed Member")
	email := "removed-" + newUUID()[:8] + "@acme.test"
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, f.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `WITH u AS (INSERT INTO users (email, name, password_hash)
			SELECT $1, 'Removed', password_hash FROM users WHERE email = 'viewer@acme.test' RETURNING id)
		INSERT INTO workspace_memberships (workspace_id, user_id, role)
		SELECT w.id, u.id, 'operator' FROM u, workspaces w WHERE w.slug = 'acme'`, email); err != nil {
		t.Fatal(err)
	}
	a := newSession(t, f.browser, f.base, "operator@acme.test")
	a.open(wizardPath("acme", id))
	r := newSession(t, f.browser, f.base2, email)
	r.open(wizardPath("acme", id))
	a.jsWithin(waitFor, personJS(email, "true"))
	if _, err := conn.Exec(ctx, `DELETE FROM workspace_memberships WHERE user_id = (SELECT id FROM users WHERE email = $1)`, email); err != nil {
		t.Fatal(err)
	}
	removed := time.Now()
	a.jsWithin(waitFor, absentJS(email))
	t.Logf("the removed member left the list after %v", time.Since(removed).Round(time.Millisecond))
}

// otherWorkspace: someone of another workspace sees nobody of this one, and is seen by
// nobody here, though both have wizards open at the same time on the same processes.
func (f *presenceBrowser) otherWorkspace(t *testing.T) {
	t.Parallel()
	id := f.draft("Own Workspace")
	a := newSession(t, f.browser, f.base, "operator@acme.test")
	a.open(wizardPath("acme", id))
	b := newSession(t, f.browser, f.base2, "operator2@acme.test")
	b.open(wizardPath("acme", id))
	a.jsWithin(waitFor, personJS("operator2@acme.test", "true"))

	g := newSession(t, f.browser, f.base2, "owner@globex.test")
	g.open("/admin/workspaces/globex/onboarding")
	g.liveState("live", waitFor)
	// The globex owner cannot even open the acme draft…
	resp, err := chromedp.RunResponse(g.ctx, chromedp.Navigate(f.base2+wizardPath("acme", id)))
	if err != nil || resp.Status != 404 {
		t.Fatalf("globex owner opening an acme draft: %v, status %v; want 404", err, resp)
	}
	// …and a /live socket naming it is refused before any presence is sent or received.
	g.open("/admin/workspaces/globex/onboarding")
	got := eval[string](g, fmt.Sprintf(`new Promise((resolve) => {
		const frames = [];
		const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/live?presence=1&draft=%s');
		ws.onopen = () => ws.send(JSON.stringify({t: 'presence', d: %q, s: 1, f: 'display_name', i: false}));
		ws.onmessage = (e) => frames.push(e.data);
		ws.onclose = (e) => resolve(e.code + ' ' + JSON.stringify(frames));
	})`, id, id))
	if got != "4404 []" {
		t.Errorf("globex owner's socket on an acme draft: %s, want 4404 and no frame", got)
	}
	a.js(absentJS("owner@globex.test"))
	if n := eval[int](a, `document.querySelectorAll('[data-testid=presence-person]').length`); n != 1 {
		t.Errorf("operator sees %d people, want only operator2", n)
	}
}

// crashableStore is a presence store that stops working, as the database connection of a
// crashed process would.
type crashableStore struct {
	postgres.PresenceStore
	down atomic.Bool
}

var errProcessDown = errors.New("process crashed")

func (s *crashableStore) Publish(ctx context.Context, p []string) error {
	if s.down.Load() {
		return errProcessDown
	}
	return s.PresenceStore.Publish(ctx, p)
}

func (s *crashableStore) Renew(ctx context.Context, n string, ttl time.Duration, st []byte) ([]presence.Lease, error) {
	if s.down.Load() {
		return nil, errProcessDown
	}
	return s.PresenceStore.Renew(ctx, n, ttl, st)
}

func (s *crashableStore) Drop(ctx context.Context, n string) error {
	if s.down.Load() {
		return errProcessDown
	}
	return s.PresenceStore.Drop(ctx, n)
}

// crashedProcess: a third process serves a tab, then stops reaching the database (as if it
// had crashed: no goodbye, no lease renewal). The others drop its presence when its lease
// expires (PRESENCE_LEASE_TTL, 1 s here; 60 s by default).
func (f *presenceBrowser) crashedProcess(t *testing.T) {
	t.Parallel()
	id := f.draft("Crashed Process")
	db, err := postgres.Open(context.Background(), f.dbURL, "presence-crash", 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	store := &crashableStore{PresenceStore: db.PresenceStore()}
	p3 := startLiveApp(t, f.dbURL, liveOptions{
		Presence:      presence.Options{LeaseInterval: 300 * time.Millisecond, LeaseTTL: time.Second},
		PresenceStore: store,
	}, nil)
	a := newSession(t, f.browser, f.base, "operator@acme.test")
	a.open(wizardPath("acme", id))
	b := newSession(t, f.browser, p3.base, "operator2@acme.test")
	b.open(wizardPath("acme", id) + "?step=1")
	a.jsWithin(waitFor, personJS("operator2@acme.test", `li.dataset.step === '1'`))
	store.down.Store(true)
	crashed := time.Now()
	a.jsWithin(waitFor, absentJS("operator2@acme.test"))
	t.Logf("the crashed process's presence expired after %v (lease TTL 1s)", time.Since(crashed).Round(time.Millisecond))
}
