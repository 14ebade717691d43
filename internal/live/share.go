package live

import (
	"context"
	"errors"
	"time"

	"github.com/tenantops/onboard/internal/fault"
)

// This file makes Subscribe cheap under a connect storm: concurrent Subscribes share one
// Load per draft and one Render per (draft, view, cohort, rev), a Subscribe reuses the hub's
// snapshot when it is known current, and Authorizer.Cohort answers are single-flighted and
// cached briefly per (user, workspace).

// loadCall is one Subscribe Load in flight, shared by every Subscribe of the draft.
type loadCall struct {
	done chan struct{}
	snap Snapshot
	err  error
}

// renderCallKey identifies one Subscribe render.
type renderCallKey struct {
	view, cohort string
	rev          int64
}

type renderCall struct {
	done chan struct{}
	b    []byte
	err  error
}

// cohortCall is one Authorizer.Cohort query for a (user, workspace): in flight until done is
// closed, then an answer the cache may hand out until at+TTL.
type cohortCall struct {
	done   chan struct{}
	cohort string
	err    error
	// seq is h.memberSeq when the query began: if a membership event or Resync came since,
	// the answer may predate a revocation (activate then schedules a re-check).
	seq uint64
	// h.mu: finished = done is closed; at = when the answer arrived.
	finished bool
	at       time.Time
}

func cohortTTL(opts Options) time.Duration {
	if opts.CohortTTL != 0 {
		return opts.CohortTTL
	}
	return min(opts.RecheckInterval, 3*time.Second)
}

// detached returns a context for work shared by several callers: it keeps ctx's values but
// not its cancellation (one caller giving up must not fail the others), bounded by
// WorkTimeout.
func (h *Hub) detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), h.opts.WorkTimeout)
}

// snapshot returns ds's current snapshot for a Subscribe. It reuses ds.fresh when the hub
// knows it is current: the listener has connected (epoch > 0), no notification or resync
// came after its load began (fresh is cleared then), and no pass is queued, running or due.
// Otherwise it joins the Subscribe load in flight for the draft or starts one. Either way
// the snapshot is only a floor: activate takes ds.snap when newer and marks a running pass
// dirty, so a change landing meanwhile still reaches the new client.
func (h *Hub) snapshot(ctx context.Context, ds *draftState) (Snapshot, error) {
	h.mu.Lock()
	if h.epoch > 0 && !h.disconnected && ds.fresh != nil && !ds.gone && !ds.queued && !ds.busy && !ds.dirty && !ds.force {
		snap := ds.fresh
		h.mu.Unlock()
		h.stats.reused.Add(1)
		return snap, nil
	}
	call := ds.loading
	if call == nil {
		call = &loadCall{done: make(chan struct{})}
		ds.loading = call
		seq, epoch := ds.seq, h.epoch
		lctx, cancel := h.detached(ctx)
		go func() {
			defer cancel()
			snap, err := h.pacedLoad(lctx, ds.id)
			h.mu.Lock()
			call.snap, call.err = snap, err
			if ds.loading == call {
				ds.loading = nil
			}
			if err == nil {
				h.keepSnapLocked(ds, snap, seq, epoch)
			}
			h.mu.Unlock()
			close(call.done)
		}()
	} else {
		h.stats.loadsShared.Add(1)
	}
	h.mu.Unlock()
	select {
	case <-call.done:
		return call.snap, call.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// pacedLoad is load after a token of the Subscribe pace (Options.LoadRate).
func (h *Hub) pacedLoad(ctx context.Context, draftID string) (Snapshot, error) {
	if err := h.pace.wait(ctx); err != nil {
		return nil, err
	}
	return h.load(ctx, draftID)
}

// renderShared renders k for snap once for all concurrent Subscribes that need it.
func (h *Hub) renderShared(ctx context.Context, ds *draftState, snap Snapshot, k renderKey) ([]byte, error) {
	ck := renderCallKey{k.view, k.cohort, snap.Rev()}
	h.mu.Lock()
	call := ds.rendering[ck]
	leader := call == nil
	if leader {
		call = &renderCall{done: make(chan struct{})}
		if ds.rendering == nil {
			ds.rendering = make(map[renderCallKey]*renderCall)
		}
		ds.rendering[ck] = call
	}
	h.mu.Unlock()
	if leader {
		rctx, cancel := h.detached(ctx)
		b, d, err := h.render(rctx, snap, k)
		cancel()
		if err == nil {
			changed, _ := h.store(ds, k, snap.Rev(), b, false)
			h.obs.Rendered(k.view, k.cohort, d, len(b), changed, nil)
		}
		h.mu.Lock()
		call.b, call.err = b, err
		delete(ds.rendering, ck)
		h.mu.Unlock()
		close(call.done)
	}
	select {
	case <-call.done:
		return call.b, call.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// cohort returns the viewer's finished cohort call for (user, ws) for a Subscribe: a cached
// answer (successful, not stale, younger than the TTL), the query in flight, or a new query.
// Only successful answers are cached: a refusal or a transient error is shared with the
// callers waiting for it and then forgotten.
func (h *Hub) cohort(ctx context.Context, userID, ws int64) (*cohortCall, error) {
	k := memberKey{userID, ws}
	h.mu.Lock()
	call := h.cohorts[k]
	switch {
	case call == nil:
	case !call.finished:
		h.stats.cohortHits.Add(1)
	case !h.disconnected && call.err == nil && h.cohortTTL > 0 && h.now().Sub(call.at) < h.cohortTTL:
		h.mu.Unlock()
		h.stats.cohortHits.Add(1)
		return call, nil
	default:
		call = nil
	}
	if call == nil {
		call = &cohortCall{done: make(chan struct{}), seq: h.memberSeq}
		h.cohorts[k] = call
		qctx, cancel := h.detached(ctx)
		go func() {
			defer cancel()
			h.queryCohort(qctx, k, call)
		}()
	}
	h.mu.Unlock()
	select {
	case <-call.done:
		return call, call.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// recheckCohort asks the Authorizer afresh (never from the cache). A successful answer
// replaces a finished cache entry when no membership event or Resync came during the query;
// a refusal forgets the entry.
func (h *Hub) recheckCohort(ctx context.Context, userID, ws int64) (string, error) {
	k := memberKey{userID, ws}
	h.mu.Lock()
	seq := h.memberSeq
	h.mu.Unlock()
	h.stats.cohortQueries.Add(1)
	cohort, err := h.auth.Cohort(ctx, userID, ws)
	h.mu.Lock()
	defer h.mu.Unlock()
	cur := h.cohorts[k]
	switch {
	case errors.Is(err, fault.ErrNotFound) || errors.Is(err, fault.ErrForbidden):
		delete(h.cohorts, k)
	case err == nil && seq == h.memberSeq && h.cohortTTL > 0 && (cur == nil || cur.finished):
		call := &cohortCall{done: make(chan struct{}), cohort: cohort, seq: seq, finished: true, at: h.now()}
		close(call.done)
		h.cohorts[k] = call
	}
	return cohort, err
}

// queryCohort runs call's query and publishes the answer.
func (h *Hub) queryCohort(ctx context.Context, k memberKey, call *cohortCall) {
	h.stats.cohortQueries.Add(1)
	cohort, err := h.auth.Cohort(ctx, k.user, k.workspace)
	h.mu.Lock()
	call.cohort, call.err = cohort, err
	call.finished, call.at = true, h.now()
	if h.cohorts[k] == call && (err != nil || h.cohortTTL <= 0) {
		delete(h.cohorts, k)
	}
	h.mu.Unlock()
	close(call.done)
}

// invalidateCohortLocked forgets the cached or in-flight cohort of k: later Subscribes ask
// again. (Subscribes already holding it see h.memberSeq moved and schedule a re-check.)
func (h *Hub) invalidateCohortLocked(k memberKey) {
	delete(h.cohorts, k)
}
