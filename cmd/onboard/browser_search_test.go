package main

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// pressSlash presses "/" as a keyboard does: one keydown that carries its text, so a
// listener that cancels the keydown keeps the character out of the field (chromedp's
// KeyEvent sends the character as an event of its own, which no listener can cancel).
func pressSlash() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		down := input.DispatchKeyEventParams{Type: kb.KeyDown, Key: "/", Code: "Slash", Text: "/", UnmodifiedText: "/",
			WindowsVirtualKeyCode: 191, NativeVirtualKeyCode: 191}
		if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, down); err != nil {
			return err
		}
		up := input.DispatchKeyEventParams{Type: kb.KeyUp, Key: "/", Code: "Slash", WindowsVirtualKeyCode: 191, NativeVirtualKeyCode: 191}
		_, err := cdp.Call(ctx, t, input.DispatchKeyEvent, up)
		return err
	})
}

// TestBrowserSearch: as each acme role, "/" on a page focuses the top bar's search field
// (but not while typing in another field), the search lists the draft and its run grouped,
// with the members group only for the owner, and each hit opens its page; the draft's wizard
// links to its history in the audit log, for the owner only. A member of
// another workspace gets the 404 page.
func TestBrowserSearch(t *testing.T) {
	t.Parallel()
	base := startApp(t, nil)
	ids := matrixSeed(t, base, "owner@acme.test", "acme") // draft "Matrix", matrix.healthy.test, one verification run
	browser := newBrowser(t)
	for _, tc := range []struct {
		email   string
		members bool // may manage members and read the audit log: the owner
	}{
		{"viewer@acme.test", false},
		{"operator@acme.test", false},
		{"owner@acme.test", true},
	} {
		t.Run(tc.email, func(t *testing.T) {
			p := newSession(t, browser, base, tc.email)
			// Typing "/" into a field types it; it does not jump to the search.
			p.open("/admin/workspaces/acme/onboarding")
			p.click("#drafts-q")
			p.do("type / in the drafts search", pressSlash())
			p.js(`document.activeElement?.id === 'drafts-q' && document.querySelector('#drafts-q').value === '/'`)

			p.open("/admin/workspaces/acme/operations")
			p.do("press /", pressSlash())
			p.js(`document.activeElement?.dataset.testid === 'global-search' && document.activeElement.value === ''`)
			p.do("type the search", chromedp.KeyEvent("matrix"))
			if resp, err := chromedp.RunResponse(p.bounded(), chromedp.KeyEvent(kb.Enter)); err != nil || resp.Status != 200 {
				p.fail("search: %v %v", resp, err)
			}
			p.visible(`[data-testid=search-page]`)
			p.js(`location.pathname === '/admin/workspaces/acme/search' && new URLSearchParams(location.search).get('q') === 'matrix'`)
			p.js(`document.querySelector('[data-testid=search-drafts] [data-kind=draft][data-id="` + ids.draft + `"] mark')?.textContent === 'Matrix'`)
			p.js(`!!document.querySelector('[data-testid=search-runs] [data-kind=run][data-id="` + ids.run + `"]')`)
			p.js(`document.querySelector('[data-testid=global-search]').value === 'matrix'`)
			if got := eval[bool](p, `!!document.querySelector('[data-testid=search-members]')`); got != tc.members {
				p.fail("members group shown: %v, want %v", got, tc.members)
			}

			// Each hit opens its page: the draft its wizard, the run its page.
			p.submit(`[data-kind=draft][data-id="`+ids.draft+`"] a`, 200)
			p.js(`location.pathname === '/admin/workspaces/acme/onboarding/` + ids.draft + `'`)
			// The wizard links to the draft's own history for those who may read the audit log.
			p.visible(`[data-testid=checkpoint]`)
			if got := eval[bool](p, `!!document.querySelector('[data-testid=draft-history]')`); got != tc.members {
				p.fail("history link shown: %v, want %v", got, tc.members)
			}
			if tc.members {
				p.submit(`[data-testid=draft-history]`, 200)
				p.js(`location.search === '?draft=` + ids.draft + `'`)
				// Only this draft's entries: its creation, connection, verification and run.
				p.js(`(() => { const rows = [...document.querySelectorAll('[data-testid=audit-row]')];
					return rows.length >= 4 && rows.every(r => r.querySelector('[data-testid=audit-subject]')?.textContent === 'Matrix') &&
						rows.some(r => r.dataset.action === 'onboarding.draft.created'); })()`)
			}
			p.open("/admin/workspaces/acme/search?q=matrix")
			p.submit(`[data-kind=run][data-id="`+ids.run+`"] a`, 200)
			p.visible(`[data-testid=run-page]`)
			if tc.members {
				p.open("/admin/workspaces/acme/search?q=operator2")
				p.submit(`[data-testid=search-members] [data-kind=member] a`, 200)
				p.visible(`[data-testid=members-page]`)
			}
		})
	}
	t.Run("owner@globex.test", func(t *testing.T) {
		p := newSession(t, browser, base, "owner@globex.test")
		resp, err := chromedp.RunResponse(p.bounded(), chromedp.Navigate(base+"/admin/workspaces/acme/search?q=matrix"))
		if err != nil || resp.Status != 404 {
			p.fail("another workspace's search: %v %v, want 404", resp, err)
		}
		// Their own workspace's search finds none of acme's.
		p.open("/admin/workspaces/globex/search?q=matrix")
		p.visible(`[data-testid=search-drafts] [data-testid=search-none]`)
		p.js(`!document.querySelector('[data-id="` + ids.draft + `"]')`)
	})
}
