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

// TestNotificationsMarkAllRead: an owner's "Cancel selected" notifies the operator who worked
// on each draft; "Mark all read" (the bell's form and the page's) marks every one of theirs
// read and no one else's.
func TestNotificationsMarkAllRead(t *testing.T) {
	t.Parallel()
	base := startApp(t, nil)
	owner := client(t, base, "owner@acme.test")
	operator := client(t, base, "operator@acme.test")
	operator2 := client(t, base, "operator2@acme.test")
	api := newAPIClient(t, base)
	form := url.Values{"confirm": {"yes"}}
	for i, who := range []*http.Client{operator, operator, operator2} {
		id := createDraftAPI(t, owner, base, newUUID(), fmt.Sprintf("Contoso %d", i), fmt.Sprintf("c%d.healthy.test", i))
		wantStatus(t, "rename", api.do(t, who, http.MethodPatch, draftPath(id), fmt.Sprintf(`{"display_name":"Contoso %d Ltd"}`, i), "If-Match", `"1"`), http.StatusOK)
		form.Add("draft", id+":2")
	}
	if code, _, _ := postForm(t, owner, base+"/admin/workspaces/acme/onboarding/cancellations", form); code != 303 {
		t.Fatalf("Cancel selected = %d, want 303", code)
	}
	unread := func(c *http.Client) int {
		t.Helper()
		_, body, _ := get(t, c, base+"/admin/notifications", "text/html")
		return len(regexp.MustCompile(`data-testid="notification"[^>]*data-unread="true"`).FindAllStringIndex(body, -1))
	}
	if n, n2 := unread(operator), unread(operator2); n != 2 || n2 != 1 {
		t.Fatalf("unread after Cancel selected: operator %d, operator2 %d; want 2 and 1", n, n2)
	}
	if _, body, _ := get(t, operator, base+"/admin", "text/html"); !regexp.MustCompile(`data-testid="bell-mark-all-read"`).MatchString(body) {
		t.Error("the bell offers no Mark all read")
	}
	if code, _, h := postForm(t, operator, base+"/admin/notifications/read", url.Values{}); code != 303 || h.Get("Location") != "/admin/notifications" {
		t.Errorf("Mark all read = %d → %q, want 303 to the notifications", code, h.Get("Location"))
	}
	if n, n2 := unread(operator), unread(operator2); n != 0 || n2 != 1 {
		t.Errorf("unread after Mark all read: operator %d, operator2 %d; want 0 and 1 (only their own)", n, n2)
	}
	if _, body, _ := get(t, operator, base+"/admin", "text/html"); regexp.MustCompile(`data-testid="unread-count"|data-testid="bell-mark-all-read"`).MatchString(body) {
		t.Error("the bell still counts unread notifications")
	}
}
