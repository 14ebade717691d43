package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestActivationRequest: an operator asks the owners to activate a ready draft through the
// API. Who may ask (operators: a viewer and an owner get 403, another workspace's owner and
// an unknown id 404), when (only a ready draft: 409 not_ready_for_activation), once (a second
// request while one is open: 409 activation_already_requested, also from another operator),
// what it leaves (every owner notified, an audit entry, the version unmoved) and that it
// closes when the draft is activated.
func TestActivationRequest(t *testing.T) {
	t.Parallel()
	base := startApp(t, nil)
	api := newAPIClient(t, base)
	owner := client(t, base, "owner@acme.test")
	operator := client(t, base, "operator@acme.test")
	operator2 := client(t, base, "operator2@acme.test")
	viewer := client(t, base, "viewer@acme.test")
	globex := client(t, base, "owner@globex.test")
	seed := &crawlAPI{t: t, c: owner, base: base + "/api/v1/workspaces/acme"}
	id := seed.start("Request Tenant", "request.healthy.test")
	path := draftPath(id) + "/activation-request"

	// req sends the request as c with the draft's current version.
	req := func(c *http.Client, p string) apiResponse {
		t.Helper()
		return api.do(t, c, http.MethodPost, p, "", "If-Match", seed.etag(id))
	}
	refused := func(t *testing.T, what string, r apiResponse, status int, code string) {
		t.Helper()
		wantStatus(t, what, r, status)
		if code != "" && r.object(t)["reason_code"] != code {
			t.Errorf("%s: reason_code = %v, want %s", what, r.object(t)["reason_code"], code)
		}
	}
	t.Run("NotReady", func(t *testing.T) {
		refused(t, "operator on a draft not ready", req(operator, path), http.StatusConflict, "not_ready_for_activation")
	})
	seed.verify(id)
	seed.waitState(id, "ready_for_activation")
	before := api.do(t, owner, http.MethodGet, draftPath(id), "").object(t)

	t.Run("Refused", func(t *testing.T) {
		wantStatus(t, "anonymous", req(&http.Client{}, path), http.StatusUnauthorized)
		refused(t, "viewer", req(viewer, path), http.StatusForbidden, "")
		refused(t, "owner (activates themselves)", req(owner, path), http.StatusForbidden, "")
		foreign := req(globex, path)
		unknown := req(operator, draftPath("00000000-0000-4000-8000-000000000000")+"/activation-request")
		refused(t, "another workspace's owner", foreign, http.StatusNotFound, "")
		refused(t, "unknown draft", unknown, http.StatusNotFound, "")
		globexPath := strings.Replace(path, "/workspaces/acme/", "/workspaces/globex/", 1)
		refused(t, "acme's draft under globex", req(globex, globexPath), http.StatusNotFound, "")
	})

	t.Run("PreconditionAndStale", func(t *testing.T) {
		wantStatus(t, "without If-Match", api.do(t, operator, http.MethodPost, path, ""), http.StatusPreconditionRequired)
		wantStatus(t, "stale If-Match", api.do(t, operator, http.MethodPost, path, "", "If-Match", `"1"`), http.StatusPreconditionFailed)
	})

	t.Run("OK", func(t *testing.T) {
		r := req(operator, path)
		wantStatus(t, "operator's request", r, http.StatusCreated)
		d := r.object(t)
		if d["activation_requested_by"] != "operator@acme.test" || d["activation_requested_at"] == nil {
			t.Errorf("request = by %v at %v, want operator@acme.test at a time", d["activation_requested_by"], d["activation_requested_at"])
		}
		if d["version"] != before["version"] {
			t.Errorf("version = %v, want %v unmoved: a request changes no field", d["version"], before["version"])
		}
	})

	t.Run("Duplicate", func(t *testing.T) {
		refused(t, "the same operator again", req(operator, path), http.StatusConflict, "activation_already_requested")
		refused(t, "another operator", req(operator2, path), http.StatusConflict, "activation_already_requested")
		_, body, _ := get(t, owner, base+"/admin/workspaces/acme/audit?action=onboarding.activation.requested", "text/html")
		if n := strings.Count(body, `data-testid="audit-row"`); n != 1 {
			t.Errorf("audit entries of the request = %d, want 1", n)
		}
	})

	t.Run("OwnersNotified", func(t *testing.T) {
		_, body, _ := get(t, owner, base+"/admin/notifications", "text/html")
		if !strings.Contains(body, "Activation requested: Request Tenant") || !strings.Contains(body, "operator@acme.test asks an owner to activate") {
			t.Error("the owner's notifications lack the request")
		}
		if !strings.Contains(body, `href="/admin/workspaces/acme/onboarding/`+id+`"`) {
			t.Error("the request's notification does not link to the draft")
		}
		_, body, _ = get(t, operator2, base+"/admin/notifications", "text/html")
		if strings.Contains(body, "Activation requested") {
			t.Error("an operator was notified of the request")
		}
		_, body, _ = get(t, owner, base+"/admin/workspaces/acme/onboarding/"+id, "text/html")
		if !strings.Contains(body, `data-testid="activation-requested-by">operator@acme.test<`) {
			t.Error("the owner's wizard does not say who requested")
		}
	})

	t.Run("ClosedByActivation", func(t *testing.T) {
		r := api.do(t, owner, http.MethodPost, draftPath(id)+"/activation", "", "If-Match", seed.etag(id))
		wantStatus(t, "activate", r, http.StatusOK)
		if d := r.object(t); d["activation_requested_by"] != nil || d["activation_requested_at"] != nil {
			t.Errorf("after activation the request is still open: %v at %v", d["activation_requested_by"], d["activation_requested_at"])
		}
		refused(t, "request on a completed draft", req(operator, path), http.StatusConflict, "not_ready_for_activation")
	})

	t.Run("PageForm", func(t *testing.T) {
		// The wizard's form as a viewer: 403 before anything else.
		resp, err := viewer.PostForm(base+"/admin/workspaces/acme/onboarding/"+id+"/activation-request", url.Values{"version": {"1"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("viewer's form = %d, want 403", resp.StatusCode)
		}
	})
}
