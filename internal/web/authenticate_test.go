package web_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/postgres"
	"github.com/tenantops/onboard/internal/postgres/pgtest"
	"github.com/tenantops/onboard/internal/web"
)

// failingAccounts is the real accounts store whose User lookup can be made to fail as a
// database that does not answer would.
type failingAccounts struct {
	*postgres.DB
	down atomic.Bool
}

func (a *failingAccounts) User(ctx context.Context, id int64) (access.User, error) {
	if a.down.Load() {
		return access.User{}, errors.New("load user: connection reset by peer")
	}
	return a.DB.User(ctx, id)
}

// TestAuthenticateDatabaseDown: while the session's user cannot be read, a request is an
// error (500), not a sign-out; when the database answers again the session still works.
// Before, any error meant "no such user": the API answered 401 and pages redirected to the
// sign-in page (TestFaultDatabaseOutage saw it during an outage).
func TestAuthenticateDatabaseDown(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	if _, err := db.Pool.Exec(context.Background(), `INSERT INTO users (email, password_hash) VALUES ('down@example.test', 'x')`); err != nil {
		t.Fatal(err)
	}
	accounts := &failingAccounts{DB: db}
	srv := web.New(web.Config{LoginConcurrency: 1, LoginAddressLimit: 1000}, web.Deps{
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Accounts:      accounts,
		LoginAttempts: db,
		SessionStore:  postgres.NewSessionStore(db),
		Registry:      prometheus.NewRegistry(),
		VerifyPW:      func(string, string) (bool, error) { return true, nil },
	})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Post(ts.URL+"/api/v1/session", "application/json", strings.NewReader(`{"email":"down@example.test","password":"any"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("sign in: %d", resp.StatusCode)
	}
	status := func(path, accept string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
		req.Header.Set("Accept", accept)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	const api, page = "/api/v1/workspaces/nowhere/onboarding/drafts", "/admin"
	accounts.down.Store(true)
	if got := status(api, "application/json"); got != http.StatusInternalServerError {
		t.Errorf("API while the database is down = %d, want 500", got)
	}
	if got := status(page, "text/html"); got != http.StatusInternalServerError {
		t.Errorf("page while the database is down = %d, want 500 (not a redirect to sign in)", got)
	}
	accounts.down.Store(false)
	if got := status(api, "application/json"); got != http.StatusNotFound {
		t.Errorf("API once the database is back = %d, want 404 (signed in, no such workspace)", got)
	}
	if got := status(page, "text/html"); got != http.StatusOK {
		t.Errorf("page once the database is back = %d, want 200", got)
	}
}
