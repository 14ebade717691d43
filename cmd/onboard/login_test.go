package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/postgres/pgtest"
)

// postLogin signs in through the API (form=false) or the browser form and returns the status
// and Retry-After. header, when not empty, is sent as X-Forwarded-For.
func postLogin(t *testing.T, base, email, password string, form bool, forwardedFor string) (int, string) {
	t.Helper()
	var req *http.Request
	if form {
		req, _ = http.NewRequest(http.MethodPost, base+"/admin/login",
			strings.NewReader(url.Values{"email": {email}, "password": {password}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req, _ = http.NewRequest(http.MethodPost, base+"/api/v1/session",
			strings.NewReader(`{"email":"`+email+`","password":"`+password+`"}`))
		req.Header.Set("Content-Type", "application/json")
	}
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// TestLoginLimitHolds: failures are charged before the password is checked, in PostgreSQL,
// so neither parallel attempts nor a second process get more than the limit.
func TestLoginLimitHolds(t *testing.T) {
	t.Parallel()
	// Enough slots that no attempt is refused as busy: this test is about the count.
	env := map[string]string{"LOGIN_CONCURRENCY": "32", "LOGIN_ADDRESS_LIMIT": "1000", "WORKERS": "0"}

	t.Run("ParallelAttemptsOneAccount", func(t *testing.T) {
		t.Parallel()
		base := startApp(t, env)
		const attempts, limit = 30, 5
		var mu sync.Mutex
		counts := map[int]int{}
		var wg sync.WaitGroup
		for range attempts {
			wg.Go(func() {
				code, _ := postLogin(t, base, "viewer@acme.test", "wrong", false, "")
				mu.Lock()
				counts[code]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if counts[http.StatusUnauthorized] != limit || counts[http.StatusTooManyRequests] != attempts-limit {
			t.Fatalf("%d parallel wrong passwords gave %v, want %d×401 and %d×429", attempts, counts, limit, attempts-limit)
		}
		for _, form := range []bool{false, true} {
			if code, ra := postLogin(t, base, "viewer@acme.test", "demo-password-1", form, ""); code != http.StatusTooManyRequests || ra == "" {
				t.Errorf("right password after the limit (form %v) = %d Retry-After %q, want 429 with Retry-After", form, code, ra)
			}
		}
	})

	t.Run("TwoProcessesShareTheLimit", func(t *testing.T) {
		t.Parallel()
		shared := map[string]string{"DATABASE_URL": pgtest.NewURL(t)}
		for k, v := range env {
			shared[k] = v
		}
		a, b := startApp(t, shared), startApp(t, shared)
		for i := range 5 {
			base := []string{a, b}[i%2]
			if code, _ := postLogin(t, base, "operator@acme.test", "wrong", i%2 == 1, ""); code != http.StatusUnauthorized {
				t.Fatalf("attempt %d = %d, want 401", i+1, code)
			}
		}
		for _, base := range []string{a, b} {
			if code, ra := postLogin(t, base, "operator@acme.test", "demo-password-1", false, ""); code != http.StatusTooManyRequests || ra == "" {
				t.Errorf("6th attempt = %d Retry-After %q, want 429 with Retry-After on either process", code, ra)
			}
		}
	})

	t.Run("AddressCeilingSparesAccountsNotUnderAttack", func(t *testing.T) {
		t.Parallel()
		base := startApp(t, map[string]string{"LOGIN_ADDRESS_LIMIT": "3", "TRUSTED_PROXY_HEADER": "X-Forwarded-For", "WORKERS": "0"})
		// Each attempt names another account, so only the address ceiling counts them; the
		// client-supplied first entry of the header changes every time and must not matter.
		for i := range 4 {
			xff := "198.51.100." + string(rune('1'+i)) + ", 203.0.113.7"
			if code, _ := postLogin(t, base, "ghost"+string(rune('a'+i))+"@acme.test", "wrong", false, xff); code != http.StatusUnauthorized {
				t.Fatalf("attempt %d from 203.0.113.7 = %d, want 401", i+1, code)
			}
		}
		// Past the ceiling, an account without failures still signs in from that address
		// (an office behind one NAT is not locked out by one person)...
		for _, form := range []bool{true, false} {
			if code, _ := postLogin(t, base, "owner@acme.test", "demo-password-1", form, "203.0.113.7"); code != http.StatusSeeOther && code != http.StatusNoContent {
				t.Errorf("right password from the busy address (form %v) = %d, want a sign-in", form, code)
			}
		}
		// ...but an account that failed LOGIN_LIMIT times is refused there before the check.
		for i := range 5 {
			if code, _ := postLogin(t, base, "viewer@acme.test", "wrong", false, "203.0.113.9"+string(rune('0'+i))); code != http.StatusUnauthorized {
				t.Fatalf("viewer attempt %d from 203.0.113.9%d = %d, want 401", i+1, i, code)
			}
		}
		if code, ra := postLogin(t, base, "viewer@acme.test", "demo-password-1", false, "203.0.113.7"); code != http.StatusTooManyRequests || ra == "" {
			t.Errorf("right password of an account under attack from the busy address = %d Retry-After %q, want 429", code, ra)
		}
		if code, _ := postLogin(t, base, "viewer@acme.test", "demo-password-1", false, "203.0.113.8"); code != http.StatusNoContent {
			t.Errorf("the same account from a quiet address = %d, want 204", code)
		}
	})

	t.Run("PerAccountAndPair", func(t *testing.T) {
		t.Parallel()
		base := startApp(t, map[string]string{"LOGIN_ACCOUNT_LIMIT": "7", "TRUSTED_PROXY_HEADER": "X-Forwarded-For", "WORKERS": "0"})
		for i := range 5 {
			if code, _ := postLogin(t, base, "operator@acme.test", "wrong", false, "192.0.2.1"); code != http.StatusUnauthorized {
				t.Fatalf("attempt %d = %d, want 401", i+1, code)
			}
		}
		// The pair (address, account) is limited; the account from elsewhere is not yet.
		if code, ra := postLogin(t, base, "operator@acme.test", "demo-password-1", false, "192.0.2.1"); code != http.StatusTooManyRequests || ra == "" {
			t.Errorf("6th attempt from the same address = %d Retry-After %q, want 429", code, ra)
		}
		if code, _ := postLogin(t, base, "operator@acme.test", "wrong", false, "192.0.2.2"); code != http.StatusUnauthorized {
			t.Errorf("a wrong password from another address = %d, want 401 (checked)", code)
		}
		// Guessing spread over addresses meets the per-account limit (7 here).
		if code, ra := postLogin(t, base, "operator@acme.test", "demo-password-1", false, "192.0.2.3"); code != http.StatusTooManyRequests || ra == "" {
			t.Errorf("8th attempt on the account, from a third address = %d Retry-After %q, want 429", code, ra)
		}
	})

	t.Run("PasswordFormCountsApart", func(t *testing.T) {
		t.Parallel()
		base := startApp(t, map[string]string{"WORKERS": "0"})
		c := client(t, base, "operator@acme.test")
		change := func() (int, string) {
			req, _ := http.NewRequest(http.MethodPut, base+"/api/v1/password",
				strings.NewReader(`{"current_password":"wrong-password","new_password":"a-new-password-2"}`))
			req.Header.Set("Content-Type", "application/json")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode, resp.Header.Get("Retry-After")
		}
		for i := range 5 {
			if code, _ := change(); code != http.StatusUnprocessableEntity {
				t.Fatalf("wrong current password %d = %d, want 422", i+1, code)
			}
		}
		if code, ra := change(); code != http.StatusTooManyRequests || ra == "" {
			t.Errorf("6th wrong current password = %d Retry-After %q, want 429 with Retry-After", code, ra)
		}
		form := url.Values{"current_password": {"wrong-password"}, "new_password": {"a-new-password-2"}, "confirm_password": {"a-new-password-2"}}
		if code, _, h := postForm(t, c, base+"/admin/profile/password", form); code != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
			t.Errorf("the profile form while limited = %d Retry-After %q, want 429 with Retry-After", code, h.Get("Retry-After"))
		}
		// Someone holding a session cannot lock the owner out of signing in this way.
		if code, _ := postLogin(t, base, "operator@acme.test", "demo-password-1", false, ""); code != http.StatusNoContent {
			t.Errorf("sign-in after the password form's limit = %d, want 204", code)
		}
	})
}

// TestSessionTokensStoredHashed: the sessions table holds the SHA-256 of the cookie's token,
// never the token, and the cookie still authenticates.
func TestSessionTokensStoredHashed(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)
	base := startApp(t, map[string]string{"DATABASE_URL": dbURL, "WORKERS": "0"})
	c := client(t, base, "owner@acme.test")
	u, _ := url.Parse(base)
	var token string
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "onboard_session" {
			token = ck.Value
		}
	}
	if token == "" {
		t.Fatal("no session cookie after sign-in")
	}
	if code, _, _ := get(t, c, base+"/api/v1/workspaces/acme/onboarding/drafts", ""); code != http.StatusOK {
		t.Fatalf("API with the session cookie = %d, want 200", code)
	}
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var plain, hashed int
	sum := sha256.Sum256([]byte(token))
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE token = $1), count(*) FILTER (WHERE token = $2) FROM sessions`,
		token, hex.EncodeToString(sum[:])).Scan(&plain, &hashed); err != nil {
		t.Fatal(err)
	}
	if plain != 0 || hashed != 1 {
		t.Errorf("sessions rows: %d hold the token, %d its SHA-256; want 0 and 1", plain, hashed)
	}
}

// TestWorkerStartsWithoutLoginFlags: the sign-in limits are the web server's; `onboard worker`
// neither lists nor checks them (a precedence slip once made it refuse to start).
func TestWorkerStartsWithoutLoginFlags(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": pgtest.NewURL(t), "SECRET_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "LOG_LEVEL": "info"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"onboard", "worker"}, func(k string) string { return env[k] }, io.Discard, pw)
		pw.Close()
	}()
	started := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "worker started") {
				close(started)
				break
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("worker exited before it started: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("worker returned %v", err)
	}
}
