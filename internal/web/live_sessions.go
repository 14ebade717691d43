package web

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/fault"
)

// This file is how /live and /live/poll learn who is asking: from the session cookie, like
// every other route, but through LiveSessions, the process's cache of what a session cookie
// signs in, and without writing the session back.
//
// After a deploy every open tab reconnects within a second or two. Through scs.LoadAndSave
// each connect read the session, wrote it back (its idle deadline) and read its user: about
// three transactions per tab, so a restart's database cost grew with tabs instead of with
// drafts (issue Q, item 4). Now a connect reads nothing when the session is cached, and a
// miss costs one session read and one user read; nothing is ever written. A socket is no
// activity of the person, so its connect does not move the session's idle deadline (their
// pages and saves do).

// LiveSessions caches, per session token, the user it signs in, for /live and /live/poll.
// It is kept true by the sessions change stream (migrations/00007_live_session_end.sql): a
// session's end — sign-out, the expiry sweep, a token renewal, its user deleted (the
// sessions' ON DELETE CASCADE), an operator ending it — evicts it. The users a session names
// never change in what the cache keeps (id, email, name). While the listener is down ends
// may be missed: everything is forgotten and nothing is cached until it is back (Resync).
//
// Keys are SHA-256 digests, as the change stream names sessions; the cache holds no token.
// Cmd/onboard feeds it the listener's session events (livesource.HubNotifier).
type LiveSessions struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*liveSession // by the token's SHA-256 (hex)
	stored  map[string]string       // the stored token's digest (the stream's key) → entries' key
	filling map[string]*liveFill    // reads in flight, by key: the tabs of one browser share one
	seq     uint64                  // moves on every end and reset: a fill that saw it move is dropped
	down    bool                    // the listener is down: cache nothing

	hits, misses atomic.Int64
}

type liveSession struct {
	user  access.User
	until time.Time
}

// liveFill is one read of a session in flight; the connects that miss the same session
// meanwhile wait for it (a browser's tabs share their session, and all reconnect at once).
type liveFill struct {
	done chan struct{}
	user access.User
	ok   bool
	err  error
}

// NewLiveSessions returns an empty cache whose entries live at most ttl (a bound for what
// the stream could not say, e.g. a session that expired idle before the sweep deleted it;
// the sweep runs every second) and that keeps at most max sessions (past it, the cache
// starts again empty). It starts down: Resync (the listener listening) turns it on.
func NewLiveSessions(ttl time.Duration, max int) *LiveSessions {
	return &LiveSessions{ttl: ttl, max: max, now: time.Now, entries: map[string]*liveSession{},
		stored: map[string]string{}, filling: map[string]*liveFill{}, down: true}
}

// SessionEnded evicts the session whose stored token has SHA-256 key (the stream's key;
// either storage of docs/live.md, Sessions: the token itself or its digest).
func (c *LiveSessions) SessionEnded(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	if k, ok := c.stored[key]; ok {
		key = k
	}
	delete(c.entries, key)
	delete(c.stored, sha256Hex(key))
}

// Disconnected forgets everything and caches nothing until Resync: ends may be missed.
func (c *LiveSessions) Disconnected() { c.reset(true) }

// Resync: the listener listens again; what is read from now on may be cached.
func (c *LiveSessions) Resync() { c.reset(false) }

// reset forgets every session (and every read in flight: their answers are not kept).
func (c *LiveSessions) reset(down bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	c.down = down
	clear(c.entries)
	clear(c.stored)
}

// Stats are the cache's hits (lookups answered without a read of their own: cached, or
// waiting for another's read) and misses (reads) since it started.
func (c *LiveSessions) Stats() (hits, misses int64) { return c.hits.Load(), c.misses.Load() }

// lookup returns the user of the session whose token digests to key: cached, or read once by
// read for every concurrent lookup of key, and then cached unless the listener is down or an
// end or reset came during the read. false: the session signs nobody in (not cached).
func (c *LiveSessions) lookup(ctx context.Context, key string, read func() (access.User, bool, error)) (access.User, bool, error) {
	c.mu.Lock()
	if e, ok := c.entries[key]; ok && c.now().Before(e.until) {
		c.mu.Unlock()
		c.hits.Add(1)
		return e.user, true, nil
	}
	if f, ok := c.filling[key]; ok {
		c.mu.Unlock()
		c.hits.Add(1) // no read of its own
		select {
		case <-f.done:
			return f.user, f.ok, f.err
		case <-ctx.Done():
			return access.User{}, false, ctx.Err()
		}
	}
	c.misses.Add(1)
	f := &liveFill{done: make(chan struct{})}
	c.filling[key] = f
	seq := c.seq
	c.mu.Unlock()

	f.user, f.ok, f.err = read()

	c.mu.Lock()
	delete(c.filling, key)
	if f.err == nil && f.ok && !c.down && seq == c.seq {
		if len(c.entries) >= c.max {
			clear(c.entries)
			clear(c.stored)
		}
		c.entries[key] = &liveSession{user: f.user, until: c.now().Add(c.ttl)}
		c.stored[sha256Hex(key)] = key
	}
	c.mu.Unlock()
	close(f.done)
	return f.user, f.ok, f.err
}

// liveSessionReadTimeout bounds one read of a session and its user for /live.
const liveSessionReadTimeout = 10 * time.Second

// liveAuthenticate is authenticate for /live and /live/poll: the signed-in user, if any,
// into the request context, read through Deps.LiveSessions (when set) and never written.
func (s *Server) liveAuthenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(s.sessions.Cookie.Name)
		if err != nil || c.Value == "" {
			next.ServeHTTP(w, r)
			return
		}
		key := sha256Hex(c.Value)
		ctx := context.WithValue(r.Context(), liveTokenKey, key)
		u, ok, err := s.liveUser(ctx, c.Value, key)
		if err != nil {
			s.error(w, r, err)
			return
		}
		if ok {
			ctx = context.WithValue(ctx, userKey, u)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// liveUser is the user token signs in: through the cache when there is one (key is the
// token's SHA-256, hex). false: no such session, or it signs nobody in.
func (s *Server) liveUser(ctx context.Context, token, key string) (access.User, bool, error) {
	read := func() (access.User, bool, error) {
		// Other connects may wait for this read: it does not end with this request.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), liveSessionReadTimeout)
		defer cancel()
		return s.readSessionUser(rctx, token)
	}
	if s.deps.LiveSessions == nil {
		return read()
	}
	return s.deps.LiveSessions.lookup(ctx, key, read)
}

// readSessionUser reads the session of token (scs.SessionManager.Load: one query; unlike
// LoadAndSave it never commits) and then its user.
func (s *Server) readSessionUser(ctx context.Context, token string) (access.User, bool, error) {
	sctx, err := s.sessions.Load(ctx, token)
	if err != nil {
		return access.User{}, false, err
	}
	id := s.sessions.GetInt64(sctx, sessionUserKey)
	if id == 0 {
		return access.User{}, false, nil
	}
	u, err := s.deps.Accounts.User(ctx, id)
	if errors.Is(err, fault.ErrNotFound) {
		return access.User{}, false, nil
	}
	if err != nil {
		return access.User{}, false, err
	}
	return u, true, nil
}
