package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserAccount walks the profile and the run retry in Chromium on the lived-in demo
// data: the profile is reached from the user menu; a refused password change keeps focus on
// the field to fix; a password change signs out the person's other browser (its live page
// says "Signed out" within seconds) and keeps this one; "Sign out other sessions" asks first
// and ends a script's session; a failed run's Retry asks first and opens the new run's page;
// the profile does not scroll sideways at 390 px. It also takes the README's screenshots of
// the console's lists (light, dark, phone).
func TestBrowserAccount(t *testing.T) {
	t.Parallel()
	base := startApp(t, map[string]string{"DEMO_STORY": "true"})
	browser := newBrowser(t)
	o := newSession(t, browser, base, "owner@acme.test")
	other := newSession(t, browser, base, "owner@acme.test")

	// The other browser watches a draft live.
	other.open("/admin/workspaces/acme/onboarding")
	other.submit(`[data-testid=draft-row] a`, 200)
	other.liveState("live", 10*time.Second)

	o.open("/admin/workspaces/acme/onboarding")
	o.submit(`a[data-testid=user-email]`, 200)
	o.visible(`[data-testid=profile-page]`)
	o.js(`document.querySelectorAll('[data-testid=session-row]').length === 2 &&
		document.querySelectorAll('[data-testid=session-row][data-current]').length === 1`)

	// Refused: wrong current password. The page says which field, and focus is on it.
	o.typeInto("#current_password", "not-the-password")
	o.typeInto("#new_password", "a-new-password-2")
	o.typeInto("#confirm_password", "a-new-password-2")
	o.submit(`[data-testid=password-save]`, 422)
	o.text(`[data-testid=error-current_password]`, "not your current password")
	o.js(`document.activeElement?.id === 'current_password'`)

	o.typeInto("#current_password", "demo-password-1")
	o.typeInto("#new_password", "a-new-password-2")
	o.typeInto("#confirm_password", "a-new-password-2")
	o.submit(`[data-testid=password-save]`, 200)
	o.toast("Password changed; 1 other session signed out")
	other.jsWithin(10*time.Second, `!!document.querySelector('[data-testid=session-expired]')`)
	o.js(`document.querySelectorAll('[data-testid=session-row]').length === 1`)

	// A script signs in with the new password; "Sign out other sessions" ends it.
	script := &http.Client{}
	resp, err := script.Post(base+"/api/v1/session", "application/json", strings.NewReader(`{"email":"owner@acme.test","password":"a-new-password-2"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookie := resp.Header.Get("Set-Cookie")
	if resp.StatusCode != http.StatusNoContent || cookie == "" {
		t.Fatalf("sign in with the new password: %d", resp.StatusCode)
	}
	o.open("/admin/profile")
	o.js(`document.querySelectorAll('[data-testid=session-row]').length === 2`)
	o.shot("43-profile")
	o.confirmSubmit(`[data-testid=sessions-end-others]`, 200)
	o.toast("1 other session signed out")
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/sessions", nil)
	req.Header.Set("Cookie", strings.Split(cookie, ";")[0])
	if resp, err := script.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the script's session after 'sign out other sessions': %v %v, want 401", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}

	screenshots(t, o)

	// Retry a failed run of the demo (Fabrikam's verification): confirmed, the new run opens.
	var failed string
	for _, run := range newAPIClient(t, base).do(t, client(t, base, "viewer@acme.test"), http.MethodGet, "/workspaces/acme/operation-runs", "").list(t) {
		if run["outcome"] == "failed" && run["type"] == "verify_access" {
			failed = "/admin/workspaces/acme/operations/" + run["id"].(string)
			break
		}
	}
	if failed == "" {
		t.Fatal("no failed verification in the demo's runs")
	}
	o.open(failed)
	o.confirmSubmit(`[data-testid=run-retry]`, 200)
	o.toast("started again")
	if now := eval[string](o, `location.pathname`); now == failed || !strings.HasPrefix(now, "/admin/workspaces/acme/operations/") {
		o.fail("after Retry the page is %s, want a new run's page (not %s)", now, failed)
	}

	// The phone: the profile wraps to 390 px.
	o.do("phone viewport", chromedp.EmulateViewport(390, 844))
	o.open("/admin/profile")
	if w := eval[int](o, `document.documentElement.scrollWidth`); w > 390 {
		o.fail("the profile is %d px wide at 390 px", w)
	}
	o.shot("32-mobile-profile")
}

// screenshots takes the README's pictures of the lists on the demo data.
func screenshots(t *testing.T, o *page) {
	t.Helper()
	o.open("/admin/workspaces/acme/onboarding")
	o.shot("40-drafts-list")
	o.open("/admin/workspaces/acme/operations")
	o.shot("44-operations")
	o.open("/admin/workspaces/acme/members")
	o.shot("42-members")
	o.open("/admin/workspaces/acme/audit?action=onboarding.")
	o.js(`(() => { const d = [...document.querySelectorAll('[data-testid=audit-changes]')]
		.find(d => /fields? changed/.test(d.querySelector('summary').textContent) && d.querySelector('.old'));
		if (d) d.open = true; return !!d; })()`)
	o.shot("41-audit-changes", `details[open]`)
	o.colorScheme("dark")
	o.open("/admin/workspaces/acme/onboarding")
	o.shot("45-dark-drafts")
	o.open("/admin/workspaces/acme/audit")
	o.shot("46-dark-audit")
	o.colorScheme("light")
}
