package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tenantops/onboard/internal/postgres/pgtest"
	"github.com/tenantops/onboard/internal/testkit"
)

// TestBrowserSaveFailedKeepsForm: a wizard save sent while the database is unreachable (a TCP
// proxy in front of PostgreSQL, cut) answers 503 with the form kept: it says nothing was
// saved, shows what was typed (never the client secret: that field is empty and asks for it
// again), links back to the draft's step, and "Try again" saves the same values to the same
// action, with the same version, once the database is back.
func TestBrowserSaveFailedKeepsForm(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)
	u, _ := url.Parse(dbURL)
	proxy := testkit.NewProxy(t, u.Host)
	u.Host = proxy.Addr()
	base := startApp(t, map[string]string{"DATABASE_URL": u.String()})
	p := newSession(t, newBrowser(t), base, "owner@acme.test")
	id := p.startDraft("acme", newUUID(), "Northwind", "northwind.test")
	draft := "/admin/workspaces/acme/onboarding/" + id

	// outage cuts the database, submits sel and checks the failed-save page.
	outage := func(sel, backStep, what string) {
		t.Helper()
		proxy.Cut()
		p.submit(sel, http.StatusServiceUnavailable)
		p.text(`[data-testid=save-failed-message]`, "The database could not be reached; nothing was saved")
		p.text(`[data-testid=save-failed-what]`, what)
		p.visible(`[data-testid=retry-save]`)
		p.js(`document.querySelector('[data-testid=retry-save]').textContent.trim() === 'Try again'`)
		if got := eval[string](p, `new URL(document.querySelector('[data-testid=save-failed-back]').href).pathname +
			new URL(document.querySelector('[data-testid=save-failed-back]').href).search`); got != draft+"?step="+backStep {
			t.Errorf("way back = %q, want %q", got, draft+"?step="+backStep)
		}
		if got := eval[string](p, `document.querySelector('[data-testid=save-failed-back]').textContent.trim()`); got != "Back to the draft" {
			t.Errorf("way back says %q, want Back to the draft", got)
		}
	}
	// restore brings the database back and waits until the app reaches it.
	restore := func() {
		t.Helper()
		if err := proxy.Restore(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(waitFor)
		for {
			resp, err := http.Get(base + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("/readyz never answered 200 after the restore: %v", err)
			}
			time.Sleep(50 * time.Millisecond) // polling the readiness signal
		}
	}
	// tryAgain clicks "Try again" until the save goes through (the pool may still hand out
	// a connection the cut killed, once): every refusal must still keep the form.
	tryAgain := func(fill func()) {
		t.Helper()
		for i := 0; ; i++ {
			if fill != nil {
				fill()
			}
			resp, err := chromedp.RunResponse(p.bounded(), chromedp.Click(chromedp.CSS(`[data-testid=retry-save]`)))
			if err != nil {
				p.fail("try again: %v", err)
			}
			if resp.Status == http.StatusOK {
				return
			}
			if resp.Status != http.StatusServiceUnavailable || i == 5 {
				p.fail("try again: status %d", resp.Status)
			}
			p.visible(`[data-testid=retry-save]`)
		}
	}

	// The connection form: the client ID is kept, the secret is asked for again.
	{
		clientID, secret := newUUID(), "never-echo-this-secret-4711"
		p.typeInto("#client_id", clientID)
		p.typeInto("#client_secret", secret)
		outage(`[data-testid=save-connection]`, "2", "Attach the connection")
		if got := eval[string](p, `document.querySelector('[data-testid=retry-form] input[name=client_id]').value`); got != clientID {
			t.Errorf("client_id kept = %q, want %q", got, clientID)
		}
		p.js(`(() => { const s = document.querySelector('[data-testid=retry-form] input[name=client_secret]');
			return s.type === 'password' && s.value === '' && s.labels[0].textContent.includes('Client secret'); })()`)
		if strings.Contains(p.html(), secret) {
			t.Error("the failed-save page echoes the client secret")
		}
		p.shot("60-save-failed")
		if v := p.axe(); len(v) > 0 {
			t.Errorf("axe-core on the failed-save page: %+v", v)
		}
		restore()
		tryAgain(func() { p.typeInto(`[data-testid=retry-form] input[name=client_secret]`, secret) })
		p.toast("Connection attached")
		p.open(draft + "?step=2")
		p.text(`[data-testid=connection-client-id]`, clientID)
	}

	// The identify form: the edited name is kept, and so are the version and the base values
	// the server compares, unseen.
	{
		p.open(draft + "?step=1")
		p.typeInto("#display_name", "Northwind Europe")
		outage(`[data-testid=save-identify]`, "1", "Save the tenant details")
		p.js(`document.querySelector('[data-testid=retry-form] input[name=display_name]').value === 'Northwind Europe'`)
		p.js(`document.querySelector('[data-testid=retry-form] input[name=display_name]').labels[0].textContent.includes('Display name')`)
		p.js(`document.querySelector('[data-testid=retry-form] input[name=version]')?.type === 'hidden'`)
		restore()
		tryAgain(nil)
		p.toast("Tenant details saved")
		p.open(draft + "?step=1")
		p.js(`document.querySelector('#display_name').value === 'Northwind Europe'`)
	}
}
