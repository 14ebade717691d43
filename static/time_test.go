package static_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/tenantops/onboard/static"
)

// TestLocalTimes: time.js shows every <time datetime> in the viewer's timezone, with the
// full instant on hover, also for elements added later (a morphed fragment).
func TestLocalTimes(t *testing.T) {
	browser := newBrowser(t)
	mux := http.NewServeMux()
	mux.Handle("/static/", http.StripPrefix("/static/", http.FileServerFS(static.FS)))
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>times</title>
<script src="/static/js/time.js" defer></script></head><body>
<p><time id="t1" datetime="2026-03-14T09:30:00Z">2026-03-14 09:30 UTC</time></p></body></html>`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	tab, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if _, err := chromedp.Call(tab, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "America/New_York"}); err != nil {
		t.Fatal(err)
	}
	// 09:30 UTC on 14 March 2026 is 05:30 in New York (daylight saving time since 8 March).
	must(t, tab, chromedp.Navigate(srv.URL+"/"),
		waitJS(`document.getElementById('t1').dataset.localized === 'true'`),
		waitJS(`document.getElementById('t1').textContent.includes('5:30') && !document.getElementById('t1').textContent.includes('UTC')`),
		waitJS(`document.getElementById('t1').title.includes('2026')`),
		waitJS(`(() => { const el = document.createElement('time'); el.id = 't2'; el.setAttribute('datetime', '2026-07-01T12:00:00Z');
			el.textContent = '2026-07-01 12:00 UTC'; document.body.append(el); return true; })()`),
		waitJS(`document.getElementById('t2').textContent.includes('8:00')`))
}
