package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tenantops/onboard/internal/postgres/pgtest"
)

// TestBrowserMobile opens every page at a phone's width (390 px): nothing scrolls sideways
// (long names wrap, tables scroll inside their card), and the navigation is a drawer that a
// button opens and closes.
func TestBrowserMobile(t *testing.T) {
	t.Parallel()
	base := startApp(t, map[string]string{"DATABASE_URL": pgtest.NewURL(t)})
	browser := newBrowser(t)
	owner := client(t, base, "owner@acme.test")
	id := createDraftAPI(t, owner, base, newUUID(), "Contoso Worldwide Holdings International Limited",
		"a-very-long-subdomain-name-for-testing-wrapping.contoso-worldwide-holdings.healthy.test")

	o := newSession(t, browser, base, "owner@acme.test")
	o.open(wizardPath("acme", id) + "?step=2")
	o.attachConnection()
	o.submit(`[data-testid=start-verification]`, 200)
	o.lifecycle("ready_for_activation", "Ready for activation")
	o.do("phone viewport", chromedp.EmulateViewport(390, 844))

	var wide []string
	for _, path := range []string{
		"/admin", "/admin/workspaces/acme/onboarding", wizardPath("acme", id) + "?step=1",
		wizardPath("acme", id) + "?step=3", wizardPath("acme", id) + "?step=5",
		"/admin/workspaces/acme/operations", "/admin/workspaces/acme/audit",
		"/admin/workspaces/acme/members", "/admin/notifications", "/admin/profile",
	} {
		o.open(path)
		if w := eval[int](o, `document.documentElement.scrollWidth`); w > 390 {
			culprit := eval[string](o, `[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391)
				.slice(0, 3).map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : '')).join(', ')`)
			wide = append(wide, fmt.Sprintf("%s is %d px wide (%s)", path, w, culprit))
		}
	}
	if len(wide) > 0 {
		t.Errorf("pages scroll sideways at 390 px:\n%s", strings.Join(wide, "\n"))
	}

	o.open(wizardPath("acme", id) + "?step=3")
	o.shot("30-mobile-wizard")

	// The navigation is a drawer: hidden until its button opens it, every item reachable.
	o.open("/admin/workspaces/acme/onboarding")
	o.js(`getComputedStyle(document.querySelector('.sidebar')).visibility === 'hidden' || document.querySelector('.sidebar').getBoundingClientRect().right <= 0`)
	o.click(`[data-testid=nav-toggle]`)
	o.js(`document.querySelector('[data-testid=nav-toggle]').getAttribute('aria-expanded') === 'true'`)
	o.js(`[...document.querySelectorAll('.sidebar a')].every(a => { const r = a.getBoundingClientRect(); return r.left >= 0 && r.right <= 390; })`)
	o.shot("31-mobile-nav")
	o.submit(`.sidebar a[href="/admin/workspaces/acme/operations"]`, 200)
	o.visible(`h1.page-title`)
}
