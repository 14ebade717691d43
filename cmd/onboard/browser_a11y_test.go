package main

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/tenantops/onboard/internal/postgres/pgtest"
)

// axeJS is axe-core, vendored for this test (testdata/axe/VERSION).
//
//go:embed testdata/axe/axe.min.js
var axeJS string

// axeViolation is one rule axe-core found broken on a page.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// axe runs axe-core (WCAG 2 A/AA rules) on the page as it is and returns the serious and
// critical violations.
func (p *page) axe() []axeViolation {
	p.t.Helper()
	if !eval[bool](p, `typeof window.axe === 'object'`) {
		if _, err := chromedp.Run(p.ctx, chromedp.Evaluate[any](axeJS+";true")); err != nil {
			p.fail("load axe-core: %v", err)
		}
	}
	raw := eval[string](p, `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
		.then(r => JSON.stringify(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')))`)
	var out []axeViolation
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		p.fail("axe result: %v", err)
	}
	return out
}

func (p *page) colorScheme(scheme string) {
	p.t.Helper()
	if _, err := chromedp.Call(p.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
		p.fail("emulate %s: %v", scheme, err)
	}
}

// TestBrowserAccessibility runs axe-core on every page, in light and dark, and wants no
// serious or critical violation.
func TestBrowserAccessibility(t *testing.T) {
	t.Parallel()
	base := startApp(t, map[string]string{"DATABASE_URL": pgtest.NewURL(t)})
	browser := newBrowser(t)
	owner := client(t, base, "owner@acme.test")

	// 30 pages through axe-core in one tab: more than a tab's default 2 minutes on busy cores.
	o := newSession(t, browser, base, "owner@acme.test", sessionOptions{lifetime: 6 * time.Minute})
	fresh := createDraftAPI(t, owner, base, newUUID(), "Fresh Tenant", "fresh.healthy.test")
	failed := o.startDraft("acme", newUUID(), "Denied Tenant", "denied.missing-perms.test")
	o.attachConnection()
	o.submit(`[data-testid=start-verification]`, 200)
	o.lifecycle("action_required", "Action required")
	runURL := eval[string](o, `new URL(document.querySelector('[data-testid=full-report-link]').href).pathname`)
	ready := o.startDraft("acme", newUUID(), "Ready Tenant", "ready.healthy.test")
	o.attachConnection()
	o.submit(`[data-testid=start-verification]`, 200)
	o.lifecycle("ready_for_activation", "Ready for activation")
	done := o.startDraft("acme", newUUID(), "Done Tenant", "done.healthy.test")
	o.attachConnection()
	o.submit(`[data-testid=start-verification]`, 200)
	o.lifecycle("ready_for_activation", "Ready for activation")
	o.open(wizardPath("acme", done) + "?step=5")
	o.submit(`[data-testid=activate]`, 200)
	o.lifecycle("completed", "Completed")

	pages := []string{
		"/admin",
		"/admin/workspaces/acme/onboarding",
		wizardPath("acme", fresh) + "?step=1",
		wizardPath("acme", fresh) + "?step=2",
		wizardPath("acme", failed) + "?step=3",
		wizardPath("acme", ready) + "?step=4",
		wizardPath("acme", ready) + "?step=5",
		wizardPath("acme", done),
		"/admin/workspaces/acme/operations",
		runURL,
		"/admin/workspaces/acme/audit",
		"/admin/workspaces/acme/members",
		"/admin/notifications",
		"/admin/profile",
	}
	var report []string
	check := func(p *page, scheme, path string) {
		for _, v := range p.axe() {
			var where []string
			for i, n := range v.Nodes {
				if i == 3 {
					where = append(where, fmt.Sprintf("… %d more", len(v.Nodes)-3))
					break
				}
				where = append(where, fmt.Sprint(n.Target))
			}
			report = append(report, fmt.Sprintf("%s (%s) %s [%s]: %s at %s", path, scheme, v.ID, v.Impact, v.Help, strings.Join(where, ", ")))
		}
	}
	for _, scheme := range []string{"light", "dark"} {
		o.colorScheme(scheme)
		for _, path := range pages {
			o.open(path)
			check(o, scheme, path)
		}
		login := newSession(t, browser, base, "")
		login.colorScheme(scheme)
		login.open("/admin/login")
		check(login, scheme, "/admin/login")
	}
	if len(report) > 0 {
		t.Errorf("axe-core found %d serious or critical violations:\n%s", len(report), strings.Join(report, "\n"))
	}

	// Run detail: "Show only failed checks and items" hides the passed checks, keeps the failed.
	o.open(runURL)
	visible := `[...document.querySelectorAll('[data-testid=check]')].filter(e => e.offsetParent !== null)`
	o.js(visible + `.some(e => e.dataset.status === 'passed')`)
	o.click(`#only-problems`)
	o.js(visible + `.length > 0 && ` + visible + `.every(e => e.dataset.status === 'failed' || e.dataset.status === 'warning')`)
}
