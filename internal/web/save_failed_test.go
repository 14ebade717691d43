package web

import (
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/tenantops/onboard/views"
)

// TestRetryFieldsOf: a failed form is shown again with what was typed, secrets blank (known
// or not), the rest re-sent unseen.
func TestRetryFieldsOf(t *testing.T) {
	t.Parallel()
	form := url.Values{
		"version": {"4"}, "step": {"3"}, "client_id": {"abc"}, "client_secret": {"s3cret"},
		"api_token": {"t0ken"}, "operations": {"device_inventory", "policy_sync"},
	}
	got := map[string]views.RetryField{}
	for _, f := range retryFieldsOf(form) {
		got[f.Name] = f
	}
	for name, kind := range map[string]string{"version": views.RetryHidden, "step": views.RetryHidden,
		"client_id": views.RetryText, "client_secret": views.RetrySecret, "api_token": views.RetrySecret,
		"operations": views.RetryList} {
		if got[name].Kind != kind {
			t.Errorf("%s: kind %q, want %q", name, got[name].Kind, kind)
		}
	}
	for _, name := range []string{"client_secret", "api_token"} {
		if f := got[name]; len(f.Values) != 0 || !f.Required {
			t.Errorf("%s: values %q required %v, want none and required", name, f.Values, f.Required)
		}
	}
	if v := got["operations"].Values; !slices.Equal(v, []string{"device_inventory", "policy_sync"}) {
		t.Errorf("operations = %q", v)
	}
	html := renderString(t, views.SaveFailedData{Action: "/x", Fields: retryFieldsOf(form), Back: "/admin", BackText: "Back"})
	for _, secret := range []string{"s3cret", "t0ken"} {
		if strings.Contains(html, secret) {
			t.Errorf("the page shows the secret %q", secret)
		}
	}
}

// TestFailedSaveBack: a wizard form leads back to its step of the draft; another form to the
// same-origin page it was sent from, never to another origin's.
func TestFailedSaveBack(t *testing.T) {
	t.Parallel()
	cases := []struct{ path, referer, want string }{
		{"/admin/workspaces/acme/onboarding/d1/identify", "", "/admin/workspaces/acme/onboarding/d1?step=1"},
		{"/admin/workspaces/acme/onboarding/d1/cancel", "", "/admin/workspaces/acme/onboarding/d1"},
		{"/admin/workspaces/acme/members", "http://example.test/admin/workspaces/acme/members?x=1", "/admin/workspaces/acme/members?x=1"},
		{"/admin/workspaces/acme/members", "http://evil.test/phish", "/admin"},
		{"/admin/profile/password", "", "/admin"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("POST", "http://example.test"+c.path, nil)
		if c.referer != "" {
			r.Header.Set("Referer", c.referer)
		}
		if got, _ := failedSaveBack(r); got != c.want {
			t.Errorf("%s from %q: back %q, want %q", c.path, c.referer, got, c.want)
		}
	}
}

func renderString(t *testing.T, d views.SaveFailedData) string {
	t.Helper()
	var b strings.Builder
	if err := views.SaveFailedPage(views.Nav{}, d).Render(t.Context(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestFormWhat: the failed-save page names what the form was doing.
func TestFormWhat(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]string{
		"/admin/workspaces/acme/onboarding/d1/cancel":   "Cancel onboarding",
		"/admin/workspaces/acme/onboarding":             "Start onboarding",
		"/admin/workspaces/acme/members/5/remove":       "Remove a member",
		"/admin/workspaces/acme/members":                "Add a member",
		"/admin/profile/sessions/end":                   "Sign out sessions",
		"/admin/workspaces/acme/operations/r1/retry":    "Retry the run",
		"/admin/workspaces/acme/onboarding/d1/identify": "Save the tenant details",
		"/somewhere/else":                               "",
	} {
		if got := formWhat(path); got != want {
			t.Errorf("formWhat(%s) = %q, want %q", path, got, want)
		}
	}
}
