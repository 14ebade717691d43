package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/live"
	"github.com/tenantops/onboard/internal/livemetrics"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/postgres"
	"github.com/tenantops/onboard/internal/presence"
	"github.com/tenantops/onboard/internal/presenter"
	"github.com/tenantops/onboard/internal/web"
)

// liveOptions tune the live path; zero values take each package's defaults. Tests shrink
// queues and timeouts through it.
type liveOptions struct {
	Hub      live.Options            // Observer and Logger are set by startLive
	Listener postgres.ListenerConfig // URL, Hub, Pool, Logger and Observer are set by startLive
	Endpoint web.Live                // Hub, Metrics and Presence are set by startLive
	Presence presence.Options        // Process (when empty) and Logger are set by startLive
	// PresenceStore carries presence between processes; nil = the database's (tests wrap it
	// to make a process "crash").
	PresenceStore presence.Store
	// SessionSweep: how often expired sessions are deleted, which closes their sockets
	// (4401) through the sessions table's delete trigger; default 1s, negative = never.
	SessionSweep time.Duration
}

// The /live socket caps' defaults, for serve's flags (whose function shadows package web).
const (
	defaultLiveMaxUser = web.DefaultMaxSocketsPerUser
	defaultLiveMaxAddr = web.DefaultMaxSocketsPerAddress
)

// liveOptions are serve's settings of the live path.
func (c serveConfig) liveOptions() liveOptions {
	return liveOptions{
		Endpoint: web.Live{MaxSocketsPerUser: c.LiveMaxUser, MaxSocketsPerAddress: c.LiveMaxAddr},
		Presence: presence.Options{LeaseInterval: c.PresenceLease, LeaseTTL: c.PresenceTTL},
	}
}

// liveRuntime is one process's push path: PostgreSQL listener → hub → /live endpoint.
type liveRuntime struct {
	Hub      *live.Hub
	Listener *postgres.Listener
	Metrics  *livemetrics.Metrics
	Endpoint *web.Live
	Presence *presence.Registry
	wg       sync.WaitGroup
	errs     chan error
	once     sync.Once
	err      error
}

// startLive wires and starts the live path: a hub rendering from src, authorised by
// workspace membership, fed by a dedicated listener connection. The hub and the listener run
// until ctx ends; wait blocks until they have stopped.
func startLive(ctx context.Context, db *postgres.DB, dbURL string, src live.Source, reg prometheus.Registerer, log *slog.Logger, opts liveOptions) (*liveRuntime, error) {
	m := livemetrics.New(reg)
	hubOpts := opts.Hub
	hubOpts.Observer, hubOpts.Logger = m, log
	hub := live.NewHub(src, liveAuth{db}, hubOpts)
	m.WatchHub(hub.Stats)

	popts := opts.Presence
	if popts.Process == "" {
		popts.Process = processName()
	}
	popts.Logger = log
	var pstore presence.Store = db.PresenceStore()
	if opts.PresenceStore != nil {
		pstore = opts.PresenceStore
	}
	pres, err := presence.New(pstore, popts)
	if err != nil {
		return nil, err
	}
	livemetrics.RegisterPresence(reg, pres.Stats)

	lcfg := opts.Listener
	lcfg.URL, lcfg.Hub, lcfg.Pool, lcfg.Logger, lcfg.Observer, lcfg.Presence = dbURL, hub, db.Pool, log, m, pres
	ln, err := postgres.NewListener(lcfg)
	if err != nil {
		return nil, err
	}
	ep := opts.Endpoint
	ep.Hub, ep.Metrics, ep.Presence = hub, web.NewLiveMetrics(m), pres
	if ep.CurrentRevs == nil {
		ep.CurrentRevs = liveAuth{db}.currentRevs
	}

	lr := &liveRuntime{Hub: hub, Listener: ln, Metrics: m, Endpoint: &ep, Presence: pres, errs: make(chan error, 3)}
	lr.wg.Go(func() { lr.errs <- hub.Run(ctx) })
	lr.wg.Go(func() { lr.errs <- pres.Run(ctx) })
	lr.wg.Go(func() { lr.errs <- ln.Run(ctx) })
	if every := cmp.Or(opts.SessionSweep, time.Second); every > 0 {
		lr.wg.Go(func() { sweepSessions(ctx, db, every, log) })
	}
	return lr, nil
}

// processName names this process in presence messages and its lease row: host, pid and a
// random suffix, so a restarted process never takes over a dead one's lease.
func processName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d-%s", cmp.Or(host, "onboard"), os.Getpid(), rand.Text()[:8])
}

// sweepSessions deletes expired sessions every interval until ctx ends. Every process runs
// it: the delete trigger notifies all of them, so an expired session's sockets close within
// about one interval wherever they are. Failures are logged when they start and stop.
func sweepSessions(ctx context.Context, db *postgres.DB, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, err := db.DeleteExpiredSessions(ctx)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			log.Warn("live: session sweep failing", "err", err)
			failing = true
		case err == nil && failing:
			log.Info("live: session sweep recovered")
			failing = false
		}
	}
}

// wait blocks until the hub and the listener have stopped and returns their first error.
func (lr *liveRuntime) wait() error {
	lr.once.Do(func() {
		lr.wg.Wait()
		close(lr.errs)
		var errs []error
		for err := range lr.errs {
			errs = append(errs, err)
		}
		lr.err = errors.Join(errs...)
	})
	return lr.err
}

// ready is /readyz: the database answers and the listener is connected.
func (lr *liveRuntime) ready(db *postgres.DB) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := db.Ping(ctx); err != nil {
			return err
		}
		if !lr.Listener.Connected() {
			return errors.New("live listener not connected")
		}
		return nil
	}
}

// liveAuth adapts the membership query to live.Authorizer.
type liveAuth struct{ db *postgres.DB }

func (a liveAuth) Cohort(ctx context.Context, userID, workspaceID int64) (string, error) {
	return a.db.LiveCohort(ctx, userID, workspaceID)
}

// currentRevs is web.Live's CurrentRevs: the revs of the drafts userID may view, by the
// hub's own rule (Cohort for each workspace: a member with the view capability); the
// others are left out, so the hub refuses them as it would.
func (a liveAuth) currentRevs(ctx context.Context, userID int64, ids []string) (map[string]int64, error) {
	revs, err := a.db.DraftRevs(ctx, ids)
	if err != nil {
		return nil, err
	}
	allowed := map[int64]bool{}
	out := make(map[string]int64, len(revs))
	for id, r := range revs {
		ok, known := allowed[r.Workspace]
		if !known {
			_, err := a.Cohort(ctx, userID, r.Workspace)
			if err != nil && !errors.Is(err, fault.ErrNotFound) && !errors.Is(err, fault.ErrForbidden) {
				return nil, err
			}
			ok = err == nil
			allowed[r.Workspace] = ok
		}
		if ok {
			out[id] = r.Rev
		}
	}
	return out, nil
}

// newLiveSource is the hub's Source: one snapshot query per draft change (the draft, its
// latest runs and its connection) and one render per view and permission cohort, with the
// same components the pages use.
func newLiveSource(db *postgres.DB) live.Source { return liveSource{db} }

type liveSource struct{ db *postgres.DB }

// draftSnapshot is one draft's state as the hub sees it.
type draftSnapshot struct {
	snap onboarding.Snapshot
	rev  int64 // snap.Rev(), computed once
}

func (s draftSnapshot) Target() string     { return s.snap.Draft.ID }
func (s draftSnapshot) WorkspaceID() int64 { return s.snap.Draft.WorkspaceID }
func (s draftSnapshot) Rev() int64         { return s.rev }

// Topic snapshots (docs/live.md, Topics): the drafts list's and the operations list's digests
// of a workspace, and a user's bell. Each is one query's answer; Target is the topic id.
type (
	draftsDigestSnapshot struct{ d onboarding.DraftsDigest }
	runsDigestSnapshot   struct{ d onboarding.RunsDigest }
	bellSnapshot         struct{ b onboarding.Bell }
)

func (s draftsDigestSnapshot) Target() string     { return live.DraftsTopic(s.d.WorkspaceID) }
func (s draftsDigestSnapshot) WorkspaceID() int64 { return s.d.WorkspaceID }
func (s draftsDigestSnapshot) Rev() int64         { return s.d.Rev }
func (s runsDigestSnapshot) Target() string       { return live.RunsTopic(s.d.WorkspaceID) }
func (s runsDigestSnapshot) WorkspaceID() int64   { return s.d.WorkspaceID }
func (s runsDigestSnapshot) Rev() int64           { return s.d.Rev }
func (s bellSnapshot) Target() string             { return live.UserTopic(s.b.UserID) }
func (s bellSnapshot) WorkspaceID() int64         { return 0 } // the owner check authorises it
func (s bellSnapshot) Rev() int64                 { return s.b.Rev }

// loadTopic reads a topic's snapshot; ok is false when id is not a topic.
func (s liveSource) loadTopic(ctx context.Context, id string) (_ live.Snapshot, ok bool, err error) {
	prefix, n, ok := live.ParseTopic(id)
	if !ok {
		return nil, false, nil
	}
	switch prefix {
	case live.TopicDraftsPrefix:
		d, err := s.db.DraftsDigest(ctx, n)
		return draftsDigestSnapshot{d}, true, err
	case live.TopicRunsPrefix:
		d, err := s.db.RunsDigest(ctx, n)
		return runsDigestSnapshot{d}, true, err
	default:
		b, err := s.db.Bell(ctx, n)
		return bellSnapshot{b}, true, err
	}
}

func (s liveSource) Load(ctx context.Context, draftID string) (live.Snapshot, error) {
	if snap, ok, err := s.loadTopic(ctx, draftID); ok {
		return snap, err
	}
	snap, err := s.db.DraftSnapshot(ctx, draftID)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, fmt.Errorf("draft %s: %w", draftID, fault.ErrGone)
	}
	if err != nil {
		return nil, err
	}
	return draftSnapshot{snap: snap, rev: snap.Rev()}, nil
}

func (s liveSource) Render(ctx context.Context, snap live.Snapshot, view, cohort string) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	switch snap := snap.(type) {
	case draftSnapshot:
		err = presenter.RenderFragment(ctx, &buf, snap.snap, view, cohort)
	case draftsDigestSnapshot:
		err = presenter.RenderDraftsDigest(ctx, &buf, snap.d)
	case runsDigestSnapshot:
		err = presenter.RenderRunsDigest(ctx, &buf, snap.d)
	case bellSnapshot:
		err = presenter.RenderBell(ctx, &buf, snap.b)
	default:
		err = fmt.Errorf("render: unexpected snapshot %T", snap)
	}
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
