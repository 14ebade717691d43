package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2/memstore"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/live"
	"github.com/tenantops/onboard/internal/liveedge"
	"github.com/tenantops/onboard/internal/testkit"
	"github.com/tenantops/onboard/internal/web"
)

// countingStore counts what the session store is asked.
type countingStore struct {
	*memstore.MemStore
	finds, commits atomic.Int64
}

func (s *countingStore) Find(token string) ([]byte, bool, error) {
	s.finds.Add(1)
	return s.MemStore.Find(token)
}

func (s *countingStore) Commit(token string, b []byte, expiry time.Time) error {
	s.commits.Add(1)
	return s.MemStore.Commit(token, b, expiry)
}

// countingAccounts counts user reads.
type countingAccounts struct {
	fakeAccounts
	users atomic.Int64
}

func (a *countingAccounts) User(ctx context.Context, id int64) (access.User, error) {
	a.users.Add(1)
	return a.fakeAccounts.User(ctx, id)
}

// refusingHub refuses every subscription as a draft that is not there (a poll's 404): a
// signed-in poll reaches it, an anonymous one is refused (401) before.
type refusingHub struct{ viewers atomic.Int64 }

func (h *refusingHub) SubscribeAs(context.Context, live.Viewer, []live.Subscription) (*live.Client, error) {
	h.viewers.Add(1)
	return nil, fault.ErrNotFound
}

// TestLiveSessionCache: /live and /live/poll learn who is asking from the process's session
// cache. A cached session costs no session read, no user read and no write; a miss costs
// one of each read and never a write (before: a read, a write and a user read per connect,
// three transactions per tab in a deploy's reconnect storm). A session's end (the change
// stream's key), a listener gap and a listener resync each make the next connect read again;
// an ended session is refused.
func TestLiveSessionCache(t *testing.T) {
	t.Parallel()
	store := &countingStore{MemStore: memstore.New()}
	t.Cleanup(store.StopCleanup)
	accounts := &countingAccounts{}
	hub := &refusingHub{}
	cache := web.NewLiveSessions(time.Hour, 100)
	srv := web.New(web.Config{}, web.Deps{
		Logger:        slog.New(slog.DiscardHandler),
		Accounts:      accounts,
		Account:       fakeSecurity{},
		SessionStore:  store,
		LoginAttempts: noLimits{},
		Registry:      prometheus.NewRegistry(),
		VerifyPW:      func(hash, pw string) (bool, error) { return hash == pw, nil },
		Live:          &liveedge.Config{Hub: hub},
		LiveSessions:  cache,
	})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	c := testkit.SignIn(t, ts.URL, "operator@acme.test", "operator@acme.test")
	u, _ := url.Parse(ts.URL)
	var token string
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "onboard_session" {
			token = ck.Value
		}
	}
	if token == "" {
		t.Fatal("no session cookie after sign-in")
	}
	poll := ts.URL + "/live/poll?draft=" + draftID + "&rev=1"
	type counts struct{ finds, commits, users, hub int64 }
	now := func() counts {
		return counts{store.finds.Load(), store.commits.Load(), accounts.users.Load(), hub.viewers.Load()}
	}
	pollAs := func(c *http.Client, want int) {
		t.Helper()
		resp, err := c.Get(poll) // Errorf, not Fatalf: pollAs runs in goroutines too
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET /live/poll = %d, want %d", resp.StatusCode, want)
		}
	}
	step := func(name string, polls int, want counts) {
		t.Helper()
		before := now()
		for range polls {
			pollAs(c, http.StatusNotFound) // signed in: the hub answered
		}
		after := now()
		got := counts{after.finds - before.finds, after.commits - before.commits, after.users - before.users, after.hub - before.hub}
		if got != want {
			t.Errorf("%s: %d polls cost %+v, want %+v", name, polls, got, want)
		}
	}

	// Down (the listener not yet listening): every poll reads, none writes.
	step("listener down", 3, counts{finds: 3, users: 3, hub: 3})
	cache.Resync()
	step("first after resync", 1, counts{finds: 1, users: 1, hub: 1})
	step("cached", 20, counts{hub: 20})

	// A browser's tabs reconnect at once: one read for all of them.
	cache.Disconnected()
	cache.Resync()
	before := now()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { pollAs(c, http.StatusNotFound) })
	}
	wg.Wait()
	if after := now(); after.finds-before.finds != 1 || after.users-before.users != 1 {
		t.Errorf("50 concurrent polls of one session read it %d times and its user %d times, want once",
			after.finds-before.finds, after.users-before.users)
	}

	// Another session's end leaves this one cached; this one's end (as the stream names it:
	// the digest of the stored token, itself the token's digest) evicts it.
	cache.SessionEnded(sha256Hex("someone else's"))
	step("another session ended", 1, counts{hub: 1})
	cache.SessionEnded(sha256Hex(sha256Hex(token)))
	step("after its end", 2, counts{finds: 1, users: 1, hub: 2})

	cache.Disconnected()
	step("listener gap", 2, counts{finds: 2, users: 2, hub: 2})
	cache.Resync()
	step("resynced", 3, counts{finds: 1, users: 1, hub: 3})

	// Signed out: the session's end reaches the cache through the stream; the next poll finds
	// no session and is refused before the hub.
	req, _ := http.NewRequest(http.MethodDelete, ts.URL+"/api/v1/session", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cache.SessionEnded(sha256Hex(sha256Hex(token)))
	stale := &http.Client{Jar: c.Jar}
	stale.Jar.SetCookies(u, []*http.Cookie{{Name: "onboard_session", Value: token, Path: "/"}})
	pollAs(stale, http.StatusUnauthorized)
	pollAs(&http.Client{}, http.StatusUnauthorized)

	if hits, misses := cache.Stats(); hits == 0 || misses == 0 {
		t.Errorf("cache stats hits %d misses %d, want both counted", hits, misses)
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
