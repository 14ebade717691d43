package web_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/account"
	"github.com/tenantops/onboard/internal/password"
	"github.com/tenantops/onboard/internal/postgres"
	"github.com/tenantops/onboard/internal/postgres/pgtest"
	"github.com/tenantops/onboard/internal/web"
)

// failingAccounts is the real accounts store whose User lookup can be made to fail as a
// database that does not answer would.
type failingAccounts struct {
	*postgres.DB
	fail atomic.Pointer[error]
}

func (a *failingAccounts) User(ctx context.Context, id int64) (access.User, error) {
	if err := a.fail.Load(); err != nil {
		return access.User{}, *err
	}
	return a.DB.User(ctx, id)
}

// TestAuthenticateDatabaseDown: while the session's user cannot be read, a request is an
// error, not a sign-out: 503 with Retry-After when the database does not answer, 500 for any
// other failure; when the lookup works again the session still works. Before, any error
// meant "no such user": the API answered 401 and pages redirected to the sign-in page
// (TestFaultDatabaseOutage saw it during an outage), and an unreachable database was a 500.
func TestAuthenticateDatabaseDown(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	if _, err := db.Pool.Exec(context.Background(), `INSERT INTO users (email, password_hash) VALUES ('down@example.test', 'x')`); err != nil {
		t.Fatal(err)
	}
	accounts := &failingAccounts{DB: db}
	store, err := postgres.NewStore(db, postgres.StoreConfig{SecretKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	srv := web.New(web.Config{LoginConcurrency: 1, LoginAddressLimit: 1000}, web.Deps{
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Accounts:      accounts,
		Account:       account.NewService(store, time.Now, password.Hash, password.Verify),
		LoginAttempts: db,
		SessionStore:  postgres.NewSessionStore(db),
		Registry:      prometheus.NewRegistry(),
		VerifyPW:      func(string, string) (bool, error) { return true, nil },
		Unavailable:   postgres.Unavailable,
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
	do := func(path, accept string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
		req.Header.Set("Accept", accept)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	const api, page = "/api/v1/workspaces/nowhere/onboarding/drafts", "/admin"
	for _, tc := range []struct {
		name       string
		err        error
		want       int
		retryAfter string
	}{
		{"Unreachable", fmt.Errorf("load user: %w", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}), http.StatusServiceUnavailable, "1"},
		{"OtherFailure", errors.New("load user: something else"), http.StatusInternalServerError, ""},
	} {
		accounts.fail.Store(&tc.err)
		for _, r := range []struct{ path, accept string }{{api, "application/json"}, {page, "text/html"}} {
			if got, ra := do(r.path, r.accept); got != tc.want || ra != tc.retryAfter {
				t.Errorf("%s: %s = %d Retry-After %q, want %d %q (not a sign-out)", tc.name, r.path, got, ra, tc.want, tc.retryAfter)
			}
		}
	}
	accounts.fail.Store(nil)
	if got, _ := do(api, "application/json"); got != http.StatusNotFound {
		t.Errorf("API once the lookup works = %d, want 404 (signed in, no such workspace)", got)
	}
	if got, _ := do(page, "text/html"); got != http.StatusOK {
		t.Errorf("page once the lookup works = %d, want 200", got)
	}
}
