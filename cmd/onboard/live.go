package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenantops/onboard/internal/live"
	"github.com/tenantops/onboard/internal/postgres"
	"github.com/tenantops/onboard/internal/web"
)

// liveOptions tune the live path; zero values take each package's defaults. Tests shrink
// queues and timeouts through it.
type liveOptions struct {
	Hub      live.Options            // Observer and Logger are set by startLive
	Listener postgres.ListenerConfig // URL, Hub, Pool, Logger and Observer are set by startLive
	Endpoint web.Live                // Hub and Metrics are set by startLive
}

// liveRuntime is one process's push path: PostgreSQL listener → hub → /live endpoint.
type liveRuntime struct {
	Hub      *live.Hub
	Listener *postgres.Listener
	Metrics  *web.LiveMetrics
	Endpoint *web.Live
	wg       sync.WaitGroup
	errs     chan error
	once     sync.Once
	err      error
}

// startLive wires and starts the live path: a hub rendering from src, authorised by
// workspace membership, fed by a dedicated listener connection. The hub and the listener run
// until ctx ends; wait blocks until they have stopped.
func startLive(ctx context.Context, db *postgres.DB, dbURL string, src live.Source, reg prometheus.Registerer, log *slog.Logger, opts liveOptions) (*liveRuntime, error) {
	m := web.NewLiveMetrics(reg)
	hubOpts := opts.Hub
	hubOpts.Observer, hubOpts.Logger = m, log
	hub := live.NewHub(src, liveAuth{db}, hubOpts)
	m.WatchHub(hub.Stats)

	lcfg := opts.Listener
	lcfg.URL, lcfg.Hub, lcfg.Pool, lcfg.Logger, lcfg.Observer = dbURL, hub, db.Pool, log, m
	ln, err := postgres.NewListener(lcfg)
	if err != nil {
		return nil, err
	}
	ep := opts.Endpoint
	ep.Hub, ep.Metrics = hub, m

	lr := &liveRuntime{Hub: hub, Listener: ln, Metrics: m, Endpoint: &ep, errs: make(chan error, 2)}
	lr.wg.Go(func() { lr.errs <- hub.Run(ctx) })
	lr.wg.Go(func() { lr.errs <- ln.Run(ctx) })
	return lr, nil
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

// newLiveSource is a placeholder live.Source: one query per snapshot and a minimal fragment
// carrying the contract's attributes. The views' checkpoint fragment replaces it.
func newLiveSource(db *postgres.DB) live.Source { return liveSource{db} }

type liveSource struct{ db *postgres.DB }

func (s liveSource) Load(ctx context.Context, draftID string) (live.Snapshot, error) {
	return s.db.LiveDraft(ctx, draftID)
}

func (s liveSource) Render(ctx context.Context, snap live.Snapshot, view, cohort string) ([]byte, error) {
	d, ok := snap.(postgres.LiveDraft)
	if !ok {
		return nil, fmt.Errorf("render: unexpected snapshot %T", snap)
	}
	e := html.EscapeString
	return fmt.Appendf(nil, `<div data-live="%s" data-draft-id="%s" data-version="%d" data-rev="%d" data-lifecycle="%s" data-checkpoint="%s">%s · %s</div>`,
		e(view), e(d.DraftID()), d.Version(), d.Rev(), e(d.Lifecycle()), e(d.Checkpoint()), e(d.Lifecycle()), e(d.Checkpoint())), nil
}
