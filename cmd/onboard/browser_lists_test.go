package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/tenantops/onboard/internal/postgres/pgtest"
)

// TestBrowserLists: the list tables in Chromium. A chip's × removes its filter; Previous,
// Next and the numbered pages move through the list; the page size applies on change and is
// remembered; at a phone's width each row is a card with labels; an owner cancels selected
// drafts after the confirmation and reads the result per draft, and an operator sees no
// checkboxes and is refused (403) when posting anyway.
func TestBrowserLists(t *testing.T) {
	t.Parallel()
	base := startApp(t, map[string]string{"DATABASE_URL": pgtest.NewURL(t)})
	browser := newBrowser(t)
	owner := client(t, base, "owner@acme.test")
	for i := range 30 {
		createDraftAPI(t, owner, base, fmt.Sprintf("b0b00000-0000-4000-8000-%012d", i), fmt.Sprintf("Bulk%02d", i), fmt.Sprintf("b%02d.healthy.test", i))
	}
	list := "/admin/workspaces/acme/onboarding"
	rows := `document.querySelectorAll('[data-testid=draft-row]').length`
	o := newSession(t, browser, base, "owner@acme.test")

	t.Run("ChipRemoves", func(t *testing.T) {
		o.t = t
		o.open(list + "?q=bulk&lifecycle=draft")
		o.js(`document.querySelectorAll('[data-testid=filter-chip]').length === 2`)
		o.submit(`[data-testid=filter-chip][data-filter=q] [data-testid=chip-remove]`, 200)
		o.js(`!location.search.includes('q=') && location.search.includes('lifecycle=draft')`)
		o.js(`document.querySelectorAll('[data-testid=filter-chip]').length === 1 && document.querySelector('[data-testid=list-q]').value === ''`)
		o.submit(`[data-testid=filter-chip][data-filter=lifecycle] [data-testid=chip-remove]`, 200)
		o.js(`!document.querySelector('[data-testid=active-filters]') && location.search === ''`)
	})

	t.Run("PagesAndPerPage", func(t *testing.T) {
		o.t = t
		o.open(list + "?q=bulk&sort=name&dir=asc")
		o.js(rows + ` === 30 && document.querySelector('[data-testid=sort-name]').closest('th').getAttribute('aria-sort') === 'ascending'`)
		// The page size applies on change (nav.js) and the choice is remembered.
		choose := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Evaluate[any](`(() => { const s = document.querySelector('#drafts-per-page'); s.value = '25';
				s.dispatchEvent(new Event('change', {bubbles: true})); })()`)(ctx, t)
			return err
		})
		if resp, err := chromedp.RunResponse(o.bounded(), choose); err != nil || resp.Status != 200 {
			o.fail("choose 25 rows per page: %v", err)
		}
		o.js(rows + ` === 25 && location.search.includes('per_page=25')`)
		o.submit(`[data-testid=drafts-next]`, 200)
		o.js(rows + ` === 5 && document.querySelector('[data-testid=list-total]').innerText.includes('26–30 of 30')`)
		o.js(`document.querySelector('[data-testid=page-link][aria-current=page]').innerText.trim() === '2'`)
		o.submit(`[data-testid=drafts-prev]`, 200)
		o.js(rows + ` === 25 && document.querySelector('[data-testid=draft-row] a').innerText.includes('Bulk00')`)
		o.submit(`[data-testid=page-link][aria-label="Page 2"]`, 200)
		o.js(rows + ` === 5 && document.querySelector('[data-testid=draft-row] a').innerText.includes('Bulk25')`)
		// Sorting the other way from its header.
		o.submit(`[data-testid=sort-name]`, 200)
		o.js(`document.querySelector('[data-testid=sort-name]').closest('th').getAttribute('aria-sort') === 'descending' &&
			document.querySelector('[data-testid=draft-row] a').innerText.includes('Bulk29')`)
		o.open(list + "?q=bulk")
		o.js(rows + ` === 25 && document.querySelector('#drafts-per-page').value === '25'`)
		listShots(o, "drafts")
	})

	t.Run("PhoneStacked", func(t *testing.T) {
		o.t = t
		o.do("phone viewport", chromedp.EmulateViewport(390, 844))
		defer o.do("desktop viewport", chromedp.EmulateViewport(1280, 800))
		for _, path := range []string{list + "?q=bulk", "/admin/workspaces/acme/operations", "/admin/workspaces/acme/audit", "/admin/workspaces/acme/members"} {
			o.open(path)
			o.js(`document.documentElement.scrollWidth <= 390`)
			// Every row is a card: a block whose cells say their column.
			o.js(`(() => { const tr = document.querySelector('.table tbody tr');
				if (!tr) return true;
				const td = [...tr.querySelectorAll('td[data-label]')].find(c => c.dataset.label === 'Status' || c.dataset.label === 'Role' || c.dataset.label === 'Who');
				return getComputedStyle(tr).display === 'block' && (!td || getComputedStyle(td, '::before').content.includes(td.dataset.label)); })()`)
		}
		o.open(list + "?q=bulk")
		o.js(`getComputedStyle(document.querySelector('[data-testid=row-select]')).display !== 'none'`)
		o.shot("48-mobile-drafts", `[data-testid=drafts-table]`)
	})

	t.Run("BulkCancelOwner", func(t *testing.T) {
		o.t = t
		o.open(list + "?q=bulk&sort=name&dir=asc")
		o.js(`document.querySelector('[data-testid=bulk-cancel]').disabled === true`)
		o.click(`[data-testid=select-all]`)
		o.js(`document.querySelector('[data-testid=bulk-count]').innerText === '25 selected' &&
			[...document.querySelectorAll('[data-testid=row-select]')].every(b => b.checked)`)
		o.click(`[data-testid=select-all]`)
		o.js(`[...document.querySelectorAll('[data-testid=row-select]')].every(b => !b.checked) && document.querySelector('[data-testid=bulk-cancel]').disabled`)
		o.click(`[data-testid=draft-row]:nth-child(1) [data-testid=row-select]`)
		o.click(`[data-testid=draft-row]:nth-child(2) [data-testid=row-select]`)
		o.js(`document.querySelector('[data-testid=bulk-count]').innerText === '2 selected' && document.querySelector('[data-testid=select-all]').indeterminate`)
		// Cancelling in the dialog keeps everything as it was.
		o.click(`[data-testid=bulk-cancel]`)
		o.js(`document.querySelector('dialog.confirm-dialog')?.open === true`)
		o.click(`dialog.confirm-dialog button[value=cancel]`)
		o.js(`!document.querySelector('dialog.confirm-dialog')?.open && document.querySelector('[data-testid=bulk-count]').innerText === '2 selected'`)
		o.confirmSubmit(`[data-testid=bulk-cancel]`, 200)
		o.js(`document.querySelectorAll('[data-testid=bulk-result][data-outcome=cancelled]').length === 2 &&
			document.querySelector('[data-testid=bulk-results] h2').innerText.includes('2 of 2 cancelled')`)
		o.js(`location.search.includes('q=bulk') && [...document.querySelectorAll('[data-testid=draft-row]')].slice(0, 2).every(r => r.dataset.lifecycle === 'cancelled')`)
		o.shot("47-drafts-bulk-results")
		listShots(o, "drafts-bulk-results")
	})

	t.Run("BulkCancelOperator", func(t *testing.T) {
		op := newSession(t, browser, base, "operator@acme.test")
		op.open(list + "?q=bulk")
		op.js(`!document.querySelector('[data-testid=bulk-cancel]') && !document.querySelector('[data-testid=select-all]') &&
			getComputedStyle(document.querySelector('[data-testid=row-select]').closest('td')).display === 'none'`)
		id := eval[string](op, `document.querySelector('[data-testid=draft-row][data-lifecycle=draft]').dataset.draftId`)
		status := eval[int](op, fmt.Sprintf(`(async () => {
			const f = new URLSearchParams({confirm: 'yes', draft: %q});
			const r = await fetch(%q, {method: 'POST', body: f, redirect: 'manual'});
			return r.status; })()`, id+":1", list+"/cancellations"))
		if status != 403 {
			t.Errorf("Cancel selected as operator = %d, want 403", status)
		}
	})

	t.Run("Shots", func(t *testing.T) {
		if os.Getenv("LIST_SHOTS") == "" {
			t.Skip("LIST_SHOTS names no folder")
		}
		o.t = t
		s := &apiSetup{api: newAPIClient(t, base), owner: owner}
		for _, d := range []string{"shots-a.healthy.test", "shots-b.missing-perms.test", "shots-c.slow.test"} {
			s.startVerification(t, d)
		}
		for _, p := range []struct{ name, path string }{
			{"operations", "/admin/workspaces/acme/operations?sort=type&dir=asc"},
			{"audit", "/admin/workspaces/acme/audit?q=bulk&per_page=25&page=2"},
			{"members", "/admin/workspaces/acme/members?sort=role"},
		} {
			o.open(p.path)
			listShots(o, p.name)
		}
	})
}

// listShots saves full-page screenshots of the tab's page at 1280 and 390 px, light and dark,
// when LIST_SHOTS names a folder (to look at them; the tests do not need them). On a phone
// it saves the screen that shows scrollTo's first element (default: the page's first).
func listShots(p *page, name string, scrollTo ...string) {
	dir := os.Getenv("LIST_SHOTS")
	if dir == "" {
		return
	}
	p.t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	for _, w := range []int64{1280, 390} {
		for _, scheme := range []string{"light", "dark"} {
			if _, err := chromedp.Call(p.bounded(), emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
				p.t.Fatal(err)
			}
			p.do("viewport", chromedp.EmulateViewport(w, 844))
			// The sidebar slides away at a phone's width: shoot what is left when it has.
			p.js(`document.getAnimations().every(a => !(a instanceof CSSTransition))`)
			shot := chromedp.FullScreenshot(100)
			if w < 400 { // a phone: one screen, which a full page would shrink to nothing
				shot = chromedp.CaptureScreenshot()
				if len(scrollTo) > 0 {
					p.do("scroll to "+scrollTo[0], chromedp.ScrollIntoView(chromedp.CSS(scrollTo[0])))
				}
			}
			png, err := chromedp.Run(p.bounded(), shot)
			if err != nil {
				p.t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d-%s.png", name, w, scheme)), png, 0o644); err != nil {
				p.t.Fatal(err)
			}
		}
	}
	p.do("desktop viewport", chromedp.EmulateViewport(1280, 800))
	_, _ = chromedp.Call(p.bounded(), emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-reduced-motion", Value: "reduce"}}}) // as newSession has it
}
