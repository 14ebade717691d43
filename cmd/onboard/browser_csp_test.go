package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserCSP loads every page of the console in Chromium under the Content-Security-Policy
// and checks that nothing was blocked (the recorder logs securitypolicyviolation events), while
// live.js still connects its WebSocket, morphs pushed fragments with idiomorph and opens its
// confirm dialog. A canary <style> element at the end proves the policy is enforced and the
// recorder sees what it blocks.
func TestBrowserCSP(t *testing.T) {
	t.Parallel()
	base := startApp(t, nil)
	browser := newBrowser(t)
	b := newSession(t, browser, base, "owner@acme.test") // the sign-in page is the first one

	visit := func(path string, ready string) {
		t.Helper()
		if _, err := chromedp.RunResponse(b.ctx, chromedp.Navigate(base+path)); err != nil {
			b.fail("open %s: %v", path, err)
		}
		b.visible(ready)
		b.js(`document.readyState === 'complete'`)
	}
	visit("/admin", "[data-testid=user-email]")
	visit("/admin/notifications", "[data-testid=user-email]")
	visit("/admin/workspaces/acme/onboarding", "[data-testid=new-onboarding]")
	visit("/admin/workspaces/acme/onboarding/new", "[data-testid=start-form]")
	id := b.startDraft("acme", newUUID(), "CSP Corp", "csp.healthy.test")
	b.liveState("live", waitFor) // the WebSocket is allowed (default-src 'self')
	b.attachConnection()
	b.submit(`[data-testid=start-verification]`, 200)
	b.lifecycle("ready_for_activation", "Ready for activation")
	for step := 1; step <= 5; step++ {
		visit(fmt.Sprintf("%s?step=%d", wizardPath("acme", id), step), "#checkpoint")
		b.liveState("live", waitFor)
	}

	// A change made elsewhere arrives over /live and is morphed in.
	owner := client(t, base, "owner@acme.test")
	req, _ := http.NewRequest(http.MethodPatch, base+"/api/v1/workspaces/acme/onboarding/drafts/"+id, strings.NewReader(`{"display_name":"CSP Corp renamed"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("If-Match", `"`+eval[string](b, `document.querySelector('#checkpoint').dataset.version`)+`"`)
	resp, err := owner.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH = %d, want 200", resp.StatusCode)
	}
	b.text(`[data-testid=tenant-name]`, "CSP Corp renamed")
	b.js(`window.__liveLog.some(e => e.type === 'applied' && e.source === 'push')`)

	// live.js's confirm dialog (cancel onboarding), dismissed.
	b.click(`[data-testid=cancel-onboarding]`)
	b.js(`document.querySelector('dialog.confirm-dialog')?.open === true`)
	b.js(`(() => { document.querySelector('dialog.confirm-dialog').close(); return true; })()`)

	visit("/admin/workspaces/acme/operations", "[data-testid=run-row]")
	b.submit(`[data-testid=run-row] a`, 200)
	b.visible(`[data-testid=run-panel]`)
	visit("/admin/workspaces/acme/audit", "[data-testid=user-email]")
	visit("/admin/workspaces/acme/members", "[data-testid=user-email]")
	visit("/admin/workspaces/acme/nowhere", "[data-testid=user-email]") // the error page

	for _, e := range b.liveLog() {
		if e.Type == "csp" {
			t.Errorf("CSP violation on %s: %s blocked %q (%q)", e.URL, e.Directive, e.Blocked, e.Sample)
		}
	}

	// Canary: inline style is refused and reported.
	b.js(`(() => { const s = document.createElement('style'); s.textContent = 'body { color: red }'; document.head.append(s); return true; })()`)
	b.js(`window.__liveLog.some(e => e.type === 'csp' && e.directive.startsWith('style-src'))`)
}
