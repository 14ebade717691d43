package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// metricSeries returns the label sets of the HTTP request histogram on the metrics endpoint.
func metricSeries(t *testing.T, metrics string) (series []string, size int) {
	t.Helper()
	resp, err := http.Get(metrics)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, m := range regexp.MustCompile(`(?m)^onboard_http_request_duration_seconds_count(\{[^}]*\})`).FindAllSubmatch(body, -1) {
		series = append(series, string(m[1]))
	}
	slices.Sort(series)
	return series, len(body)
}

// TestMetricsCardinality: made-up methods and raw paths never grow /metrics; every label value
// is bounded (known method or "other", route pattern, "unmatched").
func TestMetricsCardinality(t *testing.T) {
	t.Parallel()
	base, metrics := startAppMetrics(t, nil)
	paths := func(i int) []string {
		return []string{
			fmt.Sprintf("/nowhere-%d", i),
			fmt.Sprintf("/static/missing-%d.js", i),
			fmt.Sprintf("/admin/workspaces/ws%d/onboarding", i),
			fmt.Sprintf("/api/v1/workspaces/ws%d/onboarding/drafts/%d", i, i),
			fmt.Sprintf("/admin/workspaces/ws%d/nowhere/%d", i, i),
		}
	}
	send := func(method, path string) {
		req, err := http.NewRequest(method, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// Every label set the loop below can produce exists once warmed up.
	for _, p := range paths(0) {
		send("WARMUP", p)
		send(http.MethodGet, p)
	}
	before, sizeBefore := metricSeries(t, metrics)
	for i := range 300 {
		p := paths(i + 1)
		send(fmt.Sprintf("MADEUP%d", i), p[i%len(p)])
	}
	after, sizeAfter := metricSeries(t, metrics)
	if !slices.Equal(before, after) {
		t.Errorf("request histogram series grew from %d to %d:\nbefore %q\nafter  %q", len(before), len(after), before, after)
	}
	for _, s := range after {
		if regexp.MustCompile(`MADEUP|WARMUP|nowhere-|missing-|ws[0-9]`).MatchString(s) {
			t.Errorf("unbounded label value in %s", s)
		}
	}
	t.Logf("/metrics %d → %d bytes, %d series", sizeBefore, sizeAfter, len(after))
}

// TestSecurityHeaders: every response, errors and static files included, carries the CSP and
// the other browser protections, no header twice, and no HSTS when not served over HTTPS
// (TestStrictTransportSecurity).
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	base := startApp(t, nil)
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
		"X-Frame-Options":         "DENY",
	}
	owner := client(t, base, "owner@acme.test")
	cases := []struct {
		name, method, path string
		c                  *http.Client
		origin             string
	}{
		{"LoginPage", http.MethodGet, "/admin/login", http.DefaultClient, ""},
		{"Healthz", http.MethodGet, "/healthz", http.DefaultClient, ""},
		{"Static", http.MethodGet, "/static/css/app.css", http.DefaultClient, ""},
		{"StaticMissing", http.MethodGet, "/static/nothing.js", http.DefaultClient, ""},
		{"OpenAPI", http.MethodGet, "/api/v1/openapi.yaml", http.DefaultClient, ""},
		{"Unauthenticated", http.MethodGet, "/api/v1/workspaces/acme/onboarding/drafts", http.DefaultClient, ""},
		{"NotFound", http.MethodGet, "/nowhere", http.DefaultClient, ""},
		{"Page", http.MethodGet, "/admin/workspaces/acme/onboarding", owner, ""},
		{"API", http.MethodGet, "/api/v1/workspaces/acme/onboarding/drafts", owner, ""},
		{"CrossOriginRefused", http.MethodPost, "/api/v1/workspaces/acme/onboarding/drafts", owner, "https://evil.example"},
		{"MethodNotAllowed", http.MethodPut, "/admin/login", http.DefaultClient, ""},
		// Unknown paths under a workspace once sent the session cookie twice.
		{"UnknownInWorkspace", http.MethodGet, "/admin/workspaces/acme/nope", owner, ""},
		{"UnknownInWorkspaceAPI", http.MethodGet, "/api/v1/workspaces/acme/nope", owner, ""},
		{"MethodNotAllowedInWorkspace", http.MethodPut, "/admin/workspaces/acme/onboarding", owner, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, base+tc.path, nil)
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			resp, err := tc.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			for k, v := range want {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s %s (%d): %s = %q, want %q", tc.method, tc.path, resp.StatusCode, k, got, v)
				}
			}
			for k, vs := range resp.Header {
				if len(vs) > 1 {
					t.Errorf("%s %s (%d): %s sent %d times: %q", tc.method, tc.path, resp.StatusCode, k, len(vs), vs)
				}
			}
			if hsts := resp.Header.Get("Strict-Transport-Security"); hsts != "" {
				t.Errorf("%s %s: Strict-Transport-Security %q over plain HTTP without PUBLIC_URL https", tc.method, tc.path, hsts)
			}
		})
	}
}

// TestStrictTransportSecurity: with Secure cookies or an https PUBLIC_URL the app is meant to
// be reached over HTTPS only, and every response says so.
func TestStrictTransportSecurity(t *testing.T) {
	t.Parallel()
	for name, env := range map[string]map[string]string{
		"SecureCookies": {"COOKIE_SECURE": "true", "WORKERS": "0"},
		"PublicURL":     {"PUBLIC_URL": "https://onboard.example.com", "WORKERS": "0"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			base := startApp(t, env)
			for _, p := range []string{"/healthz", "/admin/login", "/nowhere", "/static/css/app.css"} {
				_, _, h := get(t, http.DefaultClient, base+p, "")
				if got := h.Get("Strict-Transport-Security"); got != "max-age=31536000; includeSubDomains" {
					t.Errorf("%s: Strict-Transport-Security = %q, want max-age=31536000; includeSubDomains", p, got)
				}
			}
		})
	}
}

// TestRefusalsObserved: a cross-origin write refused by the CSRF check is answered like every
// other error (a problem document for the API, the error page for browsers) and counted in
// the request metrics like any other request.
func TestRefusalsObserved(t *testing.T) {
	t.Parallel()
	base, metrics := startAppMetrics(t, map[string]string{"WORKERS": "0"})
	owner := client(t, base, "owner@acme.test")
	count403 := func() int {
		series, _ := metricSeries(t, metrics)
		n := 0
		for _, s := range series {
			if strings.Contains(s, `status="403"`) {
				n++
			}
		}
		return n
	}
	if n := count403(); n != 0 {
		t.Fatalf("403 series before = %d, want 0", n)
	}
	for _, tc := range []struct {
		path, accept, wantType, wantBody string
	}{
		{"/api/v1/workspaces/acme/onboarding/drafts", "application/json", "application/problem+json", `"title":"Forbidden"`},
		{"/admin/workspaces/acme/onboarding", "text/html", "text/html; charset=utf-8", "came from another site"},
	} {
		req, _ := http.NewRequest(http.MethodPost, base+tc.path, strings.NewReader(`{}`))
		req.Header.Set("Accept", tc.accept)
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := owner.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Content-Type") != tc.wantType || !strings.Contains(string(body), tc.wantBody) {
			t.Errorf("cross-origin POST %s = %d %q %.200q; want 403 %s containing %q", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), body, tc.wantType, tc.wantBody)
		}
	}
	if n := count403(); n == 0 {
		t.Error("the refused requests are not in onboard_http_request_duration_seconds: want a 403 series")
	}
}

// TestStaticNoListing: a directory under /static/ is the same 404 as a missing file.
func TestStaticNoListing(t *testing.T) {
	t.Parallel()
	base := startApp(t, nil)
	code, missing, _ := get(t, http.DefaultClient, base+"/static/nothing.js", "")
	if code != http.StatusNotFound {
		t.Fatalf("missing file = %d, want 404", code)
	}
	for _, p := range []string{"/static/", "/static/css/", "/static/css", "/static/vendor/", "/static/js"} {
		code, body, _ := get(t, http.DefaultClient, base+p, "")
		if code != http.StatusNotFound || body != missing {
			t.Errorf("%s = %d %.80q, want the 404 of a missing file", p, code, body)
		}
	}
	if code, body, h := get(t, http.DefaultClient, base+"/static/js/live.js", ""); code != http.StatusOK || body == "" || !strings.Contains(h.Get("Content-Type"), "javascript") {
		t.Errorf("/static/js/live.js = %d %s, want 200 JavaScript", code, h.Get("Content-Type"))
	}
}

// TestLiveOrigin: /live accepts only the app's own origin, by scheme, host and port: on a
// loopback address without PUBLIC_URL, that port on 127.0.0.1, localhost and [::1]; with
// PUBLIC_URL, that URL's origin and no other. Never the request's Host.
func TestLiveOrigin(t *testing.T) {
	t.Parallel()
	dial := func(t *testing.T, base, origin string, host ...string) int {
		t.Helper()
		c := client(t, base, "owner@acme.test")
		conn, resp, err := dialLiveHost(t, base, c, "draft="+newUUID()+"&rev=0", origin, host...)
		if err == nil {
			conn.CloseNow()
			return http.StatusSwitchingProtocols
		}
		if resp == nil {
			t.Fatalf("dial with Origin %q: %v", origin, err)
		}
		return resp.StatusCode
	}
	t.Run("Loopback", func(t *testing.T) {
		t.Parallel()
		base := startApp(t, nil)
		u, _ := url.Parse(base)
		for origin, want := range map[string]int{
			base:                                             http.StatusSwitchingProtocols,
			"HTTP://" + strings.ToUpper(u.Host):              http.StatusSwitchingProtocols,
			"http://localhost:" + u.Port():                   http.StatusSwitchingProtocols,
			"http://[::1]:" + u.Port():                       http.StatusSwitchingProtocols,
			"https://" + u.Host:                              http.StatusForbidden, // scheme differs
			"http://" + u.Hostname() + ":1":                  http.StatusForbidden, // port differs
			"http://" + u.Hostname():                         http.StatusForbidden, // default port
			"http://127.0.0.2:" + u.Port():                   http.StatusForbidden, // host differs
			"null":                                           http.StatusForbidden,
			"http://" + u.Host + "/path":                     http.StatusForbidden,
			"http://" + u.Host + ".evil.example:" + u.Port(): http.StatusForbidden,
		} {
			if got := dial(t, base, origin); got != want {
				t.Errorf("Origin %q: HTTP %d, want %d", origin, got, want)
			}
		}
	})
	t.Run("ForgedHost", func(t *testing.T) {
		t.Parallel()
		// A page on a name that points at this server (DNS rebinding, a shared proxy) sends
		// its own Origin and that name as Host: they match, and must not be enough.
		base := startApp(t, nil)
		for _, host := range []string{"evil.example:8080", "evil.example"} {
			if got := dial(t, base, "http://"+host, host); got != http.StatusForbidden {
				t.Errorf("Host %q with Origin http://%s: HTTP %d, want 403", host, host, got)
			}
		}
	})
	t.Run("PublicURL", func(t *testing.T) {
		t.Parallel()
		base := startApp(t, map[string]string{"PUBLIC_URL": "https://Onboard.Example:443/"})
		for origin, want := range map[string]int{
			"https://onboard.example":     http.StatusSwitchingProtocols,
			"https://onboard.example:443": http.StatusSwitchingProtocols,
			"http://onboard.example":      http.StatusForbidden,
			"https://onboard.example:444": http.StatusForbidden,
			base:                          http.StatusForbidden, // the listen address is not the public one
		} {
			if got := dial(t, base, origin); got != want {
				t.Errorf("Origin %q: HTTP %d, want %d", origin, got, want)
			}
		}
	})
	t.Run("PublicURLBeforeHost", func(t *testing.T) {
		t.Parallel()
		base := startApp(t, map[string]string{"PUBLIC_URL": "https://onboard.example"})
		if got := dial(t, base, "https://evil.example", "evil.example"); got != http.StatusForbidden {
			t.Errorf("Host and Origin evil.example with PUBLIC_URL set: HTTP %d, want 403", got)
		}
	})
	t.Run("BadPublicURL", func(t *testing.T) {
		t.Parallel()
		for _, bad := range []string{"onboard.example", "ftp://onboard.example", "https://onboard.example/app", "https://"} {
			err := run(t.Context(), []string{"onboard", "serve", "-public-url", bad}, func(string) string { return "" }, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "public-url") {
				t.Errorf("-public-url %q: %v, want a refusal", bad, err)
			}
		}
	})
}

// TestBadPathParams: a workspace slug outside the slug grammar or an id that is not a GUID
// (invalid UTF-8, NUL, too long, upper case…) is the same 404 as a well-formed id of nothing,
// on the API and the pages, for reads and writes; never a 500.
func TestBadPathParams(t *testing.T) {
	t.Parallel()
	base := startApp(t, nil)
	owner := client(t, base, "owner@acme.test")
	do := func(method, path, accept string) (int, string) {
		t.Helper()
		var body io.Reader
		ct := ""
		switch {
		case method == http.MethodGet:
		case strings.Contains(path, "/bootstrap"):
			body, ct = strings.NewReader(`{"operations":["inventory_sync"]}`), "application/json"
		case method == http.MethodPatch:
			body, ct = strings.NewReader(`{"display_name":"x"}`), "application/json"
		case strings.HasPrefix(path, "/api/"):
			body, ct = strings.NewReader(`{}`), "application/json"
		default:
			body, ct = strings.NewReader("version=1&display_name=x&primary_domain=x.test&step=2&confirm=yes"), "application/x-www-form-urlencoded"
		}
		req, err := http.NewRequest(method, base+path, body)
		if err != nil {
			t.Fatal(err)
		}
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		req.Header.Set("If-Match", `"1"`)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := owner.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	badSlugs := []string{"%FF", "a%00b", "ACME", "acme%20", "-acme", strings.Repeat("a", 64), "%C3%A9", "acme%2Fx"}
	badIDs := []string{"%FF", "not-a-guid", newUUID() + "%00", "%00", strings.Repeat("f", 200), "{" + newUUID() + "}", newUUID() + "0"}
	type route struct{ method, pattern, accept string }
	routes := []route{
		{http.MethodGet, "/api/v1/workspaces/{ws}/onboarding/drafts", ""},
		{http.MethodPost, "/api/v1/workspaces/{ws}/onboarding/drafts", ""},
		{http.MethodGet, "/api/v1/workspaces/{ws}/onboarding/drafts/{id}", ""},
		{http.MethodPatch, "/api/v1/workspaces/{ws}/onboarding/drafts/{id}", ""},
		{http.MethodPost, "/api/v1/workspaces/{ws}/onboarding/drafts/{id}/verification", ""},
		{http.MethodPost, "/api/v1/workspaces/{ws}/onboarding/drafts/{id}/bootstrap", ""},
		{http.MethodPost, "/api/v1/workspaces/{ws}/onboarding/drafts/{id}/activation", ""},
		{http.MethodPost, "/api/v1/workspaces/{ws}/onboarding/drafts/{id}/cancellation", ""},
		{http.MethodGet, "/api/v1/workspaces/{ws}/operation-runs", ""},
		{http.MethodGet, "/api/v1/workspaces/{ws}/operation-runs?draft={id}", ""},
		{http.MethodGet, "/api/v1/workspaces/{ws}/operation-runs/{id}", ""},
		{http.MethodGet, "/admin/workspaces/{ws}/onboarding", "text/html"},
		{http.MethodPost, "/admin/workspaces/{ws}/onboarding", "text/html"},
		{http.MethodGet, "/admin/workspaces/{ws}/onboarding/{id}", "text/html"},
		{http.MethodGet, "/admin/workspaces/{ws}/onboarding/{id}/checkpoint", "text/html"},
		{http.MethodPost, "/admin/workspaces/{ws}/onboarding/{id}/identify", "text/html"},
		{http.MethodPost, "/admin/workspaces/{ws}/onboarding/{id}/step", "text/html"},
		{http.MethodPost, "/admin/workspaces/{ws}/onboarding/{id}/cancel", "text/html"},
		{http.MethodGet, "/admin/workspaces/{ws}/operations", "text/html"},
		{http.MethodGet, "/admin/workspaces/{ws}/operations/{id}", "text/html"},
		{http.MethodGet, "/admin/workspaces/{ws}/audit", "text/html"},
	}
	fill := func(pattern, ws, id string) string {
		return strings.NewReplacer("{ws}", ws, "{id}", id).Replace(pattern)
	}
	for _, rt := range routes {
		t.Run(rt.method+" "+rt.pattern, func(t *testing.T) {
			// The reference: a well-formed slug or id of nothing.
			refCode, refBody := do(rt.method, fill(rt.pattern, "no-such-ws", newUUID()), rt.accept)
			if refCode != http.StatusNotFound {
				t.Fatalf("unknown workspace = %d, want 404", refCode)
			}
			for _, ws := range badSlugs {
				if code, body := do(rt.method, fill(rt.pattern, ws, newUUID()), rt.accept); code != refCode || body != refBody {
					t.Errorf("workspace %q: %d %.200q, want the 404 of an unknown workspace", ws, code, body)
				}
			}
			if !strings.Contains(rt.pattern, "{id}") {
				return
			}
			refCode, refBody = do(rt.method, fill(rt.pattern, "acme", newUUID()), rt.accept)
			if refCode != http.StatusNotFound {
				t.Fatalf("unknown id = %d, want 404", refCode)
			}
			for _, id := range badIDs {
				if code, body := do(rt.method, fill(rt.pattern, "acme", id), rt.accept); code != refCode || body != refBody {
					t.Errorf("id %q: %d %.200q, want the 404 of an unknown id", id, code, body)
				}
			}
		})
	}
}

// TestServeAddrNeedsPublicURL: without PUBLIC_URL, serve listens on a loopback address only
// (the /live Origin check has nothing else to compare with); the worker serves no web.
func TestServeAddrNeedsPublicURL(t *testing.T) {
	t.Parallel()
	parse := func(withWeb bool, env map[string]string) error {
		_, err := parseServeConfig(nil, func(k string) string { return env[k] }, io.Discard, withWeb)
		return err
	}
	for _, addr := range []string{"0.0.0.0:8080", ":8080", "[::]:0", "192.168.1.20:8080", "onboard.example:80"} {
		err := parse(true, map[string]string{"ADDR": addr})
		if err == nil || !strings.Contains(err.Error(), "PUBLIC_URL") {
			t.Errorf("ADDR %s without PUBLIC_URL: %v, want a refusal that names PUBLIC_URL", addr, err)
		}
		if err := parse(true, map[string]string{"ADDR": addr, "PUBLIC_URL": "https://onboard.example.com"}); err != nil {
			t.Errorf("ADDR %s with PUBLIC_URL: %v", addr, err)
		}
		if err := parse(false, map[string]string{"ADDR": addr}); err != nil {
			t.Errorf("worker, ADDR %s: %v", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:8080", "127.0.0.1:0", "localhost:8080", "[::1]:8080", ""} {
		env := map[string]string{"ADDR": addr}
		if addr == "" {
			env = nil // the default, 127.0.0.1:8080
		}
		if err := parse(true, env); err != nil {
			t.Errorf("ADDR %q without PUBLIC_URL: %v, want it served", addr, err)
		}
	}
	if err := parse(true, map[string]string{"ADDR": "no-port"}); err == nil {
		t.Error("ADDR no-port: nil, want an error")
	}
}

// TestLiveOrigins: the origins /live accepts come from PUBLIC_URL or the bound address.
func TestLiveOrigins(t *testing.T) {
	t.Parallel()
	bound := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 41234}
	if got, want := liveOrigins("", bound), []string{"http://127.0.0.1:41234", "http://localhost:41234", "http://[::1]:41234"}; !slices.Equal(got, want) {
		t.Errorf("loopback: %q, want %q", got, want)
	}
	if got, want := liveOrigins("https://onboard.example.com", bound), []string{"https://onboard.example.com"}; !slices.Equal(got, want) {
		t.Errorf("PUBLIC_URL: %q, want %q", got, want)
	}
}
