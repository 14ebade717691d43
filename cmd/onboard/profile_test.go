package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// auditActions lists workspace ws's audit actions of the user with email, oldest first.
func auditActions(t *testing.T, conn *pgx.Conn, ws, email string) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT a.action FROM workspace_audit_log a
		JOIN workspaces w ON w.id = a.workspace_id JOIN users u ON u.id = a.actor_id
		WHERE w.slug = $1 AND u.email = $2 AND a.action LIKE 'security.%' ORDER BY a.id`, ws, email)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sessionCookie is the session cookie c holds for base.
func sessionCookie(t *testing.T, c *http.Client, base string) *http.Cookie {
	t.Helper()
	u, _ := url.Parse(base)
	for _, k := range c.Jar.Cookies(u) {
		if k.Name == "onboard_session" {
			return k
		}
	}
	t.Fatal("no session cookie")
	return nil
}

// withCookie is a client that sends only cookie k.
func withCookie(base string, k *http.Cookie) *http.Client {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(base)
	jar.SetCookies(u, []*http.Cookie{{Name: k.Name, Value: k.Value, Path: "/"}})
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// TestProfileSessionsAPI: a person lists their own sessions (never a token), ends one or all
// others, and changes their password (current one required, rules, other sessions end, this
// one gets a fresh token). Sign-in, failed sign-in (of a known account only), sign-out,
// password change and ended sessions are audited in every workspace of the person, without a
// password.
func TestProfileSessionsAPI(t *testing.T) {
	t.Parallel()
	base, conn := startAppOnDB(t, map[string]string{"WORKERS": "0"})
	api := newAPIClient(t, base)
	a := client(t, base, "operator@acme.test")
	b := client(t, base, "operator@acme.test")
	c := client(t, base, "operator@acme.test")
	other := client(t, base, "viewer@acme.test")

	list := api.do(t, a, http.MethodGet, "/sessions", "")
	wantStatus(t, "list sessions", list, http.StatusOK)
	sessions := list.list(t)
	if len(sessions) != 3 || sessions[0]["current"] != true || sessions[1]["current"] != false {
		t.Fatalf("sessions = %v, want 3, the current first", sessions)
	}
	for _, k := range []*http.Cookie{sessionCookie(t, a, base), sessionCookie(t, b, base)} {
		if strings.Contains(string(list.Body), k.Value) {
			t.Error("the session list shows a session token")
		}
	}
	if sessions[0]["user_agent"] == "" || sessions[0]["address"] == "" {
		t.Errorf("current session = %v, want its user agent and address", sessions[0])
	}
	theirs := api.do(t, other, http.MethodGet, "/sessions", "").list(t)
	if len(theirs) != 1 {
		t.Fatalf("viewer sees %d sessions, want only their own", len(theirs))
	}

	// Ending one session by id: another person's, the current one, or nothing are 404.
	id := func(s map[string]any) string { return fmt.Sprint(int64(s["id"].(float64))) }
	wantStatus(t, "end another person's session", api.do(t, a, http.MethodDelete, "/sessions/"+id(theirs[0]), ""), http.StatusNotFound)
	wantStatus(t, "end the current session by id", api.do(t, a, http.MethodDelete, "/sessions/"+id(sessions[0]), ""), http.StatusNotFound)
	wantStatus(t, "end no session", api.do(t, a, http.MethodDelete, "/sessions/999999", ""), http.StatusNotFound)
	wantStatus(t, "end a session", api.do(t, a, http.MethodDelete, "/sessions/"+id(sessions[1]), ""), http.StatusNoContent)
	left := 0
	for _, cl := range []*http.Client{b, c} {
		if r := api.do(t, cl, http.MethodGet, "/sessions", ""); r.Status == http.StatusOK {
			left++
		}
	}
	if left != 1 {
		t.Errorf("%d of the two other sessions still work after ending one, want 1", left)
	}
	if r := api.do(t, other, http.MethodGet, "/sessions", ""); r.Status != http.StatusOK {
		t.Errorf("another person's session ended too: %d", r.Status)
	}

	passwordChange(t, api, base, a, b, c)
	// End every other session (the one passwordChange signed in), then sign out.
	r := api.do(t, a, http.MethodPost, "/sessions/end-others", "")
	wantStatus(t, "end other sessions", r, http.StatusOK)
	if n := r.object(t)["ended"]; n != float64(1) {
		t.Errorf("ended = %v, want 1", n)
	}
	wantStatus(t, "sign out", api.do(t, a, http.MethodDelete, "/session", ""), http.StatusNoContent)

	securityRecord(t, conn, base)
}

// passwordChange: as a (one of operator@acme.test's sessions a, b, c; one of b and c already
// ended), refused changes say which field; the change ends the other, gives a a fresh token
// and keeps it working; only the new password signs in (which leaves one more session).
func passwordChange(t *testing.T, api *apiClient, base string, a, b, c *http.Client) {
	t.Helper()
	// Password change: wrong current password, rules, then success.
	pw := func(cur, nw string) apiResponse {
		return api.do(t, a, http.MethodPut, "/password", fmt.Sprintf(`{"current_password":%q,"new_password":%q}`, cur, nw))
	}
	for _, tc := range []struct{ name, cur, nw, field string }{
		{"wrong current", "not-my-password", "a-new-password-2", "current_password"},
		{"too short", "demo-password-1", "short", "new_password"},
		{"the email", "demo-password-1", "operator@acme.test", "new_password"},
		{"unchanged", "demo-password-1", "demo-password-1", "new_password"},
	} {
		r := pw(tc.cur, tc.nw)
		wantStatus(t, tc.name, r, http.StatusUnprocessableEntity)
		if errs, _ := r.object(t)["errors"].(map[string]any); errs[tc.field] == nil {
			t.Errorf("%s: errors = %v, want one for %s", tc.name, errs, tc.field)
		}
	}
	old := sessionCookie(t, a, base)
	d := createDraftAPI(t, a, base, newUUID(), "Before", "before.healthy.test") // a write works before
	r := pw("demo-password-1", "a-new-password-2")
	wantStatus(t, "change password", r, http.StatusOK)
	if n := r.object(t)["ended"]; n != float64(1) {
		t.Errorf("ended = %v, want 1 (the one other session left)", n)
	}
	if sessionCookie(t, a, base).Value == old.Value {
		t.Error("the session kept its token across the password change")
	}
	if r := api.do(t, withCookie(base, old), http.MethodGet, "/sessions", ""); r.Status != http.StatusUnauthorized {
		t.Errorf("the old token still works: %d", r.Status)
	}
	if r := api.do(t, a, http.MethodGet, "/workspaces/acme/onboarding/drafts/"+d, ""); r.Status != http.StatusOK {
		t.Errorf("this session stopped working after the change: %d", r.Status)
	}
	for _, cl := range []*http.Client{b, c} {
		if r := api.do(t, cl, http.MethodGet, "/sessions", ""); r.Status != http.StatusUnauthorized {
			t.Errorf("another session still works after the password change: %d", r.Status)
		}
	}
	signIn := func(email, password string) int {
		r := api.do(t, &http.Client{}, http.MethodPost, "/session", fmt.Sprintf(`{"email":%q,"password":%q}`, email, password))
		return r.Status
	}
	if s := signIn("operator@acme.test", "demo-password-1"); s != http.StatusUnauthorized {
		t.Errorf("sign-in with the old password = %d, want 401", s)
	}
	if s := signIn("operator@acme.test", "a-new-password-2"); s != http.StatusNoContent {
		t.Errorf("sign-in with the new password = %d, want 204", s)
	}
	if s := signIn("nobody@acme.test", "whatever-1"); s != http.StatusUnauthorized {
		t.Errorf("sign-in of an unknown email = %d, want 401", s)
	}
}

// securityRecord: operator@acme.test's security events are in acme's audit log in order,
// without a password, none about the unknown email, none in globex; acme's owner reads them
// in words.
func securityRecord(t *testing.T, conn *pgx.Conn, base string) {
	t.Helper()
	got := strings.Join(auditActions(t, conn, "acme", "operator@acme.test"), " ")
	want := strings.Join([]string{
		"security.signed_in", "security.signed_in", "security.signed_in", // a, b, c
		"security.sessions_ended", "security.password_change_failed", "security.password_changed",
		"security.sign_in_failed", "security.signed_in", "security.sessions_ended", "security.signed_out",
	}, " ")
	if got != want {
		t.Errorf("operator's security record in acme:\n got %s\nwant %s", got, want)
	}
	var leaked, unknown int
	if err := conn.QueryRow(context.Background(), `SELECT
			count(*) FILTER (WHERE metadata::text ~ '(demo-password-1|a-new-password-2|not-my-password|whatever-1)'),
			count(*) FILTER (WHERE metadata::text LIKE '%nobody@acme.test%')
		FROM workspace_audit_log`).Scan(&leaked, &unknown); err != nil {
		t.Fatal(err)
	}
	if leaked != 0 || unknown != 0 {
		t.Errorf("audit entries with a password: %d, about the unknown email: %d; want none", leaked, unknown)
	}
	if n := len(auditActions(t, conn, "globex", "operator@acme.test")); n != 0 {
		t.Errorf("globex's audit log has %d of an acme member's security events, want 0", n)
	}

	// The owner sees them in the audit log, in words, under the "Security" filter.
	owner := client(t, base, "owner@acme.test")
	code, body, _ := get(t, owner, base+"/admin/workspaces/acme/audit?action=security.&actor=operator@acme.test", "text/html")
	if code != http.StatusOK {
		t.Fatalf("audit page = %d", code)
	}
	for _, w := range []string{"Any security event", "Signed in", "Failed sign-in", "Password changed", "Failed password change", "Other sessions signed out", "Signed out", "Sessions signed out", "Go client"} {
		if !strings.Contains(body, w) {
			t.Errorf("the security audit view lacks %q", w)
		}
	}
}

// TestRunRetry: a failed or cancelled run is started again through the start gate, by who may
// start runs of its type (pages and API), audited with the run retried; an active run of the
// type is returned instead of a duplicate; a run that did not fail, or a closed draft, is
// refused with the reason. The run page offers the action, or says why not.
func TestRunRetry(t *testing.T) {
	t.Parallel()
	// No workers: runs stay queued, so which run is active is up to the test.
	base, conn := startAppOnDB(t, map[string]string{"WORKERS": "0"})
	api := newAPIClient(t, base)
	operator := client(t, base, "operator@acme.test")
	viewer := client(t, base, "viewer@acme.test")
	globex := client(t, base, "owner@globex.test")
	id := createDraftAPI(t, operator, base, newUUID(), "Retry Tenant", "retry.healthy.test")
	r := api.do(t, operator, http.MethodPatch, draftPath(id), fmt.Sprintf(`{"provider_connection":{"client_id":%q,"client_secret":"s3cret-retry"}}`, newUUID()), "If-Match", `"1"`)
	wantStatus(t, "attach connection", r, http.StatusOK)
	r = api.do(t, operator, http.MethodPost, draftPath(id)+"/verification", "", "If-Match", r.Header.Get("ETag"))
	wantStatus(t, "start verification", r, http.StatusAccepted)
	first := r.object(t)["run"].(map[string]any)["id"].(string)
	retry := func(c *http.Client, run string) apiResponse {
		return api.do(t, c, http.MethodPost, "/workspaces/acme/operation-runs/"+run+"/retry", "")
	}
	r = retry(operator, first)
	wantStatus(t, "retry an active run", r, http.StatusConflict)
	if code := r.object(t)["reason_code"]; code != "run_not_retryable" {
		t.Errorf("reason_code = %v, want run_not_retryable", code)
	}
	if _, err := conn.Exec(context.Background(), `UPDATE operation_runs SET status = 'completed', outcome = 'failed',
		reason_code = 'provider_unreachable', started_at = now(), completed_at = now() WHERE id = $1`, first); err != nil {
		t.Fatal(err)
	}
	runPage := base + "/admin/workspaces/acme/operations/" + first
	if _, body, _ := get(t, operator, runPage, "text/html"); !strings.Contains(body, `action="/admin/workspaces/acme/operations/`+first+`/retry"`) {
		t.Error("the failed run's page offers no retry to the operator")
	}
	if _, body, _ := get(t, viewer, runPage, "text/html"); strings.Contains(body, `data-testid="run-retry"`) {
		t.Error("the failed run's page offers a retry to the viewer")
	}
	wantStatus(t, "viewer retries", retry(viewer, first), http.StatusForbidden)
	wantStatus(t, "another workspace retries", retry(globex, first), http.StatusNotFound)

	r = retry(operator, first)
	wantStatus(t, "retry", r, http.StatusAccepted)
	second := r.object(t)["run"].(map[string]any)
	if second["id"] == first || second["status"] != "queued" || second["type"] != "verify_access" {
		t.Fatalf("retry started %v, want a new queued verification", second)
	}
	r = retry(operator, first)
	wantStatus(t, "retry again while the new run is active", r, http.StatusOK)
	if got := r.object(t)["run"].(map[string]any)["id"]; got != second["id"] {
		t.Errorf("second retry returned run %v, want the active %v (one active run per tenant and type)", got, second["id"])
	}
	_, body, _ := get(t, operator, runPage, "text/html")
	if !strings.Contains(body, `data-testid="run-retry-blocked"`) || !strings.Contains(body, "already queued or running") {
		t.Error("the failed run's page does not say why it cannot be retried while a new run is active")
	}
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM workspace_audit_log
		WHERE action = 'onboarding.verification.started' AND metadata->>'retry_of' = $1`, first).Scan(&n); err != nil || n != 1 {
		t.Errorf("audit entries naming the retried run = %d, %v; want 1", n, err)
	}

	// The page form: the new run's page opens; on a cancelled draft the gate refuses.
	if _, err := conn.Exec(context.Background(), `UPDATE operation_runs SET status = 'completed', outcome = 'cancelled',
		started_at = now(), completed_at = now() WHERE id = $1`, second["id"]); err != nil {
		t.Fatal(err)
	}
	resp, err := operator.Post(base+"/admin/workspaces/acme/operations/"+second["id"].(string)+"/retry", "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/workspaces/acme/operations/") || strings.HasSuffix(loc, second["id"].(string)) {
		t.Errorf("page retry = %d to %q, want 303 to the new run's page", resp.StatusCode, loc)
	}
	third := strings.TrimPrefix(loc, "/admin/workspaces/acme/operations/")
	if _, err := conn.Exec(context.Background(), `UPDATE operation_runs SET status = 'completed', outcome = 'failed',
		started_at = now(), completed_at = now() WHERE id = $1`, third); err != nil {
		t.Fatal(err)
	}
	owner := client(t, base, "owner@acme.test")
	d := api.do(t, owner, http.MethodGet, draftPath(id), "")
	wantStatus(t, "cancel", api.do(t, owner, http.MethodPost, draftPath(id)+"/cancellation", "", "If-Match", d.Header.Get("ETag")), http.StatusOK)
	r = retry(operator, third)
	wantStatus(t, "retry on a cancelled draft", r, http.StatusConflict)
	if code := r.object(t)["reason_code"]; code != "draft_closed" {
		t.Errorf("reason_code = %v, want draft_closed", code)
	}
	if _, body, _ := get(t, operator, base+"/admin/workspaces/acme/operations/"+third, "text/html"); !strings.Contains(body, "Cannot retry now") {
		t.Error("the run page of a cancelled draft does not say why it cannot be retried")
	}
}
