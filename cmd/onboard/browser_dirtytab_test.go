package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tenantops/onboard/internal/postgres/pgtest"
)

// TestBrowserDirtyTab checks the dirty-tab rule (CONTRACT §5) with two people signed in
// through separate browser contexts: a tab with unsaved input keeps following every change
// that touches no field it edited, and only a save of a field it edited raises the
// conflict banner, naming that field, in sight even on a phone.
func TestBrowserDirtyTab(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)
	base := startApp(t, map[string]string{"DATABASE_URL": dbURL, "SIM_SLOW_DURATION": "3s"})
	browser := newBrowser(t)

	t.Run("TypingTabFollowsOtherFieldAndRun", func(t *testing.T) { dirtyTabFollowsOtherFieldAndRun(t, browser, base) })
	t.Run("SameFieldBannerAt390px", func(t *testing.T) { dirtyTabSameFieldBannerOnPhone(t, browser, base) })
	t.Run("CollisionHoldsOnlyTheForm", func(t *testing.T) { dirtyTabCollisionHoldsOnlyTheForm(t, browser, base) })
}

// Operator 2 types a display name on step 1 while the owner changes the primary domain and
// then starts a verification: operator 2's tab shows the owner's domain, the run's status
// and the stepper as they change, keeps the typed name, moves its form to the newest
// version, and never raises a banner; saving then writes only the name.
func dirtyTabFollowsOtherFieldAndRun(t *testing.T, browser context.Context, base string) {
	t.Parallel()
	a := newSession(t, browser, base, "owner@acme.test")
	id := a.startDraft("acme", newUUID(), "Contoso", "contoso.slow.test")
	a.attachConnection()
	b := newSession(t, browser, base, "operator2@acme.test")
	b.open(wizardPath("acme", id) + "?step=1")
	b.visible(`[data-testid=panel-identify]`)
	b.liveState("live", waitFor)
	b.markDocument()
	b.typeInto("#display_name", "Contoso (typed by operator2)")

	// The owner saves another field.
	a.open(wizardPath("acme", id) + "?step=1")
	a.typeInto("#primary_domain", "contoso-eu.slow.test")
	a.submit(`[data-testid=save-identify]`, 200)
	a.toast("Tenant details saved")
	b.text(`[data-testid=tenant-domain]`, "contoso-eu.slow.test")
	b.js(`document.querySelector('#primary_domain').value === 'contoso-eu.slow.test'`)
	b.toast("owner@acme.test changed Primary domain")
	b.js(`document.querySelector('#display_name').value === 'Contoso (typed by operator2)'`)
	b.noBanner()

	// The owner starts a verification: status, summary and stepper follow in B's tab.
	a.open(wizardPath("acme", id) + "?step=3")
	a.submit(`[data-testid=start-verification]`, 200)
	b.lifecycle("ready_for_activation", "Ready for activation")
	b.js(`document.querySelector('[data-testid=step-3]').dataset.state === 'done'`)
	sawRun := false
	for _, e := range b.liveLog() {
		sawRun = sawRun || e.Type == "applied" && e.Lifecycle == "verifying"
	}
	if !sawRun {
		t.Error("tab B never showed the verification running")
	}
	b.js(`document.querySelector('#display_name').value === 'Contoso (typed by operator2)'`)
	b.js(`document.getElementById('form-identify').elements.namedItem('version').value === document.querySelector('#checkpoint').dataset.version`)
	b.noBanner()
	b.stillSameDocument()

	// The typed name is saved on top of the owner's domain.
	b.submit(`[data-testid=save-identify]`, 200)
	b.toast("Tenant details saved")
	b.text(`[data-testid=tenant-name]`, "Contoso (typed by operator2)")
	b.text(`[data-testid=tenant-domain]`, "contoso-eu.slow.test")
}

// On a phone (390 px), operator 2 scrolls down to the display name and types; the owner
// saves that same field. The banner is in operator 2's viewport, focused, announced
// (role=alert), names the field with the value before, the owner's (current) and
// operator 2's, and offers the safe choice first.
func dirtyTabSameFieldBannerOnPhone(t *testing.T, browser context.Context, base string) {
	t.Parallel()
	a, b := identifyInTwoTabs(t, browser, base)
	b.do("phone viewport", chromedp.EmulateViewport(390, 844))
	b.typeInto("#display_name", "Contoso (operator2's)")
	// Scroll so that the top of the wizard is out of sight, as when typing on a phone.
	b.do("scroll to the form", chromedp.ScrollIntoView(chromedp.CSS(`[data-testid=save-identify]`)))
	b.js(`document.querySelector('[data-testid=wizard-summary]').getBoundingClientRect().bottom < 0`)
	before := eval[string](b, `document.getElementById('form-identify').elements.namedItem('version').value`)

	a.typeInto("#display_name", "Contoso (owner's)")
	a.submit(`[data-testid=save-identify]`, 200)
	a.toast("Tenant details saved")

	banner := `[data-testid=conflict-banner]`
	b.visible(banner)
	b.js(fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect();
		return r.top >= 0 && r.top < innerHeight && r.bottom <= innerHeight && r.width > 0 && r.right <= 390; })()`, banner))
	b.js(fmt.Sprintf(`document.activeElement === document.querySelector(%q) && document.activeElement.getAttribute('role') === 'alert'`, banner))
	b.text(banner, "owner@acme.test saved Display name while you were editing it")
	row := `[data-testid=conflict-fields] tr[data-field=display_name]`
	b.text(row+` [data-col=before]`, "Contoso")
	b.text(row+` [data-col=theirs]`, "Contoso (owner's)")
	b.text(row+` [data-col=mine]`, "Contoso (operator2's)")
	b.js(fmt.Sprintf(`document.querySelector('%s .btn-primary').innerText.trim() === 'Use their version'`, banner))
	b.js(`document.querySelector('#display_name').value === "Contoso (operator2's)"`)
	if v := eval[string](b, `document.getElementById('form-identify').elements.namedItem('version').value`); v != before {
		t.Fatalf("the form's version moved from %s to %s: a save would overwrite the owner's name unseen", before, v)
	}
	if w := eval[int](b, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("the page scrolls sideways at 390 px with the banner: %d px wide", w)
	}
	b.shot("25-live-conflict-phone")

	// The safe choice takes the owner's value and returns to the field.
	b.click(`[data-testid=conflict-use-theirs]`)
	b.js(`document.querySelector('#display_name').value === "Contoso (owner's)" && document.activeElement.id === 'display_name'`)
	b.js(`!document.querySelector('[data-testid=conflict-banner]')`)
}

// Operator 2 ticks a bootstrap operation on step 4 while the owner starts bootstrap with
// another selection: the owner saved the field operator 2 edited, so the banner names it and
// the form's version is held — but only that: the runs' progress, the status and the stepper
// keep updating in operator 2's tab, and the ticked box stays ticked.
func dirtyTabCollisionHoldsOnlyTheForm(t *testing.T, browser context.Context, base string) {
	t.Parallel()
	a := newSession(t, browser, base, "owner@acme.test")
	id := a.startDraft("acme", newUUID(), "Fabrikam", "fabrikam.slow.test")
	a.attachConnection()
	a.submit(`[data-testid=start-verification]`, 200)
	a.lifecycle("ready_for_activation", "Ready for activation")
	a.open(wizardPath("acme", id) + "?step=4")
	a.liveState("live", waitFor)
	top := eval[float64](a, fieldTopJS("operations"))
	b := newSession(t, browser, base, "operator2@acme.test")
	b.open(wizardPath("acme", id) + "?step=4")
	b.visible(`[data-testid=panel-bootstrap]`)
	b.liveState("live", waitFor)
	b.markDocument()
	b.click("#op-baseline_snapshot")
	before := eval[string](b, `document.getElementById('form-bootstrap').elements.namedItem('version').value`)

	// The owner sees operator 2 at the operations, and the boxes stay where they were: the
	// hint once pushed them down between finding a box and clicking it.
	a.jsWithin(waitFor, fieldHintJS("operations", "operator2@acme.test is editing"))
	if now := eval[float64](a, fieldTopJS("operations")); now != top {
		t.Errorf("the hint moved the operations' boxes from %v px to %v px", top, now)
	}
	// On a phone too the hint stays on the legend's line, after its words.
	a.do("phone viewport", chromedp.EmulateViewport(390, 844))
	a.js(fieldHintJS("operations", "operator2@acme.test is editing"))
	a.do("desktop viewport", chromedp.EmulateViewport(1280, 800))
	listShots(a, "presence-legend-hint", "#form-bootstrap legend")
	a.click("#op-inventory_sync")
	a.click("#op-policy_sync")
	a.submit(`[data-testid=start-bootstrap]`, 200)

	b.visible(`[data-testid=conflict-banner]`)
	b.text(`[data-testid=conflict-banner]`, "owner@acme.test saved Operations to run while you were editing it")
	b.text(`[data-testid=conflict-fields] tr[data-field=operations] [data-col=theirs]`, "Policy")
	b.text(`[data-testid=conflict-fields] tr[data-field=operations] [data-col=mine]`, "Baseline")
	// Progress follows while the banner is up.
	b.jsWithin(slowRun, `[...document.querySelectorAll('[data-testid=bootstrap-ops] .progress')].some(p => {
		const v = Number(p.getAttribute('aria-valuenow')); return v > 0; })`)
	b.lifecycle("ready_for_activation", "Ready for activation")
	b.js(`[...document.querySelectorAll('[data-testid=bootstrap-ops] [data-testid=run-status]')].filter(e => e.dataset.outcome === 'succeeded').length === 2`)
	b.js(`document.querySelector('#op-baseline_snapshot').checked && !!document.querySelector('[data-testid=conflict-banner]')`)
	if v := eval[string](b, `document.getElementById('form-bootstrap').elements.namedItem('version').value`); v != before {
		t.Fatalf("the form's version moved from %s to %s while the collision was unanswered", before, v)
	}
	b.stillSameDocument()
}
