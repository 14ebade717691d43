package static_test

import (
	"fmt"
	"html"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// twoFields is d1 with a form of two fields, Alpha and Beta, each with the base_ input the
// wizard's forms carry (the value the server held when it rendered the form).
func twoFields(version, rev int, status, alpha, beta string) string {
	e := html.EscapeString
	return fmt.Sprintf(`<section class="card" data-live="checkpoint" data-draft-id="d1" data-version="%d" data-rev="%d" data-lifecycle="draft" data-updated-by="bob@example.com" data-updated-at="%s">`+
		`<p class="status" id="d1-status">%s</p>`+
		`<form id="f1" method="post" action="/submit/d1"><input type="hidden" name="base_alpha" value="%s"><input type="hidden" name="base_beta" value="%s">`+
		`<label for="alpha">Alpha</label><input id="alpha" name="alpha" value="%s"><label for="beta">Beta</label><input id="beta" name="beta" value="%s">`+
		`<button class="btn btn-primary">Save</button></form>`+
		`<div hidden><input type="hidden" name="version" value="%d" form="f1"></div></section>`,
		version, rev, time.Now().UTC().Format(time.RFC3339), e(status), e(alpha), e(beta), e(alpha), e(beta), version)
}

// TestLiveDirtyTabFollows drives the dirty-tab rule in live.js: a tab typing in Alpha
// follows a save of Beta (no banner, Beta updated, the form at the new version, a notice
// naming Beta); a save of Alpha raises the banner naming Alpha (before, theirs, yours) and
// holds the version while later frames still apply; Overwrite with mine then moves it.
func TestLiveDirtyTabFollows(t *testing.T) {
	browser := newBrowser(t)
	s := newTestServer(t)
	tab := openPage(t, browser, s)
	c := s.nextConn(t)
	send := func(frame string) {
		t.Helper()
		select {
		case c.send <- frame:
		case <-time.After(5 * time.Second):
			t.Fatal("connection handler did not take the frame")
		}
	}
	version := `document.getElementById('f1').elements.namedItem('version').value`
	must(t, tab, waitJS(`liveConsole.state() === 'live'`))
	send(twoFields(3, 11, "rev 11", "A0", "B0"))
	must(t, tab, waitJS(`liveConsole.shownRev('d1','checkpoint') === '11' && !!document.getElementById('alpha')`),
		clearValue("#alpha"), chromedp.SendKeys(chromedp.CSS("#alpha"), "mine"),
		waitJS(`document.getElementById('alpha').value === 'mine'`))

	// Bob saves Beta: followed.
	send(twoFields(4, 12, "beta saved", "A0", "B1"))
	must(t, tab, waitJS(`document.getElementById('d1-status').textContent === 'beta saved' && document.getElementById('beta').value === 'B1'`),
		waitJS(version+` === '4' && document.getElementById('alpha').value === 'mine'`),
		waitJS(`[...document.querySelectorAll('.toasts .toast')].some(t => t.textContent === 'bob@example.com changed Beta')`))
	if eval[bool](t, tab, `!!document.querySelector('[data-testid=conflict-banner]')`) {
		t.Fatal("a save of another field raised the conflict banner")
	}

	// Bob saves Alpha: the banner names it; the version is held.
	send(twoFields(5, 13, "alpha saved", "A1", "B1"))
	must(t, tab, chromedp.WaitVisible(chromedp.CSS(`[data-testid=conflict-banner][role=alert]`)))
	row := eval[[]string](t, tab, `[...document.querySelectorAll('[data-testid=conflict-fields] tr[data-field=alpha] > *')].map(c => c.textContent)`)
	if strings.Join(row, "|") != "Alpha|A0|A1|mine" {
		t.Fatalf("conflict row = %q, want Alpha|A0|A1|mine", row)
	}
	// A later frame (run progress: same version) still applies; the banner stays, the
	// version stays held, focus is not taken again.
	must(t, tab, chromedp.Focus(chromedp.CSS("#beta")))
	send(twoFields(5, 14, "progress", "A1", "B1"))
	must(t, tab, waitJS(`document.getElementById('d1-status').textContent === 'progress'`),
		waitJS(version+` === '4' && !!document.querySelector('[data-testid=conflict-banner]') && document.activeElement.id === 'beta'`))

	must(t, tab, chromedp.Click(chromedp.CSS(`[data-testid=conflict-overwrite]`)),
		waitJS(`!document.querySelector('[data-testid=conflict-banner]')`),
		waitJS(version+` === '5' && document.getElementById('alpha').value === 'mine' && document.querySelector('[name=base_alpha]').value === 'A1'`),
		waitJS(`document.activeElement.id === 'alpha'`))
}
