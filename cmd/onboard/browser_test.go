package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tenantops/onboard/internal/operation"
	"github.com/tenantops/onboard/internal/postgres"
	"github.com/tenantops/onboard/internal/postgres/pgtest"
	"github.com/tenantops/onboard/internal/provider"
)

// These tests drive the real app (run "serve" on a fresh database with the demo data) from
// headless Chromium. A missing browser is a failure, never a skip: CI installs chromium.

const chromiumPath = "/usr/bin/chromium"

// testSecretKey is startApp's SECRET_KEY, decoded, so the test's run driver can open the
// connections' sealed secrets as a worker does.
const testSecretKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// screenshotDir collects one PNG per step (artifacts/ is ignored by git).
var screenshotDir = filepath.Join("..", "..", "artifacts", "screenshots")

func TestBrowser(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)
	base := startApp(t, map[string]string{"DATABASE_URL": dbURL})
	runs := newRunDriver(t, dbURL)
	browser := newBrowser(t)

	t.Run("HealthyOnboarding", func(t *testing.T) {
		tab := newSession(t, browser, base, "owner@acme.test")
		b := &page{t: t, ctx: tab, base: base}

		b.open("/admin/workspaces/acme/onboarding")
		b.visible(`[data-testid=start-form]`)
		b.typeInto("#tenant_id", "3f2504e0-4f89-41d3-9a0c-0305e82c3301")
		b.typeInto("#display_name", "Northwind")
		b.typeInto("#primary_domain", "northwind.healthy.test")
		b.submit(`[data-testid=start-submit]`, 200)
		b.toast("Onboarding started")
		b.lifecycle("draft", "Draft")
		b.visible(`[data-testid=panel-connection]`)
		b.shot("01-started")

		// Step 1: back to identify, rename, save and continue.
		b.submit(`[data-testid=step-1] button`, 200)
		b.visible(`[data-testid=panel-identify]`)
		b.typeInto("#display_name", "Northwind Traders")
		b.shot("02-identify")
		b.submit(`[data-testid=save-identify]`, 200)
		b.toast("Tenant details saved")
		b.text(`[data-testid=tenant-name]`, "Northwind Traders")
		b.reason("provider_connection_missing")

		// Step 2: attach the connection.
		b.visible(`[data-testid=panel-connection]`)
		b.typeInto("#client_id", "6ba7b810-9dad-41d1-80b4-00c04fd430c8")
		b.typeInto("#client_secret", "not-a-real-secret-value")
		b.shot("03-connection")
		b.submit(`[data-testid=save-connection]`, 200)
		b.visible(`[data-testid=panel-verify]`)
		b.lifecycle("draft", "Draft")
		b.reason("verification_not_started")
		if strings.Contains(b.html(), "not-a-real-secret-value") {
			t.Fatal("the client secret came back in the page")
		}

		// Step 3: verify access; the run completes, the wizard shows it.
		b.submit(`[data-testid=start-verification]`, 200)
		b.toast("Verification queued — you can leave this page; you will be notified")
		b.lifecycle("verifying", "Verifying")
		b.shot("04-verifying", `[data-testid=wizard-summary]`)
		runs.completeQueued(t, b.draftID())
		b.reload()
		b.lifecycle("ready_for_activation", "Ready for activation")
		b.reason("bootstrap_skipped")
		b.js(`document.querySelector('[data-testid=verification-run] [data-testid=run-status]').dataset.outcome === 'succeeded'`)
		b.shot("05-verified")

		// Step 4: bootstrap two operations.
		b.submit(`[data-testid=continue]`, 200)
		b.visible(`[data-testid=panel-bootstrap]`)
		b.click("#op-inventory_sync")
		b.click("#op-policy_sync")
		b.submit(`[data-testid=start-bootstrap]`, 200)
		b.toast("Bootstrap queued — you can leave this page; you will be notified")
		b.lifecycle("bootstrapping", "Bootstrapping")
		b.shot("06-bootstrapping")
		runs.completeQueued(t, b.draftID())
		b.reload()
		b.lifecycle("ready_for_activation", "Ready for activation")
		b.reason("ready_for_activation")
		b.js(`[...document.querySelectorAll('[data-testid=bootstrap-ops] [data-testid=run-status]')].filter(e => e.dataset.outcome === 'succeeded').length === 2`)

		// Step 5: activate.
		b.submit(`[data-testid=continue]`, 200)
		b.visible(`[data-testid=panel-activate] [data-testid=readiness-ready]`)
		b.shot("07-ready")
		b.submit(`[data-testid=activate]`, 200)
		b.toast("Tenant activated")
		b.lifecycle("completed", "Completed")
		b.visible(`[data-testid=panel-summary]`)
		b.text(`[data-testid=completed-at]`, "owner@acme.test")
		b.shot("08-completed", `[data-testid=wizard-summary]`)

		// The three runs the owner started left notifications; the monitoring pages list them.
		b.text(`[data-testid=unread-count]`, "3")
		b.open("/admin/notifications")
		b.js(`document.querySelectorAll('[data-testid=notification][data-unread=true]').length === 3`)
		b.shot("09-notifications")
		b.submit(`[data-testid=mark-all-read]`, 200)
		b.js(`document.querySelectorAll('[data-testid=notification][data-unread=true]').length === 0 && !document.querySelector('[data-testid=unread-count]')`)
		b.open("/admin/workspaces/acme/operations?status=completed&outcome=succeeded")
		b.js(`document.querySelectorAll('[data-testid=run-row]').length === 3`)
		b.submit(`[data-testid=run-row] a`, 200)
		b.visible(`[data-testid=run-panel]`)
	})

	t.Run("MissingPermissionsOverride", func(t *testing.T) {
		tab := newSession(t, browser, base, "owner@acme.test")
		b := &page{t: t, ctx: tab, base: base}
		id := b.startDraft("7c9e6679-7425-40de-944b-e07fc1f90ae7", "Fabrikam", "fabrikam.missing-perms.test")
		b.typeInto("#client_id", "9a1c0b3e-2f4d-4e8a-b1c6-5d7e8f9a0b1c")
		b.typeInto("#client_secret", "another-fake-secret")
		b.submit(`[data-testid=save-connection]`, 200)
		b.submit(`[data-testid=start-verification]`, 200)
		b.lifecycle("verifying", "Verifying")
		runs.completeQueued(t, id)
		b.reload()

		b.lifecycle("action_required", "Action required")
		b.reason("verification_failed")
		b.visible(`[data-testid=assist-panel]`)
		b.js(`(() => { const ls = [...document.querySelectorAll('[data-testid=assist-panel] [data-testid=remediation-link]')];
			return ls.length > 0 && ls.every(a => a.target === '_blank' && a.href.startsWith('https://')); })()`)
		b.js(`document.querySelector('[data-testid=full-report-link]').target === '_blank' &&
			new URL(document.querySelector('[data-testid=full-report-link]').href).pathname.startsWith('/admin/workspaces/acme/operations/')`)
		// Activation is blocked: step 5 is locked, the blocker is named, and a plain
		// activation sent anyway is refused with the reason in words.
		b.js(`document.querySelector('[data-testid=blocking-reason]').dataset.code === 'missing_permissions'`)
		b.js(`document.querySelector('[data-testid=step-5]').dataset.state === 'locked'`)
		status, body := b.post("/activation", map[string]string{})
		if status != 409 || !strings.Contains(body, "Not done: The app registration lacks required Microsoft Graph permissions.") {
			t.Fatalf("plain activation: status %d, want 409 with the reason in words", status)
		}
		b.shot("10-verification-failed", `[data-testid=assist-panel]`)

		reason := "Customer confirmed Directory.Read.All is granted tomorrow; ticket 4711."
		b.typeInto("#override_reason", reason)
		b.submit(`[data-testid=override-submit]`, 200)
		b.toast("Tenant activated with an override")
		b.lifecycle("completed", "Completed")
		b.reason("activated_with_override")
		b.text(`[data-testid=override-reason]`, reason)
		b.text(`[data-testid=override-summary]`, "owner@acme.test")
		b.shot("11-override-completed")
	})

	// A draft for the remaining cases, created through the API.
	owner := client(t, base, "owner@acme.test")
	draftID := createDraftAPI(t, owner, base, "b5f2c6a4-1d3e-4f50-8a9b-0c1d2e3f4a5b", "Contoso", "contoso.healthy.test")
	wizard := "/admin/workspaces/acme/onboarding/" + draftID

	t.Run("ViewerReadOnly", func(t *testing.T) {
		tab := newSession(t, browser, base, "viewer@acme.test")
		b := &page{t: t, ctx: tab, base: base}
		b.open(wizard)
		b.lifecycle("draft", "Draft")
		b.js(`document.querySelectorAll('#checkpoint form, #checkpoint button').length === 0`)
		b.visible(`[data-testid=no-connection]`)
		b.shot("12-viewer")
		for _, action := range []string{"/identify", "/connection", "/verification", "/step", "/cancel", "/activation"} {
			status, _ := b.post(action, map[string]string{"display_name": "Forged", "primary_domain": "forged.test",
				"client_id": "6ba7b810-9dad-41d1-80b4-00c04fd430c8", "client_secret": "x", "step": "1", "confirm": "yes"})
			if status != 403 {
				t.Errorf("forged POST %s from the viewer: status %d, want 403", action, status)
			}
		}
		b.reload()
		b.text(`[data-testid=tenant-name]`, "Contoso")
	})

	t.Run("StaleSubmit", func(t *testing.T) {
		tabA := &page{t: t, ctx: newSession(t, browser, base, "operator@acme.test"), base: base}
		tabB := &page{t: t, ctx: newSession(t, browser, base, "owner@acme.test"), base: base}
		tabA.open(wizard)
		tabA.submit(`[data-testid=step-1] button`, 200)
		tabA.visible(`[data-testid=panel-identify]`)
		tabB.open(wizard) // B loads the identify step at the version A just made
		tabB.visible(`[data-testid=panel-identify]`)

		tabA.typeInto("#display_name", "Contoso (operator)")
		tabA.submit(`[data-testid=save-identify]`, 200)
		tabA.toast("Tenant details saved")

		tabB.typeInto("#display_name", "Contoso (owner)")
		tabB.submit(`[data-testid=save-identify]`, 409)
		tabB.visible(`[data-testid=conflict-banner]`)
		tabB.text(`[data-testid=conflict-banner]`, "operator@acme.test changed this onboarding at")
		tabB.js(`!!document.querySelector('[data-testid=conflict-banner] time[datetime]')`)
		tabB.text(`[data-testid=conflict-fields]`, "Contoso (operator)")
		tabB.text(`[data-testid=conflict-fields]`, "Contoso (owner)")
		tabB.js(`document.querySelector('#display_name').value === 'Contoso (owner)'`)
		tabB.shot("13-conflict", `[data-testid=conflict-banner]`)

		tabB.submit(`[data-testid=conflict-reapply]`, 200)
		tabB.toast("Tenant details saved")
		tabB.text(`[data-testid=tenant-name]`, "Contoso (owner)")
		tabB.js(`!document.querySelector('[data-testid=conflict-banner]')`)
		tabA.reload()
		tabA.text(`[data-testid=tenant-name]`, "Contoso (owner)")
	})
}

// newBrowser starts one headless Chromium for the test.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("browser tests need %s (apt-get install -y chromium): %v", chromiumPath, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.WindowSize(1280, 800),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return browser
}

// newSession opens a tab in a browser context of its own (its own cookies) and signs in
// through the login form.
func newSession(t *testing.T, browser context.Context, base, email string) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(tab, 2*time.Minute)
	t.Cleanup(cancelTimeout)
	p := &page{t: t, ctx: ctx, base: base}
	p.open("/admin/login")
	p.typeInto("#email", email)
	p.typeInto("#password", "demo-password-1")
	p.submit(`[data-testid=login-submit]`, 200)
	p.text(`[data-testid=user-email]`, email)
	return ctx
}

// page is one tab driven by a test.
type page struct {
	t    *testing.T
	ctx  context.Context
	base string
}

func (p *page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		p.fail("%s: %v", what, err)
	}
}

// fail reports err with where the tab is and what it shows.
func (p *page) fail(format string, args ...any) {
	p.t.Helper()
	loc, _ := chromedp.Run(p.ctx, chromedp.Location())
	txt, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 3000) : ''`))
	p.t.Fatalf(format+"\nat %s\n%s", append(args, loc, txt)...)
}

func (p *page) open(path string) {
	p.t.Helper()
	resp, err := chromedp.RunResponse(p.ctx, chromedp.Navigate(p.base+path))
	if err != nil {
		p.fail("open %s: %v", path, err)
	}
	if resp.Status != 200 {
		p.fail("open %s: status %d", path, resp.Status)
	}
}

func (p *page) reload() {
	p.t.Helper()
	if _, err := chromedp.RunResponse(p.ctx, chromedp.Reload()); err != nil {
		p.fail("reload: %v", err)
	}
}

// submit clicks a button that sends a form and waits for the page it leads to (after the
// 303, if any), checking its status.
func (p *page) submit(sel string, status int64) {
	p.t.Helper()
	resp, err := chromedp.RunResponse(p.ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		p.fail("submit %s: %v", sel, err)
	}
	if resp.Status != status {
		p.fail("submit %s: status %d, want %d", sel, resp.Status, status)
	}
}

func (p *page) click(sel string) {
	p.t.Helper()
	p.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

func (p *page) typeInto(sel, value string) {
	p.t.Helper()
	clear := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[any](fmt.Sprintf(`document.querySelector(%q).value = ''`, sel))(ctx, t)
		return err
	})
	p.do("type into "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), clear, chromedp.SendKeys(chromedp.CSS(sel), value))
}

func (p *page) visible(sel string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		p.fail("wait for %s: %v", sel, err)
	}
}

// js waits until a JavaScript expression is true.
func (p *page) js(expr string) {
	p.t.Helper()
	if _, err := chromedp.Run(p.ctx, chromedp.Poll[any](expr, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		p.fail("wait for %s: %v", expr, err)
	}
}

// text waits until the element's text contains want.
func (p *page) text(sel, want string) {
	p.t.Helper()
	p.js(fmt.Sprintf(`(document.querySelector(%q) || {}).innerText?.includes(%q)`, sel, want))
}

func (p *page) toast(want string) {
	p.t.Helper()
	p.js(fmt.Sprintf(`[...document.querySelectorAll('[data-toast]')].some(e => e.innerText.includes(%q))`, want))
}

// lifecycle checks the draft's state on the fragment's root and in the badge words.
func (p *page) lifecycle(state, words string) {
	p.t.Helper()
	p.js(fmt.Sprintf(`document.querySelector('#checkpoint').dataset.lifecycle === %q &&
		document.querySelector('[data-testid=lifecycle-badge]').innerText.trim() === %q &&
		document.querySelector('[data-testid=status-lifecycle]').innerText.trim() === %q`, state, words, words))
}

func (p *page) reason(code string) {
	p.t.Helper()
	p.js(fmt.Sprintf(`document.querySelector('[data-testid=reason]').dataset.code === %q`, code))
}

func (p *page) draftID() string {
	p.t.Helper()
	id, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.querySelector('#checkpoint').dataset.draftId`))
	if err != nil || id == "" {
		p.fail("draft id: %v", err)
	}
	return id
}

func (p *page) html() string {
	p.t.Helper()
	h, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if err != nil {
		p.fail("read page: %v", err)
	}
	return h
}

// post sends a form to the wizard's action from the page (same origin, the tab's session)
// with the version shown, as a forged or stale request would, and returns status and body.
func (p *page) post(action string, fields map[string]string) (int, string) {
	p.t.Helper()
	type result struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	var args strings.Builder
	for k, v := range fields {
		fmt.Fprintf(&args, "f.append(%q, %q);", k, v)
	}
	res, err := chromedp.Run(p.ctx, chromedp.Evaluate[result](fmt.Sprintf(`(async () => {
		const cp = document.querySelector('#checkpoint');
		const f = new URLSearchParams(); f.append('version', cp.dataset.version); %s
		const r = await fetch(location.pathname + %q, {method: 'POST', body: f, redirect: 'manual'});
		return {status: r.status, body: await r.text()};
	})()`, args.String(), action), chromedp.EvalAwaitPromise))
	if err != nil {
		p.fail("post %s: %v", action, err)
	}
	return res.Status, res.Body
}

// shot saves a 1280×800 screenshot of the viewport, scrolled to the element of the first
// selector given, if any.
func (p *page) shot(name string, scrollTo ...string) {
	p.t.Helper()
	if len(scrollTo) > 0 {
		p.do("scroll to "+scrollTo[0], chromedp.ScrollIntoView(chromedp.CSS(scrollTo[0])))
	}
	png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.fail("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	path := filepath.Join(screenshotDir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	abs, _ := filepath.Abs(path)
	p.t.Logf("screenshot: %s", abs)
}

// startDraft starts onboarding from the drafts page and returns the new draft's id; the
// wizard opens at the connection step.
func (p *page) startDraft(tenantID, name, domain string) string {
	p.t.Helper()
	p.open("/admin/workspaces/acme/onboarding")
	p.typeInto("#tenant_id", tenantID)
	p.typeInto("#display_name", name)
	p.typeInto("#primary_domain", domain)
	p.submit(`[data-testid=start-submit]`, 200)
	p.visible(`[data-testid=panel-connection]`)
	return p.draftID()
}

// runDriver completes queued runs the way a worker does: BeginRun, the simulated provider,
// CompleteRun. It stands in for the River workers, which this branch does not wire yet.
type runDriver struct {
	store *postgres.Store
	sim   *provider.Simulated
}

func newRunDriver(t *testing.T, dbURL string) *runDriver {
	t.Helper()
	db, err := postgres.Open(context.Background(), dbURL, "browser-test-runs", 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	key, err := base64.StdEncoding.DecodeString(testSecretKey)
	if err != nil {
		t.Fatal(err)
	}
	store, err := postgres.NewStore(db, postgres.StoreConfig{SecretKey: key})
	if err != nil {
		t.Fatal(err)
	}
	return &runDriver{store: store, sim: provider.NewSimulated(provider.Options{})}
}

// completeQueued runs every queued run of the draft to its end.
func (d *runDriver) completeQueued(t *testing.T, draftID string) {
	t.Helper()
	ctx := context.Background()
	runs, err := d.store.DraftRuns(ctx, draftID, 20)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range runs {
		if r.Status != operation.StatusQueued {
			continue
		}
		run, conn, err := d.store.BeginRun(ctx, r.ID, 1)
		if err != nil {
			t.Fatalf("begin run %s: %v", r.ID, err)
		}
		var c operation.Completion
		if run.Type == operation.TypeVerifyAccess {
			rep, err := d.sim.VerifyAccess(ctx, conn, nil)
			if err != nil {
				t.Fatal(err)
			}
			c = operation.Completion{Outcome: operation.OutcomeSucceeded, ReasonCode: rep.ReasonCode,
				Counts: operation.Counts(rep.Counts()), Result: map[string]any{"checks": rep.Checks}}
			if !rep.Passed() {
				c.Outcome = operation.OutcomeFailed
			}
		} else {
			res, err := d.sim.Bootstrap(ctx, conn, run.Type.Operation(), nil)
			if err != nil {
				t.Fatal(err)
			}
			counts := operation.Counts(res.Counts)
			c = operation.Completion{Outcome: operation.OutcomeFor(counts, false), Counts: counts, Result: map[string]any{"items": res.Items}}
		}
		if err := d.store.CompleteRun(ctx, run.ID, c); err != nil {
			t.Fatalf("complete run %s: %v", run.ID, err)
		}
		n++
	}
	if n == 0 {
		t.Fatalf("draft %s has no queued run to complete", draftID)
	}
}

// createDraftAPI starts a draft through the JSON API and returns its id.
func createDraftAPI(t *testing.T, c *http.Client, base, tenantID, name, domain string) string {
	t.Helper()
	body := fmt.Sprintf(`{"tenant_id":%q,"display_name":%q,"primary_domain":%q}`, tenantID, name, domain)
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/workspaces/acme/onboarding/drafts", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create draft: status %d, %v", resp.StatusCode, err)
	}
	return d.ID
}
