package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tenantops/onboard/internal/postgres/pgtest"
)

// TestBrowser drives the wizard of the real app (run "serve" on a fresh database with the demo
// data, River workers executing the runs in process) from headless Chromium. Outcomes reach
// the page the way they reach an operator: the checkpoint fragment pushed over /live.
// The subtests run in parallel on their own drafts (and, where notification counts matter, in
// their own workspace), each user in a browser context of its own.
func TestBrowser(t *testing.T) {
	t.Parallel()
	base := startApp(t, map[string]string{"DATABASE_URL": pgtest.NewURL(t)})
	browser := newBrowser(t)

	t.Run("HealthyOnboarding", func(t *testing.T) { browserHealthyOnboarding(t, browser, base) })
	t.Run("MissingPermissionsOverride", func(t *testing.T) { browserMissingPermissionsOverride(t, browser, base) })
	t.Run("ViewerReadOnly", func(t *testing.T) { browserViewerReadOnly(t, browser, base) })
	t.Run("StaleSubmit", func(t *testing.T) { browserStaleSubmit(t, browser, base) })
}

func browserHealthyOnboarding(t *testing.T, browser context.Context, base string) {
	t.Parallel()
	start := time.Now()
	// The one test that signs in as a person does, through the form (the others are given
	// an API session's cookie).
	b := newSession(t, browser, base, "owner@acme.test", sessionOptions{signInForm: true})

	b.open("/admin/workspaces/acme/onboarding")
	b.submit(`[data-testid=new-onboarding]`, 200)
	b.visible(`[data-testid=start-form]`)
	b.typeInto("#tenant_id", "3f2504e0-4f89-41d3-9a0c-0305e82c3301")
	b.typeInto("#display_name", "Northwind")
	b.typeInto("#primary_domain", "northwind.healthy.test")
	b.submit(`[data-testid=start-submit]`, 200)
	b.toast("Onboarding of Northwind started")
	// Focus starts on the new page's heading, not on <body>.
	b.js(`document.activeElement === document.querySelector('.page-title')`)
	b.lifecycle("draft", "Draft")
	b.visible(`[data-testid=panel-connection]`)
	b.shot("01-started")

	// Step 1: back to identify, rename, save and continue.
	b.submit(`[data-testid=step-1] a`, 200)
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

	// Step 3: verify access. A worker runs it at once (healthy tenants take no time);
	// the page may already show the outcome when it loads, or receive it over /live.
	b.submit(`[data-testid=start-verification]`, 200)
	b.lifecycle("ready_for_activation", "Ready for activation")
	// The result is on screen: no "queued" toast stays beside it.
	b.js(`!document.querySelector('[data-toast-kind=queued]')`)
	b.reason("bootstrap_skipped")
	b.js(`document.querySelector('[data-testid=verification-run] [data-testid=run-status]').dataset.outcome === 'succeeded'`)
	b.shot("04-verified", `[data-testid=verification-run]`)

	// Step 4: bootstrap two operations.
	b.submit(`[data-testid=continue]`, 200)
	b.visible(`[data-testid=panel-bootstrap]`)
	// Nobody chose to skip bootstrap: the step is open, not "skipped", and the page does
	// not call it an earlier step.
	b.js(`document.querySelector('[data-testid=step-4]').dataset.state === 'open'`)
	b.js(`!document.querySelector('[data-testid=review-notice]')`)
	b.click("#op-inventory_sync")
	b.click("#op-policy_sync")
	b.shot("05-bootstrap")
	b.submit(`[data-testid=start-bootstrap]`, 200)
	b.lifecycle("ready_for_activation", "Ready for activation")
	b.reason("ready_for_activation")
	b.js(`[...document.querySelectorAll('[data-testid=bootstrap-ops] [data-testid=run-status]')].filter(e => e.dataset.outcome === 'succeeded').length === 2`)
	b.shot("06-bootstrapped", `[data-testid=bootstrap-ops]`)

	// Step 5: activate.
	b.submit(`[data-testid=continue]`, 200)
	b.visible(`[data-testid=panel-activate] [data-testid=readiness-ready]`)
	b.shot("07-ready")
	b.confirmSubmit(`[data-testid=activate]`, 200)
	b.toast("Tenant activated")
	b.lifecycle("completed", "Completed")
	b.visible(`[data-testid=panel-summary]`)
	b.text(`[data-testid=completed-at]`, "owner@acme.test")
	b.shot("08-completed", `[data-testid=wizard-summary]`)
	b.noBanner()

	// The runs the owner started left notifications, one for the whole bootstrap; the monitoring pages list them.
	b.text(`[data-testid=unread-count]`, "2")
	b.open("/admin/notifications")
	b.js(`document.querySelectorAll('[data-testid=notification][data-unread=true]').length === 2`)
	b.shot("09-notifications")
	b.submit(`[data-testid=mark-all-read]`, 200)
	b.js(`document.querySelectorAll('[data-testid=notification][data-unread=true]').length === 0 && !document.querySelector('[data-testid=unread-count]')`)
	b.open("/admin/workspaces/acme/operations?status=completed&outcome=succeeded")
	b.js(`document.querySelectorAll('[data-testid=run-row]').length === 3`)
	b.submit(`[data-testid=run-row] a`, 200)
	b.visible(`[data-testid=run-panel]`)
	t.Logf("healthy onboarding through five steps: %v", time.Since(start).Round(time.Millisecond))
}

// In its own workspace (globex), so that the owner@acme.test's notification count above
// does not depend on this run.
func browserMissingPermissionsOverride(t *testing.T, browser context.Context, base string) {
	t.Parallel()
	start := time.Now()
	b := newSession(t, browser, base, "owner@globex.test")
	b.startDraft("globex", "7c9e6679-7425-40de-944b-e07fc1f90ae7", "Fabrikam", "fabrikam.missing-perms.test")
	b.typeInto("#client_id", "9a1c0b3e-2f4d-4e8a-b1c6-5d7e8f9a0b1c")
	b.typeInto("#client_secret", "another-fake-secret")
	b.submit(`[data-testid=save-connection]`, 200)
	b.submit(`[data-testid=start-verification]`, 200)

	// The worker's outcome arrives over /live (or is already there when the page loads).
	b.lifecycle("action_required", "Action required")
	b.reason("verification_failed")
	b.visible(`[data-testid=assist-panel]`)
	b.js(`(() => { const ls = [...document.querySelectorAll('[data-testid=assist-panel] [data-testid=remediation-link]')];
		return ls.length > 0 && ls.every(a => a.target === '_blank' && a.href.startsWith('https://')); })()`)
	b.js(`document.querySelector('[data-testid=full-report-link]').target === '_blank' &&
		new URL(document.querySelector('[data-testid=full-report-link]').href).pathname.startsWith('/admin/workspaces/globex/operations/')`)
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
	// The dialog asks for the reason itself: a title, the blocker counted and named, the
	// reason field focused; blank is refused inside the dialog.
	b.click(`[data-testid=override-submit]`)
	b.js(`document.querySelector('dialog.confirm-dialog')?.open === true`)
	b.text(`dialog.confirm-dialog .dialog-title`, "Activate Fabrikam with an override?")
	b.text(`dialog.confirm-dialog .dialog-body`, "1 open blocker is accepted: The app registration lacks required Microsoft Graph permissions")
	b.js(`document.activeElement === document.querySelector('dialog.confirm-dialog textarea')`)
	b.typeInto(`dialog.confirm-dialog textarea`, "   ")
	b.click(`dialog.confirm-dialog button[value=ok]`)
	b.text(`dialog.confirm-dialog .field-error`, "must not be blank")
	b.js(`document.querySelector('dialog.confirm-dialog')?.open === true`)
	b.typeInto(`dialog.confirm-dialog textarea`, reason)
	b.submit(`dialog.confirm-dialog button[value=ok]`, 200)
	b.toast("Tenant activated with an override")
	b.lifecycle("completed", "Completed")
	b.reason("activated_with_override")
	b.text(`[data-testid=override-reason]`, reason)
	b.text(`[data-testid=override-summary]`, "owner@globex.test")
	// Who, then the reason right below it (no tall empty line in between).
	b.js(`(() => { const s = document.querySelector('[data-testid=override-summary]');
		return s.getBoundingClientRect().height < 200; })()`)
	b.shot("11-override-completed")
	b.noBanner()
	t.Logf("missing permissions → assist → override: %v", time.Since(start).Round(time.Millisecond))
}

func browserViewerReadOnly(t *testing.T, browser context.Context, base string) {
	t.Parallel()
	owner := client(t, base, "owner@acme.test")
	draftID := createDraftAPI(t, owner, base, newUUID(), "Contoso", "contoso.healthy.test")
	b := newSession(t, browser, base, "viewer@acme.test")
	b.open("/admin/workspaces/acme/onboarding/" + draftID)
	b.lifecycle("draft", "Draft")
	b.js(`document.querySelectorAll('#checkpoint form, #checkpoint button').length === 0`)
	b.visible(`[data-testid=no-connection]`)
	b.shot("12-viewer")
	for _, action := range []string{"/identify", "/connection", "/verification", "/cancel", "/activation"} {
		status, _ := b.post(action, map[string]string{"display_name": "Forged", "primary_domain": "forged.test",
			"client_id": "6ba7b810-9dad-41d1-80b4-00c04fd430c8", "client_secret": "x", "step": "1", "confirm": "yes"})
		if status != 403 {
			t.Errorf("forged POST %s from the viewer: status %d, want 403", action, status)
		}
	}
	b.reload()
	b.text(`[data-testid=tenant-name]`, "Contoso")
	b.js(`document.querySelectorAll('#checkpoint form, #checkpoint button').length === 0`)
}

// A submit from a tab that missed a change is refused with the conflict page: tab B
// cannot receive pushes or polls (its /live and /live/poll are blocked), so its form
// really is stale when it is sent.
func browserStaleSubmit(t *testing.T, browser context.Context, base string) {
	t.Parallel()
	start := time.Now()
	owner := client(t, base, "owner@acme.test")
	draftID := createDraftAPI(t, owner, base, newUUID(), "Contoso", "contoso.healthy.test")
	wizard := "/admin/workspaces/acme/onboarding/" + draftID
	tabA := newSession(t, browser, base, "operator@acme.test")
	tabB := newSession(t, browser, base, "owner@acme.test", sessionOptions{blockPoll: true})
	tabA.open(wizard)
	tabA.liveState("live", waitFor)
	tabA.submit(`[data-testid=step-1] a`, 200)
	tabA.visible(`[data-testid=panel-identify]`)
	tabB.open(wizard + "?step=1")
	tabB.visible(`[data-testid=panel-identify]`)
	tabB.js(`['reconnecting', 'polling'].includes(window.liveConsole.state())`)
	staleVersion := eval[string](tabB, `document.getElementById('form-identify').elements.namedItem('version').value`)

	tabA.typeInto("#display_name", "Contoso (operator)")
	tabA.submit(`[data-testid=save-identify]`, 200)
	tabA.toast("Tenant details saved")

	// B still shows the old version: nothing reached it.
	tabB.typeInto("#display_name", "Contoso (owner)")
	if v := eval[string](tabB, `document.getElementById('form-identify').elements.namedItem('version').value`); v != staleVersion {
		t.Fatalf("tab B's form version moved from %s to %s: it received the change", staleVersion, v)
	}
	tabB.submit(`[data-testid=save-identify]`, 409)
	tabB.visible(`[data-testid=conflict-banner]`)
	tabB.text(`[data-testid=conflict-banner]`, "operator@acme.test changed this onboarding at")
	// Who and when, in words ("… at 2026-11-26 16:21 UTC, after you opened it").
	tabB.js(`(() => { const b = document.querySelector('[data-testid=conflict-banner]'), at = b.querySelector('time[datetime]');
		return !!at && b.innerText.includes('changed this onboarding at ' + at.innerText + ', after you opened it'); })()`)
	// The explanation is one short block: the values follow right below it.
	tabB.js(`(() => { const b = document.querySelector('[data-testid=conflict-banner]');
		const p = b.querySelector('p').getBoundingClientRect(), table = b.querySelector('[data-testid=change-list]').getBoundingClientRect();
		return table.top - p.bottom < 40; })()`)
	tabB.text(`[data-testid=conflict-fields]`, "Contoso (operator)")
	tabB.text(`[data-testid=conflict-fields]`, "Contoso (owner)")
	tabB.js(`document.querySelector('#display_name').value === 'Contoso (owner)'`)
	tabB.shot("13-conflict", `[data-testid=conflict-banner]`)

	// The refused submit changed nothing: A still shows its own value.
	tabA.text(`[data-testid=tenant-name]`, "Contoso (operator)")

	tabB.submit(`[data-testid=conflict-overwrite]`, 200)
	tabB.toast("Tenant details saved")
	tabB.text(`[data-testid=tenant-name]`, "Contoso (owner)")
	tabB.js(`!document.querySelector('[data-testid=conflict-banner]')`)
	// A has no unsaved input: the re-applied change simply arrives, no reload.
	tabA.text(`[data-testid=tenant-name]`, "Contoso (owner)")
	// A saved that Display name: A is told by name and field, not by a generic notice.
	tabA.toast("owner@acme.test replaced your Display name")
	tabA.noBanner()
	t.Logf("stale submit → 409 → re-apply: %v", time.Since(start).Round(time.Millisecond))
}
