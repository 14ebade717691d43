package web_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenantops/onboard/internal/postgres"
	"github.com/tenantops/onboard/internal/postgres/pgtest"
	"github.com/tenantops/onboard/internal/web"
)

// TestSignInHashingBounded holds every password check open and fires more sign-ins than
// there are slots: exactly the slots' worth reach the hash, the rest are answered 503 with
// Retry-After while those are still hashing, and the in-flight gauge shows the bound.
func TestSignInHashingBounded(t *testing.T) {
	t.Parallel()
	const slots, requests = 2, 10
	db := pgtest.New(t)
	entered, release := make(chan struct{}, requests), make(chan struct{})
	reg := prometheus.NewRegistry()
	srv := web.New(web.Config{LoginConcurrency: slots, LoginAddressLimit: 1000}, web.Deps{
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Accounts:      db,
		LoginAttempts: db,
		SessionStore:  postgres.NewSessionStore(db),
		Registry:      reg,
		VerifyPW: func(string, string) (bool, error) {
			entered <- struct{}{}
			<-release
			return false, nil
		},
	})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	released := false
	t.Cleanup(func() {
		if !released {
			close(release)
		}
	})

	type result struct {
		status     int
		retryAfter string
	}
	results := make(chan result, requests)
	for i := range requests {
		go func() {
			body := fmt.Sprintf(`{"email":"nobody%d@example.test","password":"wrong"}`, i)
			resp, err := http.Post(ts.URL+"/api/v1/session", "application/json", strings.NewReader(body))
			if err != nil {
				results <- result{status: -1}
				return
			}
			resp.Body.Close()
			results <- result{resp.StatusCode, resp.Header.Get("Retry-After")}
		}()
	}
	hashing, busy := 0, 0
	for hashing < slots || busy < requests-slots {
		select {
		case <-entered:
			hashing++
			if hashing > slots {
				t.Fatalf("%d password checks ran at once, want at most %d", hashing, slots)
			}
		case r := <-results:
			if r.status != http.StatusServiceUnavailable || r.retryAfter == "" {
				t.Fatalf("sign-in beyond the slots = %d Retry-After %q, want 503 with Retry-After", r.status, r.retryAfter)
			}
			busy++
		}
	}
	// The browser form is refused the same way while the slots are taken.
	resp, err := http.PostForm(ts.URL+"/admin/login", url.Values{"email": {"form@example.test"}, "password": {"wrong"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("form sign-in beyond the slots = %d Retry-After %q, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if got := gauge(t, reg, "onboard_login_in_flight"); got != slots {
		t.Errorf("onboard_login_in_flight = %v while %d hash, want %d", got, slots, slots)
	}
	close(release)
	released = true
	for range slots {
		if r := <-results; r.status != http.StatusUnauthorized {
			t.Errorf("sign-in that held a slot = %d, want 401", r.status)
		}
	}
	if got := gauge(t, reg, "onboard_login_in_flight"); got != 0 {
		t.Errorf("onboard_login_in_flight = %v after every sign-in answered, want 0", got)
	}
}

// gauge reads the value of the gauge registered under name.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}
