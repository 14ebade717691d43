package web_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenantops/onboard/internal/account"
	"github.com/tenantops/onboard/internal/password"
	"github.com/tenantops/onboard/internal/postgres"
	"github.com/tenantops/onboard/internal/postgres/pgtest"
	"github.com/tenantops/onboard/internal/web"
)

// flakySessions is the real session store whose reads or writes can be made to fail as a
// database that went away would.
type flakySessions struct {
	scs.Store
	find, commit atomic.Bool
}

var errReset = &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}

func (s *flakySessions) Find(token string) ([]byte, bool, error) {
	if s.find.Load() {
		return nil, false, errReset
	}
	return s.Store.Find(token)
}

func (s *flakySessions) Commit(token string, b []byte, expiry time.Time) error {
	if s.commit.Load() {
		return errReset
	}
	return s.Store.Commit(token, b, expiry)
}

// TestSaveFailedPageWhenSessionFails: a browser form whose session cannot be read (the
// database is away before anything is written) gets the failed-save page with the typed
// values, never the secrets; a form whose handler ran but whose session could not be saved
// afterwards (its write may have succeeded) gets the plain error page, not "nothing was saved".
func TestSaveFailedPageWhenSessionFails(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	if _, err := db.Pool.Exec(context.Background(), `INSERT INTO users (email, password_hash) VALUES ('down@example.test', 'x')`); err != nil {
		t.Fatal(err)
	}
	store, err := postgres.NewStore(db, postgres.StoreConfig{SecretKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	sessions := &flakySessions{Store: postgres.NewSessionStore(db)}
	srv := web.New(web.Config{LoginConcurrency: 1, LoginAddressLimit: 1000}, web.Deps{
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Accounts:      db,
		Account:       account.NewService(store, time.Now, password.Hash, password.Verify),
		LoginAttempts: db,
		SessionStore:  sessions,
		Registry:      prometheus.NewRegistry(),
		VerifyPW:      func(string, string) (bool, error) { return true, nil },
		Unavailable:   postgres.Unavailable,
	})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path string, form url.Values) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, ts.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "text/html")
		req.Header.Set("Origin", ts.URL)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := post("/admin/login", url.Values{"email": {"down@example.test"}, "password": {"any"}}); code != http.StatusSeeOther {
		t.Fatalf("sign in: %d", code)
	}

	t.Run("SessionUnreadable", func(t *testing.T) {
		sessions.find.Store(true)
		defer sessions.find.Store(false)
		code, body := post("/admin/workspaces/acme/onboarding/5b0e3c52-8f1d-4f7a-9c3e-2d6a1b7e4f10/connection", url.Values{
			"version": {"3"}, "step": {"3"}, "client_id": {"client-7"}, "client_secret": {"hush-hush-secret"}})
		if code != http.StatusServiceUnavailable || !strings.Contains(body, `data-testid="save-failed"`) {
			t.Fatalf("connection form = %d, want 503 with the failed-save page:\n%.600s", code, body)
		}
		for _, want := range []string{`value="client-7"`, `name="version" value="3"`, "Attach the connection", `>Try again</button>`} {
			if !strings.Contains(body, want) {
				t.Errorf("failed-save page lacks %s", want)
			}
		}
		if strings.Contains(body, "hush-hush-secret") {
			t.Error("failed-save page echoes the client secret")
		}
	})

	t.Run("SessionUnsaved", func(t *testing.T) {
		sessions.commit.Store(true)
		defer sessions.commit.Store(false)
		code, body := post("/admin/login", url.Values{"email": {"down@example.test"}, "password": {"any"}})
		if code != http.StatusServiceUnavailable || !strings.Contains(body, `data-testid="error-page"`) || strings.Contains(body, "nothing was saved") {
			t.Fatalf("form whose session could not be saved = %d, want 503 with the plain error page:\n%.600s", code, body)
		}
	})
}
