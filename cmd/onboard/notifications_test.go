package main

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"testing"
)

// TestNotificationRead: someone else cancelling an onboarding the operator worked on leaves
// the operator a notice, which they mark read on its own; another user cannot touch it.
func TestNotificationRead(t *testing.T) {
	t.Parallel()
	base := startApp(t, nil)
	owner := client(t, base, "owner@acme.test")
	operator := client(t, base, "operator@acme.test")
	api := newAPIClient(t, base)
	id := createDraftAPI(t, owner, base, newUUID(), "Contoso", "contoso.healthy.test")
	wantStatus(t, "rename", api.do(t, operator, http.MethodPatch, draftPath(id), `{"display_name":"Contoso Ltd"}`, "If-Match", `"1"`), http.StatusOK)
	wantStatus(t, "cancel", api.do(t, owner, http.MethodPost, draftPath(id)+"/cancellation", `{}`, "If-Match", `"2"`), http.StatusOK)

	_, body, _ := get(t, operator, base+"/admin/notifications", "text/html")
	m := regexp.MustCompile(`action="/admin/notifications/(\d+)/read"`).FindStringSubmatch(body)
	if m == nil || !regexp.MustCompile(`Onboarding of Contoso Ltd cancelled`).MatchString(body) {
		t.Fatalf("the operator's notifications lack the cancellation notice with its own read button")
	}
	post := func(c *http.Client, path string) int {
		t.Helper()
		resp, err := c.PostForm(base+path, url.Values{})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(owner, fmt.Sprintf("/admin/notifications/%s/read", m[1])); code != 404 {
		t.Errorf("another user marking it read = %d, want 404", code)
	}
	if code := post(operator, fmt.Sprintf("/admin/notifications/%s/read", m[1])); code != 303 {
		t.Errorf("marking it read = %d, want 303", code)
	}
	if _, body, _ := get(t, operator, base+"/admin/notifications", "text/html"); regexp.MustCompile(`data-testid="mark-read"`).MatchString(body) {
		t.Error("the notice is still unread")
	}
	if code := post(operator, "/admin/notifications/99999999/read"); code != 404 {
		t.Errorf("unknown notification = %d, want 404", code)
	}
}
