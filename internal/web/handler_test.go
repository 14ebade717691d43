package web_test

// The handler tier: the HTTP adapter over fake services, no database. These tests pin what
// the adapter alone decides — the order of refusals, the one table from domain errors to
// statuses, bad input refused before any service call, nothing internal leaked — so a
// change there fails in milliseconds instead of in the end-to-end suite.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/account"
	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/testkit"
	"github.com/tenantops/onboard/internal/web"
)

// fakeAccounts knows three users of one workspace, "acme": each is a member with the role
// in their email's local part (owner@, operator@, viewer@); outsider@ is a member of none.
// A user's password is their email.
type fakeAccounts struct{}

var fakeUsers = map[string]access.User{
	"owner@acme.test":    {ID: 1, Email: "owner@acme.test"},
	"operator@acme.test": {ID: 2, Email: "operator@acme.test"},
	"viewer@acme.test":   {ID: 3, Email: "viewer@acme.test"},
	"outsider@acme.test": {ID: 4, Email: "outsider@acme.test"},
}

var fakeRoles = map[int64]access.Role{1: access.RoleOwner, 2: access.RoleOperator, 3: access.RoleViewer}

func (fakeAccounts) UserCredentials(_ context.Context, email string) (access.User, string, error) {
	u, ok := fakeUsers[email]
	if !ok {
		return access.User{}, "", errors.New("no such user")
	}
	return u, email, nil
}

func (fakeAccounts) User(_ context.Context, id int64) (access.User, error) {
	for _, u := range fakeUsers {
		if u.ID == id {
			return u, nil
		}
	}
	return access.User{}, errors.New("no such user")
}

func (fakeAccounts) Member(_ context.Context, u access.User, slug string) (access.Member, error) {
	role, ok := fakeRoles[u.ID]
	if !ok || slug != "acme" {
		return access.Member{}, access.ErrNotMember
	}
	return access.Member{User: u, WorkspaceID: 1, Workspace: "acme", WorkspaceName: "Acme", Role: role}, nil
}

func (a fakeAccounts) Memberships(ctx context.Context, u access.User) ([]access.Member, error) {
	m, err := a.Member(ctx, u, "acme")
	if err != nil {
		return nil, nil
	}
	return []access.Member{m}, nil
}

// fakeDrafts answers Get with a version 3 draft and Update with err (when set) or the draft
// at version 4. It counts the calls that reach it. The methods the tests do not call panic
// through the nil embedded interface.
type fakeDrafts struct {
	web.DraftService
	err   error
	calls atomic.Int64
}

func (f *fakeDrafts) draft(m access.Member, id string) onboarding.Draft {
	return onboarding.Draft{ID: id, WorkspaceID: m.WorkspaceID, Workspace: m.Workspace, TenantID: tenantID,
		DisplayName: "Tenant", PrimaryDomain: "tenant.example.com", CurrentStep: 1, Version: 3,
		Lifecycle: onboarding.LifecycleDraft, CreatedAt: time.Unix(0, 0), UpdatedAt: time.Unix(0, 0)}
}

func (f *fakeDrafts) Get(_ context.Context, m access.Member, id string) (onboarding.Draft, error) {
	f.calls.Add(1)
	return f.draft(m, id), nil
}

func (f *fakeDrafts) Update(_ context.Context, m access.Member, id string, expected int64, _ onboarding.Patch) (onboarding.Draft, error) {
	f.calls.Add(1)
	if f.err != nil {
		return onboarding.Draft{}, f.err
	}
	d := f.draft(m, id)
	d.Version = expected + 1
	return d, nil
}

// fakeSecurity records nothing: the security record (account.Service) is tested against
// PostgreSQL in cmd/onboard. The methods the tests do not call panic through the nil
// embedded interface.
type fakeSecurity struct{ web.AccountService }

func (fakeSecurity) SignedIn(context.Context, access.User, string, account.Client) error { return nil }
func (fakeSecurity) SignInFailed(context.Context, access.User, account.Client) error     { return nil }
func (fakeSecurity) SignedOut(context.Context, access.User, account.Client) error        { return nil }

// noLimits lets every sign-in attempt through.
type noLimits struct{}

func (noLimits) ReserveLoginAttempts(_ context.Context, keys []string, _ time.Duration) ([]int, []time.Duration, error) {
	counts, left := make([]int, len(keys)), make([]time.Duration, len(keys))
	for i := range keys {
		counts[i], left[i] = 1, time.Minute
	}
	return counts, left, nil
}
func (noLimits) ReleaseLoginAttempts(context.Context, []string) error { return nil }

const (
	draftID  = "0b0e5f3a-6f6e-4c1a-9d57-2b1f5d8e7c11"
	tenantID = "5b6f2f1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
)

// handlerApp serves web.New over the fakes; drafts is the fake service it calls.
type handlerApp struct {
	url    string
	drafts *fakeDrafts
}

func newHandlerApp(t *testing.T) *handlerApp {
	t.Helper()
	app, _ := newHandlerAppWith(t, memstore.New(), fakeSecurity{})
	return app
}

// newHandlerAppWith is newHandlerApp with the given session store and security record; it
// also returns the test server (Close waits for the requests in flight).
func newHandlerAppWith(t *testing.T, store scs.Store, security web.AccountService) (*handlerApp, *httptest.Server) {
	t.Helper()
	drafts := &fakeDrafts{}
	srv := web.New(web.Config{}, web.Deps{
		Logger:        slog.New(slog.DiscardHandler),
		Accounts:      fakeAccounts{},
		Service:       drafts,
		Account:       security,
		SessionStore:  store,
		LoginAttempts: noLimits{},
		Registry:      prometheus.NewRegistry(),
		VerifyPW:      func(hash, pw string) (bool, error) { return hash == pw, nil },
	})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &handlerApp{url: ts.URL, drafts: drafts}, ts
}

// as returns a client signed in as email ("" = anonymous).
func (a *handlerApp) as(t *testing.T, email string) *http.Client {
	t.Helper()
	if email == "" {
		return &http.Client{}
	}
	return testkit.SignIn(t, a.url, email, email)
}

type handlerResponse struct {
	status int
	body   []byte
}

func (r handlerResponse) field(t *testing.T, name string) any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m[name]
}

// patch sends PATCH to the draft of workspace ws with body and the headers given as pairs.
func (a *handlerApp) patch(t *testing.T, c *http.Client, ws, body string, headers ...string) handlerResponse {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPatch, a.url+"/api/v1/workspaces/"+ws+"/onboarding/drafts/"+draftID, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return handlerResponse{resp.StatusCode, b}
}

// TestHandlerRefusalOrder: 401 before 404 before 403 before 428, decided by the adapter, with
// a non-member's 404 byte-identical to an unknown workspace's.
func TestHandlerRefusalOrder(t *testing.T) {
	t.Parallel()
	app := newHandlerApp(t)
	const body = `{"display_name":"New name"}`
	for _, tc := range []struct {
		name, email, ws string
		want            int
	}{
		{"Anonymous", "", "acme", http.StatusUnauthorized},
		{"NonMember", "outsider@acme.test", "acme", http.StatusNotFound},
		{"UnknownWorkspace", "owner@acme.test", "nowhere", http.StatusNotFound},
		{"ViewerWithoutIfMatch", "viewer@acme.test", "acme", http.StatusForbidden},
		{"OperatorWithoutIfMatch", "operator@acme.test", "acme", http.StatusPreconditionRequired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := app.patch(t, app.as(t, tc.email), tc.ws, body); r.status != tc.want {
				t.Errorf("status %d (%s), want %d", r.status, r.body, tc.want)
			}
		})
	}
	nonMember := app.patch(t, app.as(t, "outsider@acme.test"), "acme", body)
	unknown := app.patch(t, app.as(t, "owner@acme.test"), "nowhere", body)
	if !bytes.Equal(nonMember.body, unknown.body) {
		t.Errorf("non-member body %q differs from unknown workspace body %q", nonMember.body, unknown.body)
	}
}

// TestHandlerErrorTable: each domain error the service returns becomes its one status, with
// the fields clients rely on; an unexpected error is a generic 500 that leaks nothing.
func TestHandlerErrorTable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		err   error
		want  int
		check func(t *testing.T, r handlerResponse)
	}{
		{"Success", nil, http.StatusOK, func(t *testing.T, r handlerResponse) {
			if v := r.field(t, "version"); v != 4.0 {
				t.Errorf("version %v, want 4", v)
			}
		}},
		{"NotFound", fault.ErrNotFound, http.StatusNotFound, nil},
		{"Forbidden", fault.ErrForbidden, http.StatusForbidden, nil},
		{"Conflict", &onboarding.ConflictError{CurrentVersion: 5, UpdatedBy: "operator@acme.test", UpdatedAt: time.Unix(1, 0)},
			http.StatusPreconditionFailed, func(t *testing.T, r handlerResponse) {
				if v, by := r.field(t, "current_version"), r.field(t, "updated_by"); v != 5.0 || by != "operator@acme.test" {
					t.Errorf("current_version %v updated_by %v, want 5 operator@acme.test", v, by)
				}
			}},
		{"Invalid", &onboarding.ValidationError{Fields: map[string]string{"primary_domain": "is not a domain"}},
			http.StatusUnprocessableEntity, func(t *testing.T, r handlerResponse) {
				if errs, _ := r.field(t, "errors").(map[string]any); errs["primary_domain"] != "is not a domain" {
					t.Errorf("errors %v, want primary_domain", errs)
				}
			}},
		{"Blocked", &onboarding.BlockedError{Code: onboarding.ReasonProviderConnectionMissing},
			http.StatusConflict, func(t *testing.T, r handlerResponse) {
				if c := r.field(t, "reason_code"); c != string(onboarding.ReasonProviderConnectionMissing) {
					t.Errorf("reason_code %v", c)
				}
			}},
		{"Internal", errors.New(`ERROR: relation "drafts" is broken (SQLSTATE XX000) password=hunter2`),
			http.StatusInternalServerError, func(t *testing.T, r handlerResponse) {
				if bytes.Contains(r.body, []byte("SQLSTATE")) || bytes.Contains(r.body, []byte("hunter2")) {
					t.Errorf("500 body leaks the internal error: %s", r.body)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			app := newHandlerApp(t)
			app.drafts.err = tc.err
			r := app.patch(t, app.as(t, "operator@acme.test"), "acme", `{"display_name":"New name"}`, "If-Match", `"3"`)
			if r.status != tc.want {
				t.Fatalf("status %d (%s), want %d", r.status, r.body, tc.want)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

// TestHandlerBadInputNeverReachesService: malformed requests are refused by the adapter with
// a clear status before the service is called.
func TestHandlerBadInputNeverReachesService(t *testing.T) {
	t.Parallel()
	app := newHandlerApp(t)
	c := app.as(t, "owner@acme.test")
	for _, tc := range []struct {
		name, body string
		headers    []string
		want       int
	}{
		{"MalformedJSON", `{"display_name":`, []string{"If-Match", `"3"`}, http.StatusBadRequest},
		{"UnknownField", `{"nope":1}`, []string{"If-Match", `"3"`}, http.StatusBadRequest},
		{"WrongType", `{"display_name":7}`, []string{"If-Match", `"3"`}, http.StatusBadRequest},
		{"TrailingData", `{} []`, []string{"If-Match", `"3"`}, http.StatusBadRequest},
		{"Oversized", `{"display_name":"` + strings.Repeat("x", 80<<10) + `"}`, []string{"If-Match", `"3"`}, http.StatusRequestEntityTooLarge},
		{"MalformedIfMatch", `{}`, []string{"If-Match", `three`}, http.StatusBadRequest},
		{"ZeroIfMatch", `{}`, []string{"If-Match", `"0"`}, http.StatusBadRequest},
		{"NotJSON", `display_name=x`, []string{"If-Match", `"3"`, "Content-Type", "text/plain"}, http.StatusUnsupportedMediaType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := app.drafts.calls.Load()
			r := app.patch(t, c, "acme", tc.body, tc.headers...)
			if r.status != tc.want {
				t.Errorf("status %d (%s), want %d", r.status, r.body, tc.want)
			}
			if n := app.drafts.calls.Load() - before; n != 0 {
				t.Errorf("the service was called %d times for a refused request", n)
			}
		})
	}
}

// ctxStore is an in-memory session store that, like the PostgreSQL one, fails on a cancelled
// context, and fails every save once failCommits is set (a database gone away).
type ctxStore struct {
	*memstore.MemStore
	failCommits *atomic.Bool
}

func (s ctxStore) DeleteCtx(ctx context.Context, token string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.Delete(token)
}

func (s ctxStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	return s.Find(token)
}

func (s ctxStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.failCommits != nil && s.failCommits.Load() {
		return errors.New("session store unavailable")
	}
	return s.Commit(token, b, expiry)
}

// abandonedSignIn's SignedIn waits until the client has gone, as a sign-in whose client
// disconnects (or a bench's Ctrl-C) while its session is being recorded.
type abandonedSignIn struct {
	fakeSecurity
	entered chan struct{}
}

func (a abandonedSignIn) SignedIn(ctx context.Context, _ access.User, _ string, _ account.Client) error {
	close(a.entered)
	<-ctx.Done()
	return ctx.Err()
}

// TestHandlerAbandonedSignInLeavesNoSession: a sign-in whose recording fails because the
// client went away destroys the session it had already stored, even though the request's
// context is cancelled by then.
func TestHandlerAbandonedSignInLeavesNoSession(t *testing.T) {
	t.Parallel()
	store := ctxStore{MemStore: memstore.New()}
	security := abandonedSignIn{entered: make(chan struct{})}
	app, ts := newHandlerAppWith(t, store, security)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, app.url+"/api/v1/session",
		strings.NewReader(`{"email":"owner@acme.test","password":"owner@acme.test"}`))
	req.Header.Set("Content-Type", "application/json")
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	<-security.entered
	cancel()
	<-done
	ts.Close() // waits for the handler to finish
	all, err := store.All()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 0 {
		t.Errorf("%d sessions left behind by an abandoned sign-in; want none", len(all))
	}
}

// TestHandlerSessionSaveFailsOneAnswer: when the session cannot be saved (scs saves it just
// before the handler's status goes out), the client gets one error document, not the error
// followed by the handler's own status and body.
func TestHandlerSessionSaveFailsOneAnswer(t *testing.T) {
	t.Parallel()
	fail := &atomic.Bool{}
	app, _ := newHandlerAppWith(t, ctxStore{MemStore: memstore.New(), failCommits: fail}, fakeSecurity{})
	c := app.as(t, "owner@acme.test")
	fail.Store(true)
	resp, err := c.Get(app.url + "/api/v1/workspaces/acme/onboarding/drafts/" + draftID)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusInternalServerError || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("status %d %s, want 500 problem+json", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var problem map[string]any
	if err := dec.Decode(&problem); err != nil || problem["status"] != 500.0 {
		t.Fatalf("body %q: want one problem document with status 500 (%v)", body, err)
	}
	if dec.More() {
		t.Errorf("body %q: the handler's answer follows the error", body)
	}
}
