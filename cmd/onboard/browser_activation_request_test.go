package main

import (
	"fmt"
	"testing"
	"time"
)

// TestBrowserActivationRequest: on a ready draft an operator sees "Request activation" and
// sends it; a second operator's open wizard loses the button and shows who asked, live; the
// owner, on another page, gets the notification in the bell live, follows it to the wizard
// and sees who requested beside the Activate button; a viewer sees the request but no form.
func TestBrowserActivationRequest(t *testing.T) {
	t.Parallel()
	base := startApp(t, nil)
	seed := &crawlAPI{t: t, c: client(t, base, "owner@acme.test"), base: base + "/api/v1/workspaces/acme"}
	id := seed.start("Fabrikam Requests", "fabrikam-requests.healthy.test")
	seed.verify(id)
	seed.waitState(id, "ready_for_activation")
	wizard := wizardPath("acme", id)

	browser := newBrowser(t)
	owner := newSession(t, browser, base, "owner@acme.test")
	owner.open("/admin/workspaces/acme/onboarding")
	owner.liveState("live", 10*time.Second)
	owner.text(`[data-testid=unread-count]`, "1")
	owner.markDocument()
	if eval[bool](owner, `!!document.querySelector('[data-testid=request-activation]')`) {
		owner.fail("the drafts list offers a request")
	}
	other := newSession(t, browser, base, "operator2@acme.test")
	other.open(wizard)
	other.liveState("live", 10*time.Second)
	other.visible(`[data-testid=request-activation]`)
	other.markDocument()
	viewer := newSession(t, browser, base, "viewer@acme.test")
	viewer.open(wizard)
	if eval[bool](viewer, `!!document.querySelector('[data-testid=request-activation]')`) {
		viewer.fail("a viewer is offered Request activation")
	}

	operator := newSession(t, browser, base, "operator@acme.test")
	operator.open(wizard)
	operator.text(`[data-testid=activate-who]`, "Workspace owners activate the tenant.")
	operator.submit(`[data-testid=request-activation]`, 200)
	operator.toast("The owners were asked to activate")
	operator.text(`[data-testid=activation-requested-by]`, "operator@acme.test")
	if eval[bool](operator, `!!document.querySelector('[data-testid=request-activation]')`) {
		operator.fail("the request is offered again while one is open")
	}

	// The other operator's tab follows without a reload: no second request can be made.
	other.jsWithin(10*time.Second, `!document.querySelector('[data-testid=request-activation]') &&
		document.querySelector('[data-testid=activation-requested-by]')?.innerText === 'operator@acme.test'`)
	other.stillSameDocument()
	other.noBanner()

	// The owner's bell counts it and lists it, live; its link leads to the wizard.
	owner.jsWithin(10*time.Second, `[...document.querySelectorAll('[data-testid=bell-item] a')].some(a => a.textContent.includes('Activation requested: Fabrikam Requests'))`)
	// Unread: the verification the owner started, and the request.
	owner.text(`[data-testid=unread-count]`, "2")
	owner.stillSameDocument()
	owner.click(`[data-testid=notifications-link]`)
	link := fmt.Sprintf(`[data-testid=bell-item] a[href=%q]`, wizard)
	owner.visible(link)
	owner.submit(link, 200)
	owner.text(`[data-testid=activation-requested-by]`, "operator@acme.test")
	owner.visible(`[data-testid=activate]`)
	owner.shot("activation-requested-owner", `[data-testid=activation-requested]`)

	viewer.jsWithin(10*time.Second, `document.querySelector('[data-testid=activation-requested-by]')?.innerText === 'operator@acme.test'`)
}
