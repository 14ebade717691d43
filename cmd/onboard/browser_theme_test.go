package main

import (
	"fmt"
	"testing"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// themeAtBodyJS records, in every document of the tab, the theme <html> carries when <body>
// is parsed: set by then, the first paint already has the chosen palette (no flash).
const themeAtBodyJS = `new MutationObserver((_, o) => {
	if (!document.body) return;
	window.themeAtBody = document.documentElement.dataset.theme || 'system';
	o.disconnect();
}).observe(document, {childList: true, subtree: true});`

// TestBrowserThemeSwitch: the sidebar's labelled theme control chooses light, dark or the
// system's theme; an explicit choice overrides prefers-color-scheme, is remembered by the
// browser across reloads and pages, and is on <html> before <body> is parsed; "system" follows
// the emulated preference.
func TestBrowserThemeSwitch(t *testing.T) {
	t.Parallel()
	base := startApp(t, nil)
	p := newSession(t, newBrowser(t), base, "owner@acme.test")
	if _, err := chromedp.Call(p.ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: themeAtBodyJS}); err != nil {
		t.Fatal(err)
	}
	// The body's background is --bg: #f7f7f8 light, #0e0e11 dark.
	const light, dark = "rgb(247, 247, 248)", "rgb(14, 14, 17)"
	shows := func(bg string) {
		t.Helper()
		p.js(fmt.Sprintf(`getComputedStyle(document.body).backgroundColor === %q`, bg))
	}
	choose := func(theme string) {
		t.Helper()
		p.js(fmt.Sprintf(`(() => { const s = document.querySelector('[data-testid=theme-select]');
			s.value = %q; s.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`, theme))
	}
	chosen := func(theme string) {
		t.Helper()
		p.js(fmt.Sprintf(`document.querySelector('[data-testid=theme-select]').value === %q && window.themeAtBody === %q`, theme, theme))
	}

	p.colorScheme("light")
	p.open("/admin/profile")
	p.js(`document.getElementById('theme-select').labels[0].textContent.trim() === 'Theme'`)
	chosen("system")
	shows(light)

	// Dark on a light system: dark now, after a reload and on another page.
	choose("dark")
	shows(dark)
	p.reload()
	chosen("dark")
	shows(dark)
	p.open("/admin/workspaces/acme/onboarding")
	chosen("dark")
	shows(dark)
	p.shot("61-theme-dark")
	// The dark palette chosen on a light system passes axe-core as the system's dark does
	// (contrast included), theme control too.
	if v := p.axe(); len(v) > 0 {
		t.Errorf("axe-core, dark chosen on a light system: %+v", v)
	}

	// Light on a dark system.
	p.colorScheme("dark")
	shows(dark)
	choose("light")
	shows(light)
	p.reload()
	chosen("light")
	shows(light)

	// System follows the emulated preference, also after a reload.
	choose("system")
	shows(dark)
	p.colorScheme("light")
	shows(light)
	p.reload()
	chosen("system")
	shows(light)
	p.colorScheme("dark")
	shows(dark)
}
