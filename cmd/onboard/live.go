package main

import (
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

	"github.com/tenantops/onboard/internal/live"
	"github.com/tenantops/onboard/internal/liveedge"
	"github.com/tenantops/onboard/internal/livemetrics"
	"github.com/tenantops/onboard/internal/livesource"
	"github.com/tenantops/onboard/internal/postgres"
	"github.com/tenantops/onboard/internal/presence"
	"github.com/tenantops/onboard/internal/web"
)

// liveOptions tune the live path; zero values take each package's defaults. Tests shrink
// queues and timeouts through it.
type liveOptions struct {
	Hub      live.Options            // Observer and Logger are set by startLive
	Listener postgres.ListenerConfig // URL, Hub, Pool, Logger and Observer are set by startLive
	Endpoint liveedge.Config         // Hub, Metrics and Presence are set by startLive
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
	defaultLiveMaxUser = liveedge.DefaultMaxSocketsPerUser
	defaultLiveMaxAddr = liveedge.DefaultMaxSocketsPerAddress
)

// liveOptions are serve's settings of the live path.
func (c serveConfig) liveOptions() liveOptions {
	return liveOptions{
		Hub:      live.Options{LoadRate: float64(c.LiveLoadRate), LoadBurst: c.LiveLoadBurst},
		Endpoint: liveedge.Config{MaxSocketsPerUser: c.LiveMaxUser, MaxSocketsPerAddress: c.LiveMaxAddr},
		Presence: presence.Options{LeaseInterval: c.PresenceLease, LeaseTTL: c.PresenceTTL},
	}
}

// liveRuntime is one process's push path: PostgreSQL listener → hub → /live endpoint.
type liveRuntime struct {
	Hub      *live.Hub
	Listener *postgres.Listener
	Metrics  *livemetrics.Metrics
	Endpoint *liveedge.Config
	Presence *presence.Registry
	// Dashboards reads workspace dashboards for pages; nil with a source not the database's.
	Dashboards *livesource.Dashboards
	// Sessions is /live's cache of who a session signs in, fed by the listener.
	Sessions *web.LiveSessions
	wg       sync.WaitGroup
	errs     chan error
	once     sync.Once
	err      error
}

// startLive wires and starts the live path: a hub rendering from src, authorised by the
// may-view rule (livesource.Authorizer), fed by a dedicated listener connection. The hub and
// the listener run until ctx ends; wait blocks until they have stopped.
func startLive(ctx context.Context, db *postgres.DB, dbURL string, src live.Source, reg prometheus.Registerer, log *slog.Logger, opts liveOptions) (*liveRuntime, error) {
	m := livemetrics.New(reg)
	hubOpts := opts.Hub
	hubOpts.Observer, hubOpts.Logger = m, log
	hub := live.NewHub(src, livesource.NewAuthorizer(db), hubOpts)
	m.WatchHub(hub.Stats)

	popts := opts.Presence
	if popts.Process == "" {
		popts.Process = processName()
	}
	popts.Logger = log
	dash := dashboardsOf(src)
	if dash != nil && popts.OnChange == nil {
		popts.OnChange = dash.PresenceChanged
	}
	var pstore presence.Store = db.PresenceStore()
	if opts.PresenceStore != nil {
		pstore = opts.PresenceStore
	}
	pres, err := presence.New(pstore, popts)
	if err != nil {
		return nil, err
	}
	livemetrics.RegisterPresence(reg, pres.Stats)
	if dash != nil {
		dash.Attach(pres.Everyone, hub.Notify, log)
	}

	sessions := web.NewLiveSessions(liveSessionTTL, liveSessionMax)
	registerLiveSessions(reg, sessions)
	lcfg := opts.Listener
	lcfg.URL, lcfg.Hub, lcfg.Pool, lcfg.Logger, lcfg.Observer, lcfg.Presence = dbURL,
		livesource.HubNotifier{Hub: hub, Sessions: sessions}, db.Pool, log, m, pres
	ln, err := postgres.NewListener(lcfg)
	if err != nil {
		return nil, err
	}
	ep := opts.Endpoint
	ep.Hub, ep.Metrics, ep.Presence = hub, liveedge.NewMetrics(m), pres
	if ep.CurrentRevs == nil {
		ep.CurrentRevs = livesource.NewAuthorizer(db).CurrentRevs
	}

	lr := &liveRuntime{Hub: hub, Listener: ln, Metrics: m, Endpoint: &ep, Presence: pres, Dashboards: dash, Sessions: sessions,
		errs: make(chan error, 3)}
	lr.wg.Go(func() { lr.errs <- hub.Run(ctx) })
	lr.wg.Go(func() { lr.errs <- pres.Run(ctx) })
	lr.wg.Go(func() { lr.errs <- ln.Run(ctx) })
	if every := cmp.Or(opts.SessionSweep, time.Second); every > 0 {
		lr.wg.Go(func() { sweepSessions(ctx, db, every, log) })
	}
	return lr, nil
}

// /live's session cache: an entry lives at most liveSessionTTL (the change stream keeps it
// true; the bound is for what it cannot say), and at most liveSessionMax sessions are kept.
const (
	liveSessionTTL = 10 * time.Minute
	liveSessionMax = 100_000
)

// registerLiveSessions exports the session cache's hits and misses.
func registerLiveSessions(reg prometheus.Registerer, c *web.LiveSessions) {
	if reg == nil {
		return
	}
	for _, result := range []string{"hit", "miss"} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "onboard_live_session_cache_total",
			Help:        "Session lookups of /live and /live/poll, by result (a miss reads the session and its user).",
			ConstLabels: prometheus.Labels{"result": result}}, func() float64 {
			hits, misses := c.Stats()
			if result == "hit" {
				return float64(hits)
			}
			return float64(misses)
		}))
	}
}

// dashboardsOf is the workspace dashboards' reader of src, nil when src is not the
// database's (tests' fake sources).
func dashboardsOf(src live.Source) *livesource.Dashboards {
	if s, ok := src.(livesource.Source); ok {
		return s.Dashboards()
	}
	return nil
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
