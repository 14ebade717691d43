package static_test

import (
	"fmt"
	"html"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tenantops/onboard/internal/live"
)

// regionFrag renders d1 as a fragment of keyed regions, the checkpoint's shape: a status
// region, a form region whose form takes its version from the versions region.
func regionFrag(version, rev int, status, name string) []byte {
	return fmt.Appendf(nil, `<section class="card" data-live="checkpoint" data-draft-id="d1" data-version="%d" data-rev="%d" data-lifecycle="draft" data-updated-by="bob@example.com" data-updated-at="%s">`+
		`<p class="status" id="d1-status" data-region="status">%s</p> `+
		`<div data-region="panel"><form id="d1-form" method="post" action="/submit/d1"><div class="field"><label for="d1-name">Name</label><input id="d1-name" name="name" value=%q></div>`+
		`<button class="btn btn-primary" id="d1-save">Save</button></form><p id="d1-pad">%s</p></div>`+
		`<div hidden data-region="versions"><input type="hidden" name="version" value="%d" form="d1-form"></div></section>`,
		version, rev, time.Now().UTC().Format(time.RFC3339), html.EscapeString(status), html.EscapeString(name), strings.Repeat("padding ", 40), version)
}

func TestLiveDeltas(t *testing.T) {
	browser := newBrowser(t)
	s := newTestServer(t)
	tab := openPage(t, browser, s)
	c := s.nextConn(t)
	if c.query.Get("delta") != "1" {
		t.Fatalf("the socket does not ask for deltas: %v", c.query)
	}
	must(t, tab, waitJS(`liveConsole.state() === 'live'`))
	send := func(b []byte) {
		t.Helper()
		if b == nil {
			t.Fatal("no delta")
		}
		select {
		case c.send <- string(b):
		case <-time.After(5 * time.Second):
			t.Fatal("connection handler did not take the frame")
		}
	}
	full30 := regionFrag(3, 30, "rev 30", "Acme")
	send(full30)
	must(t, tab, waitJS(`liveConsole.shownRev('d1','checkpoint') === '30' && !!document.getElementById('d1-pad')`))

	// A delta of the status region only: the panel is rebuilt from the fragment received.
	full31 := regionFrag(3, 31, "progress 50%", "Acme")
	d := live.Delta(full30, full31, 30)
	if d == nil || strings.Contains(string(d), "d1-pad") || strings.Contains(string(d), "data-updated-by") || strings.Contains(string(d), `class="card"`) {
		t.Fatalf("delta (only changed regions and root attributes): %s", d)
	}
	send(d)
	must(t, tab, waitJS(`liveConsole.shownRev('d1','checkpoint') === '31' && document.getElementById('d1-status').textContent === 'progress 50%'`),
		waitJS(`document.getElementById('d1-pad').textContent.startsWith('padding padding') && !!document.getElementById('d1-save')`),
		// The root attributes the delta left out are the base's.
		waitJS(`(() => { const r = document.querySelector('[data-live=checkpoint][data-draft-id=d1]');
			return r.classList.contains('card') && r.dataset.updatedBy === 'bob@example.com' && r.dataset.lifecycle === 'draft' && !r.hasAttribute('data-base-rev'); })()`))

	// An edit elsewhere, of no field the operator types in: the version comes in the
	// versions region, and the typing tab follows it (no banner, the input kept, the form
	// tied to the new version).
	must(t, tab, clearValue("#d1-name"), chromedp.SendKeys(chromedp.CSS("#d1-name"), "Mine"),
		waitJS(`document.getElementById('d1-name').value === 'Mine'`))
	full32 := regionFrag(4, 32, "renamed", "Acme")
	send(live.Delta(full31, full32, 31))
	must(t, tab, waitJS(`document.getElementById('d1-form').elements.namedItem('version').value === '4'`),
		waitJS(`!document.querySelector('[data-testid=conflict-banner]') && document.getElementById('d1-status').textContent === 'renamed'`),
		waitJS(`document.getElementById('d1-name').value === 'Mine' && liveConsole.shownRev('d1','checkpoint') === '32'`))

	// A delta whose base is not the fragment received last is not applied: the socket is
	// opened again with the revs shown (its first frame is whole).
	must(t, tab, waitJS(`(window.__resyncs = [], document.addEventListener('live:resync', e => __resyncs.push(e.detail.baseRev)), true)`))
	send(live.Delta(regionFrag(4, 33, "x", "Acme"), regionFrag(4, 34, "lost", "Acme"), 33))
	c2 := s.nextConn(t)
	if got := c2.query["rev"]; len(got) != 2 || got[0] != "32" || c2.query.Get("delta") != "1" {
		t.Fatalf("resubscribed with %v", c2.query)
	}
	must(t, tab, waitJS(`__resyncs.join() === '33' && document.getElementById('d1-status').textContent === 'renamed'`))
}
