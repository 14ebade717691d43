package main

import (
	_ "embed"
	"encoding/json"
	"testing"

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
		if _, err := chromedp.Run(p.bounded(), chromedp.Evaluate[any](axeJS+";true")); err != nil {
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
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}, {Name: "prefers-reduced-motion", Value: "reduce"}}}); err != nil {
		p.fail("emulate %s: %v", scheme, err)
	}
}

// TestBrowserRunFilter: on a run's page, "Show only failed checks and items" hides the passed
// checks and keeps the failed. (axe-core on every page, role, width and scheme is the page
// crawl's, TestPageCrawl.) It also checks that the heading focused after a submit shows no
// focus box: it is a focus target for screen readers, not a control.
func TestBrowserRunFilter(t *testing.T) {
	t.Parallel()
	base := startApp(t, map[string]string{"DATABASE_URL": pgtest.NewURL(t)})
	browser := newBrowser(t)

	o := newSession(t, browser, base, "owner@acme.test")
	o.startDraft("acme", newUUID(), "Denied Tenant", "denied.missing-perms.test")
	o.js(`document.activeElement === document.querySelector('.page-title')`)
	o.js(`getComputedStyle(document.querySelector('.page-title')).outlineStyle === 'none'`)
	o.attachConnection()
	o.submit(`[data-testid=start-verification]`, 200)
	o.lifecycle("action_required", "Action required")
	runURL := eval[string](o, `new URL(document.querySelector('[data-testid=full-report-link]').href).pathname`)

	o.open(runURL)
	visible := `[...document.querySelectorAll('[data-testid=check]')].filter(e => e.offsetParent !== null)`
	o.js(visible + `.some(e => e.dataset.status === 'passed')`)
	o.click(`#only-problems`)
	o.js(visible + `.length > 0 && ` + visible + `.every(e => e.dataset.status === 'failed' || e.dataset.status === 'warning')`)
}
