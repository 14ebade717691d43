package main

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestPages checks the page handlers' HTTP contract without a browser: the poll fallback's
// ETag and 304, filters validated against the vocabulary, form refusals and 404/403.
func TestPages(t *testing.T) {
	t.Parallel()
	base := startApp(t, nil)
	owner := client(t, base, "owner@acme.test")
	viewer := client(t, base, "viewer@acme.test")
	globex := client(t, base, "owner@globex.test")
	id := createDraftAPI(t, owner, base, "c0ffee00-1d3e-4f50-8a9b-0c1d2e3f4a5b", "Tailspin", "tailspin.healthy.test")
	wizard := base + "/admin/workspaces/acme/onboarding/" + id

	t.Run("CheckpointPoll", func(t *testing.T) { pagesCheckpointPoll(t, base, id, wizard, owner, viewer, globex) })
	t.Run("Filters", func(t *testing.T) { pagesFilters(t, base, id, wizard, owner, viewer, globex) })
	t.Run("Forms", func(t *testing.T) { pagesForms(t, base, id, wizard, owner, viewer, globex) })
}

func pagesCheckpointPoll(t *testing.T, base, id, wizard string, owner, viewer, globex *http.Client) {
	code, body, h := get(t, owner, wizard+"/checkpoint", "text/html")
	tag := h.Get("ETag")
	if code != 200 || !regexp.MustCompile(`^"r\d+-owner"$`).MatchString(tag) || h.Get("Cache-Control") != "no-cache" {
		t.Fatalf("poll = %d ETag %q Cache-Control %q, want 200 \"r<rev>-owner\" no-cache", code, tag, h.Get("Cache-Control"))
	}
	if !strings.HasPrefix(body, `<section id="checkpoint"`) || !strings.Contains(body, `data-draft-id="`+id+`"`) || strings.Contains(body, "<html") {
		t.Fatalf("poll body is not the checkpoint fragment alone: %.200s", body)
	}
	req, _ := http.NewRequest(http.MethodGet, wizard+"/checkpoint", nil)
	req.Header.Set("If-None-Match", tag)
	resp, err := owner.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified || len(b) != 0 {
		t.Fatalf("poll with current If-None-Match = %d with %d bytes, want 304 empty", resp.StatusCode, len(b))
	}
	_, vbody, vh := get(t, viewer, wizard+"/checkpoint", "text/html")
	if vh.Get("ETag") == tag || strings.Contains(vbody, "<form") {
		t.Fatalf("viewer poll: ETag %q (owner's %q), forms present: %v", vh.Get("ETag"), tag, strings.Contains(vbody, "<form"))
	}
	for _, u := range []string{wizard, wizard + "/checkpoint", base + "/admin/workspaces/acme/onboarding/00000000-0000-4000-8000-000000000000"} {
		if code, _, _ := get(t, globex, u, "text/html"); code != 404 {
			t.Errorf("GET %s as a non-member = %d, want 404", u, code)
		}
	}
}

func pagesFilters(t *testing.T, base, id, wizard string, owner, viewer, globex *http.Client) {
	for u, want := range map[string]int{
		"/admin/workspaces/acme/onboarding?lifecycle=draft":    200,
		"/admin/workspaces/acme/onboarding?lifecycle=bogus":    400,
		"/admin/workspaces/acme/operations?type=verify_access": 200,
		"/admin/workspaces/acme/operations?type=bogus":         400,
		"/admin/workspaces/acme/operations?status=running":     200,
		"/admin/workspaces/acme/operations?outcome=maybe":      400,
		"/admin/workspaces/acme/operations?draft=" + id:        200,
		"/admin/workspaces/acme/operations?draft=not-a-draft":  400,
		"/admin/workspaces/acme/operations/" + id:              404, // a draft id is no run id
		"/admin/workspaces/globex/operations":                  404,
	} {
		if code, _, _ := get(t, owner, base+u, "text/html"); code != want {
			t.Errorf("GET %s = %d, want %d", u, code, want)
		}
	}
	_, body, _ := get(t, owner, base+"/admin/workspaces/acme/onboarding?lifecycle=draft", "text/html")
	if !strings.Contains(body, "Tailspin") || !strings.Contains(body, `class="chip-count"`) {
		t.Error("the draft filter lacks the draft or the counts")
	}
}

func pagesForms(t *testing.T, base, id, wizard string, owner, viewer, globex *http.Client) {
	code, body, _ := postForm(t, owner, base+"/admin/workspaces/acme/onboarding", url.Values{"tenant_id": {"nope"}, "display_name": {"Typed name"}, "primary_domain": {"typed.test"}})
	if code != 422 || !strings.Contains(body, `data-testid="error-tenant_id"`) || !strings.Contains(body, `value="Typed name"`) {
		t.Errorf("create with a bad tenant id = %d, want 422 with the message and the typed values", code)
	}
	code, _, h := postForm(t, owner, base+"/admin/workspaces/acme/onboarding", url.Values{"tenant_id": {"c0ffee00-1d3e-4f50-8a9b-0c1d2e3f4a5b"}, "display_name": {"Tailspin"}, "primary_domain": {"tailspin.healthy.test"}})
	if code != 303 || h.Get("Location") != "/admin/workspaces/acme/onboarding/"+id {
		t.Errorf("create for a tenant with an open draft = %d → %q, want 303 to its draft", code, h.Get("Location"))
	}
	if _, body, _ := get(t, owner, wizard, "text/html"); !strings.Contains(body, "Resumed the open draft for this tenant") {
		t.Error("no resume toast after the redirect")
	}
	if _, body, _ := get(t, owner, wizard, "text/html"); strings.Contains(body, "Resumed the open draft") {
		t.Error("the toast was shown twice")
	}
	for _, tc := range []struct {
		c      *http.Client
		action string
		form   url.Values
		want   int
	}{
		{owner, "/identify", url.Values{"display_name": {"X"}}, 400},                     // no version
		{owner, "/identify", url.Values{"version": {"abc"}, "display_name": {"X"}}, 400}, // garbage version
		{viewer, "/identify", url.Values{"display_name": {"X"}}, 403},                    // 403 before 400
		{globex, "/identify", url.Values{"version": {"1"}}, 404},                         // non-member
		{owner, "/cancel", url.Values{"version": {"1"}}, 400},                            // no confirmation
		{owner, "/identify", url.Values{"version": {"1"}, "display_name": {""}, "primary_domain": {"a.test"}}, 422},
		{owner, "/identify", url.Values{"version": {"999"}, "display_name": {"Y"}, "primary_domain": {"a.test"}}, 409},
		{owner, "/verification", url.Values{"version": {"1"}}, 409}, // no connection: blocked
	} {
		code, body, _ := postForm(t, tc.c, wizard+tc.action, tc.form)
		if code != tc.want {
			t.Errorf("POST %s %v = %d, want %d", tc.action, tc.form, code, tc.want)
		}
		if code == 409 && tc.action == "/verification" && !strings.Contains(body, "No provider connection is attached yet.") {
			t.Error("blocked verification lacks the reason in words")
		}
	}
	// Starting bootstrap from the page is one transaction: refused (verification has not
	// succeeded), it leaves neither a saved selection nor a new version.
	code, _, _ = postForm(t, owner, wizard+"/bootstrap", url.Values{"version": {"1"}, "operations": {"inventory_sync"}})
	api := newAPIClient(t, base)
	if d := api.do(t, owner, http.MethodGet, draftPath(id), "").object(t); code != 409 || d["version"] != float64(1) || len(d["bootstrap_operations"].([]any)) != 0 {
		t.Errorf("refused bootstrap start = %d, draft version %v selection %v; want 409, version 1, no selection", code, d["version"], d["bootstrap_operations"])
	}
	// Looking at steps and reopening form URLs never writes.
	for _, u := range []string{wizard + "?step=1", wizard + "?step=2"} {
		if code, _, _ := get(t, owner, u, "text/html"); code != 200 {
			t.Errorf("GET %s = %d, want 200 (the wizard)", u, code)
		}
	}
	for action, step := range map[string]string{"/identify": "?step=1", "/bootstrap": "?step=4", "/cancel": ""} {
		code, _, h := get(t, owner, wizard+action, "text/html")
		if want := strings.TrimPrefix(wizard, base) + step; code != 303 || h.Get("Location") != want {
			t.Errorf("GET %s = %d → %q, want 303 → %q", action, code, h.Get("Location"), want)
		}
	}
	for _, u := range []string{wizard + "?step=0", wizard + "?step=6", wizard + "?step=x", wizard + "/checkpoint?step=9"} {
		if code, _, _ := get(t, owner, u, "text/html"); code != 400 {
			t.Errorf("GET %s = %d, want 400", u, code)
		}
	}
	if d := api.do(t, owner, http.MethodGet, draftPath(id), "").object(t); d["version"] != float64(1) {
		t.Errorf("draft version after looking at steps = %v, want 1", d["version"])
	}
	code, _, _ = postForm(t, owner, wizard+"/cancel", url.Values{"version": {"1"}, "confirm": {"yes"}})
	if _, body, _ := get(t, owner, wizard, "text/html"); code != 303 || !strings.Contains(body, `data-lifecycle="cancelled"`) {
		t.Errorf("cancel = %d, want 303 and a cancelled draft", code)
	}
}

// postForm submits form to u as c and returns the status, body and headers.
func postForm(t *testing.T, c *http.Client, u string, form url.Values) (int, string, http.Header) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}
