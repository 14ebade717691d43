package main

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/postgres/pgtest"
)

// TestBrowserTwoOperators is two operators (and a viewer) on one draft in real Chromium:
// looking at a step is the tab's own, a stale submit names what changed elsewhere and
// re-applies only the fields its operator edited, and a refreshed form URL shows the wizard.
func TestBrowserTwoOperators(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)
	base := startApp(t, map[string]string{"DATABASE_URL": dbURL})
	browser := newBrowser(t)

	t.Run("StepIsPerTab", func(t *testing.T) { twoOperatorsStepIsPerTab(t, browser, base, dbURL) })
	t.Run("StaleSubmitReappliesOnlyEditedFields", func(t *testing.T) { twoOperatorsStaleSubmitReappliesOnlyEditedFields(t, browser, base, dbURL) })
	t.Run("StaleSubmitNamesCollisions", func(t *testing.T) { twoOperatorsStaleSubmitNamesCollisions(t, browser, base, dbURL) })
	t.Run("RefreshAfterFailedSubmit", func(t *testing.T) { twoOperatorsRefreshAfterFailedSubmit(t, browser, base, dbURL) })
	t.Run("CancelDialog", func(t *testing.T) { twoOperatorsCancelDialog(t, browser, base, dbURL) })
	t.Run("RefusedFormFocusAndSecret", func(t *testing.T) { twoOperatorsRefusedFormFocusAndSecret(t, browser, base, dbURL) })
	t.Run("Members", func(t *testing.T) { twoOperatorsMembers(t, browser, base, dbURL) })
	t.Run("OperationsList", func(t *testing.T) { twoOperatorsOperationsList(t, browser, base, dbURL) })
	t.Run("ViewerBrowsesAllSteps", func(t *testing.T) { twoOperatorsViewerBrowsesAllSteps(t, browser, base, dbURL) })
}

// A opens other steps: B's view, version and banner stay as they were, nothing is
// written or audited.
func twoOperatorsStepIsPerTab(t *testing.T, browser context.Context, base, dbURL string) {
	t.Parallel()
	owner := client(t, base, "owner@acme.test")
	id := createDraftAPI(t, owner, base, newUUID(), "Contoso", "contoso.healthy.test")
	a := newSession(t, browser, base, "operator@acme.test")
	b := newSession(t, browser, base, "operator2@acme.test")
	a.open(wizardPath("acme", id))
	a.visible(`[data-testid=panel-connection]`) // no ?step: the current checkpoint's
	b.open(wizardPath("acme", id) + "?step=2")
	b.liveState("live", waitFor)
	b.markDocument()
	b.typeInto("#client_id", newUUID())
	before := eval[string](b, `document.querySelector('#checkpoint').dataset.version`)
	audits := auditCount(t, dbURL, id)

	a.submit(`[data-testid=step-1] a`, 200)
	a.visible(`[data-testid=panel-identify]`)
	a.js(`new URL(location.href).searchParams.get('step') === '1'`)
	a.submit(`[data-testid=step-2] a`, 200)
	a.visible(`[data-testid=panel-connection]`)
	a.submit(`[data-testid=step-1] a`, 200)
	a.liveState("live", waitFor)

	if got := eval[string](b, `document.querySelector('#checkpoint').dataset.version`); got != before {
		t.Errorf("tab B's version moved from %s to %s while A only looked at steps", before, got)
	}
	b.visible(`[data-testid=panel-connection]`)
	b.noBanner()
	b.stillSameDocument()
	if got := auditCount(t, dbURL, id); got != audits {
		t.Errorf("audit rows for the draft went from %d to %d while A only looked at steps", audits, got)
	}
}

// A server-side stale submit (B's socket is blocked, so B's form is stale when sent):
// A renamed the tenant, B typed only a Primary domain. The conflict page names A's
// change (who, old → new), lists only B's field as B's change, and re-applying writes
// only that field: both changes survive.
func twoOperatorsStaleSubmitReappliesOnlyEditedFields(t *testing.T, browser context.Context, base, dbURL string) {
	t.Parallel()
	a, b := staleTabs(t, browser, base)
	b.typeInto("#primary_domain", "contoso.eu.healthy.test")

	a.typeInto("#display_name", "Contoso Holdings")
	a.submit(`[data-testid=save-identify]`, 200)
	a.toast("Tenant details saved")

	b.submit(`[data-testid=save-identify]`, 409)
	b.visible(`[data-testid=conflict-banner]`)
	row := `[data-testid=conflict-banner] [data-testid=changes] tr[data-field=display_name]`
	b.text(row, "operator@acme.test")
	b.text(row, "Contoso Ltd")
	b.text(row, "Contoso Holdings")
	b.js(`document.querySelectorAll('[data-testid=conflict-fields] tbody tr').length === 1`)
	b.text(`[data-testid=conflict-fields]`, "Primary domain")
	b.js(`!document.querySelector('[data-testid=conflict-collisions]')`)
	// The form shows A's name (untouched by B) and B's domain.
	b.js(`document.querySelector('#display_name').value === 'Contoso Holdings'`)
	b.js(`document.querySelector('#primary_domain').value === 'contoso.eu.healthy.test'`)

	// Nothing collides: saving is the primary choice.
	b.js(`document.querySelector('[data-testid=conflict-banner] .btn-primary').dataset.testid === 'conflict-save'`)
	b.submit(`[data-testid=conflict-save]`, 200)
	b.toast("Tenant details saved")
	b.text(`[data-testid=tenant-name]`, "Contoso Holdings")
	b.text(`[data-testid=tenant-domain]`, "contoso.eu.healthy.test")
	a.text(`[data-testid=tenant-name]`, "Contoso Holdings")
	a.text(`[data-testid=tenant-domain]`, "contoso.eu.healthy.test")
}

// Both edited the same field: the conflict page says so first; re-applying then replaces
// A's value deliberately.
func twoOperatorsStaleSubmitNamesCollisions(t *testing.T, browser context.Context, base, dbURL string) {
	t.Parallel()
	a, b := staleTabs(t, browser, base)
	b.typeInto("#display_name", "Contoso B")
	a.typeInto("#display_name", "Contoso A")
	a.submit(`[data-testid=save-identify]`, 200)
	b.submit(`[data-testid=save-identify]`, 409)
	b.text(`[data-testid=conflict-collisions]`, "Display name")
	b.js(`document.querySelector('[data-testid=conflict-fields] tr[data-collides=true]') !== null`)
	b.js(`document.querySelector('[data-testid=changes] tr[data-field=display_name][data-collides=true]') !== null`)
	// The live banner's words for the same choice, and the safe one is the primary button.
	b.js(`document.querySelector('[data-testid=conflict-banner] .btn-primary').innerText.trim() === 'Use their version'`)
	b.text(`[data-testid=conflict-overwrite]`, "Overwrite with mine")
	b.submit(`[data-testid=conflict-use-theirs]`, 200)
	b.js(`document.querySelector('#display_name').value === 'Contoso A' && !document.querySelector('[data-testid=conflict-banner]')`)
}

// After a refused submit the address bar holds the form's action; reopening it (or
// refreshing as a GET) shows the wizard at that step, never a 405.
func twoOperatorsRefreshAfterFailedSubmit(t *testing.T, browser context.Context, base, dbURL string) {
	t.Parallel()
	owner := client(t, base, "owner@acme.test")
	id := createDraftAPI(t, owner, base, newUUID(), "Contoso", "contoso.healthy.test")
	b := newSession(t, browser, base, "operator@acme.test")
	b.open(wizardPath("acme", id) + "?step=1")
	b.typeInto("#display_name", "   ")
	b.js(`(document.querySelector('#display_name').required = false, true)`)
	b.submit(`[data-testid=save-identify]`, 422)
	b.open(wizardPath("acme", id) + "/identify")
	b.visible(`[data-testid=panel-identify]`)
	b.js(`new URL(location.href).pathname.endsWith('` + id + `')`)
}

// Cancelling asks in a dialog with a title, the consequence and explicit buttons, focus on
// the safe one; keeping changes nothing, confirming cancels.
func twoOperatorsCancelDialog(t *testing.T, browser context.Context, base, dbURL string) {
	t.Parallel()
	owner := client(t, base, "owner@acme.test")
	id := createDraftAPI(t, owner, base, newUUID(), "Contoso", "contoso.healthy.test")
	o := newSession(t, browser, base, "owner@acme.test")
	o.open(wizardPath("acme", id))
	o.click(`[data-testid=cancel-onboarding]`)
	o.js(`document.querySelector('dialog.confirm-dialog')?.open === true`)
	o.text(`dialog.confirm-dialog .dialog-title`, "Cancel the onboarding of Contoso?")
	o.text(`dialog.confirm-dialog .dialog-body`, "cannot be undone")
	o.js(`document.activeElement === document.querySelector('dialog.confirm-dialog button[value=cancel]') &&
		document.activeElement.textContent === 'Keep onboarding' &&
		document.querySelector('dialog.confirm-dialog button[value=ok]').textContent === 'Cancel onboarding'`)
	o.click(`dialog.confirm-dialog button[value=cancel]`)
	o.js(`!document.querySelector('dialog[open]')`)
	o.lifecycle("draft", "Draft")
	o.click(`[data-testid=cancel-onboarding]`)
	o.js(`document.querySelector('dialog.confirm-dialog')?.open === true`)
	o.submit(`dialog.confirm-dialog button[value=ok]`, 200)
	o.lifecycle("cancelled", "Cancelled")
	o.js(`document.querySelector('[data-testid=step-3]').dataset.state === 'not_reached'`)
}

// A refused connection form focuses the first invalid field and says why the secret
// field is empty.
func twoOperatorsRefusedFormFocusAndSecret(t *testing.T, browser context.Context, base, dbURL string) {
	t.Parallel()
	owner := client(t, base, "owner@acme.test")
	id := createDraftAPI(t, owner, base, newUUID(), "Contoso", "contoso.healthy.test")
	o := newSession(t, browser, base, "operator@acme.test")
	o.open(wizardPath("acme", id) + "?step=2")
	o.typeInto("#client_id", "not-a-guid")
	o.typeInto("#client_secret", "typed-secret")
	o.submit(`[data-testid=save-connection]`, 422)
	o.js(`document.activeElement === document.querySelector('#client_id')`)
	o.visible(`[data-testid=secret-cleared]`)
	o.js(`document.querySelector('#client_secret').value === ''`)
}

// Owners manage members from the console: add an existing user, change a role, remove
// someone (asked first); the removed member's open wizard stops updating within seconds.
// Not parallel: it runs before the parallel subtests start, and puts operator2 back.
func twoOperatorsMembers(t *testing.T, browser context.Context, base, dbURL string) {
	owner := client(t, base, "owner@acme.test")
	id := createDraftAPI(t, owner, base, newUUID(), "Contoso", "contoso.healthy.test")
	// operator2 has the draft open, live.
	op2 := newSession(t, browser, base, "operator2@acme.test")
	op2.open(wizardPath("acme", id))
	op2.liveState("live", waitFor)
	// An operator does not see the page.
	if code, _, _ := get(t, client(t, base, "operator@acme.test"), base+"/admin/workspaces/acme/members", "text/html"); code != 403 {
		t.Errorf("members page as operator = %d, want 403", code)
	}

	o := newSession(t, browser, base, "owner@acme.test")
	o.open("/admin/workspaces/acme/onboarding")
	o.submit(`.side-nav a[href="/admin/workspaces/acme/members"]`, 200)
	o.visible(`[data-testid=members-table]`)
	o.typeInto("#email", "nobody@acme.test")
	o.submit(`[data-testid=add-member]`, 422)
	o.js(`document.activeElement === document.querySelector('#email')`)
	o.typeInto("#email", "owner@globex.test")
	o.submit(`[data-testid=add-member]`, 200)
	o.toast("owner@globex.test added as operator")
	o.js(`document.querySelector('[data-testid=member-row][data-email="owner@globex.test"]').dataset.role === 'operator'`)

	row := `[data-testid=member-row][data-email="operator2@acme.test"]`
	o.click(row + ` [data-testid=member-remove]`)
	o.text(`dialog.confirm-dialog .dialog-title`, "Remove operator2@acme.test from")
	o.submit(`dialog.confirm-dialog button[value=ok]`, 200)
	o.toast("Member removed")
	o.js(`!document.querySelector('` + row + `')`)
	start := time.Now()
	op2.jsWithin(5*time.Second, `window.liveConsole.state() === 'offline'`)
	t.Logf("removed member's socket closed %v after the removal", time.Since(start).Round(time.Millisecond))
	if !eval[bool](op2, `fetch(location.pathname).then(r => r.status === 404)`) {
		t.Error("the removed member can still load the wizard")
	}

	// Back as an operator, for the other subtests.
	o.typeInto("#email", "operator2@acme.test")
	o.submit(`[data-testid=add-member]`, 200)
	o.js(`document.querySelector('` + row + `').dataset.role === 'operator'`)
}

// The operations list: a duration per run, relative times with the absolute one on
// hover, filters that apply as soon as they change.
func twoOperatorsOperationsList(t *testing.T, browser context.Context, base, dbURL string) {
	t.Parallel()
	owner := client(t, base, "owner@acme.test")
	id := createDraftAPI(t, owner, base, newUUID(), "Contoso", "contoso.healthy.test")
	o := newSession(t, browser, base, "owner@acme.test")
	o.open(wizardPath("acme", id))
	o.attachConnection()
	o.submit(`[data-testid=start-verification]`, 200)
	o.lifecycle("ready_for_activation", "Ready for activation")
	o.open("/admin/workspaces/acme/operations")
	o.js(`[...document.querySelectorAll('[data-testid=run-duration]')].some(e => / s$/.test(e.textContent))`)
	o.js(`(() => { const t = document.querySelector('[data-testid=run-row] time[data-format=relative]');
		return !!t && t.title.length > 0 && /ago|now/.test(t.textContent); })()`)
	o.js(`getComputedStyle(document.querySelector('.autosubmit-fallback')).display === 'none'`)
	// Choosing a type (the first after "Any type") loads the filtered list at once.
	resp, err := chromedp.RunResponse(o.ctx, chromedp.SendKeys(chromedp.CSS("#f-type"), kb.ArrowDown))
	if err != nil || resp.Status != 200 {
		t.Fatalf("changing the type filter: %v (response %v)", err, resp)
	}
	o.js(`new URL(location.href).searchParams.get('type') === 'verify_access'`)
	o.visible(`[data-testid=runs-table]`)
}

// Every role may look at every reachable step; a viewer sees them read-only.
func twoOperatorsViewerBrowsesAllSteps(t *testing.T, browser context.Context, base, dbURL string) {
	t.Parallel()
	owner := client(t, base, "owner@acme.test")
	id := createDraftAPI(t, owner, base, newUUID(), "Contoso", "contoso.healthy.test")
	o := newSession(t, browser, base, "owner@acme.test")
	o.open(wizardPath("acme", id))
	o.attachConnection()
	o.submit(`[data-testid=start-verification]`, 200)
	o.lifecycle("ready_for_activation", "Ready for activation")

	v := newSession(t, browser, base, "viewer@acme.test")
	v.open(wizardPath("acme", id) + "?step=1")
	v.visible(`[data-testid=panel-identify]`)
	panels := []string{"panel-identify", "panel-connection", "panel-verify", "panel-bootstrap", "panel-activate"}
	for i, panel := range panels[1:] {
		step := strconv.Itoa(i + 2)
		v.submit(`[data-testid=step-`+step+`] a`, 200)
		v.visible(`[data-testid=` + panel + `]`)
		v.js(`document.querySelector('[data-testid=step-` + step + `]').getAttribute('aria-current') === 'step'`)
		v.js(`document.querySelectorAll('#checkpoint form').length === 0`)
	}
}

// staleTabs opens a new draft "Contoso Ltd" at the identify step in tab A (operator) and tab B
// (operator2, whose /live and polls are blocked, so B's form stays at the version it loaded).
func staleTabs(t *testing.T, browser context.Context, base string) (a, b *page) {
	t.Helper()
	owner := client(t, base, "owner@acme.test")
	id := createDraftAPI(t, owner, base, newUUID(), "Contoso Ltd", "contoso.healthy.test")
	wizard := wizardPath("acme", id) + "?step=1"
	a = newSession(t, browser, base, "operator@acme.test")
	b = newSession(t, browser, base, "operator2@acme.test", sessionOptions{blockPoll: true})
	a.open(wizard)
	b.open(wizard)
	return a, b
}

// auditCount counts the audit rows about draft id.
func auditCount(t *testing.T, dbURL, id string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM workspace_audit_log WHERE subject_id = $1`, id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
