package worker

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tenantops/onboard/internal/operation"
)

// progress hands a run's progress from the provider to the database without ever making
// the provider wait for it: the provider's callback only stores the latest counts (latest
// wins) and nudges a goroutine, which writes at most once per ProgressEvery, and writes the
// unchanged counts as a heartbeat when nothing moved for heartbeatEvery. Each write is a
// commit that fires NOTIFY triggers, which serialise commits database-wide, so coalescing
// here is what keeps many concurrent runs cheap.
type progress struct {
	runs      Runs
	runID     string
	every     time.Duration
	heartbeat time.Duration
	onWrite   func(runID string)
	onDone    func() // the run was completed elsewhere: stop the provider
	log       *slog.Logger

	mu     sync.Mutex
	counts operation.Counts
	dirty  bool

	wake     chan struct{}
	cancel   context.CancelFunc
	done     chan struct{}
	finished atomic.Bool
}

// startProgress starts the writer of one run's progress; counts are the run's current ones.
func (w *Workers) startProgress(runID string, counts operation.Counts, onRunFinished func()) *progress {
	ctx, cancel := context.WithCancel(context.Background())
	p := &progress{
		runs: w.runs, runID: runID, every: w.opts.ProgressEvery, heartbeat: w.opts.heartbeatEvery(),
		onWrite: w.progressed, onDone: onRunFinished, log: w.log.With("run_id", runID),
		counts: counts, wake: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{}),
	}
	go p.loop(ctx)
	return p
}

// report is the provider's Progress callback. During a run the done items are shown as
// succeeded; CompleteRun writes the real final counts.
func (p *progress) report(done, total int) {
	total = max(total, 0)
	done = min(max(done, 0), total)
	p.mu.Lock()
	p.counts = operation.Counts{Total: total, Succeeded: done}
	p.dirty = true
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// latest returns the last counts reported (or the run's counts at its start).
func (p *progress) latest() operation.Counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts
}

// stop ends the writer and waits for it. A write in flight is abandoned; one that reaches
// the database after the completion changes nothing (the run is no longer running).
func (p *progress) stop() {
	p.cancel()
	<-p.done
}

// runFinished reports whether a progress write learnt that the run was completed elsewhere.
func (p *progress) runFinished() bool { return p.finished.Load() }

func (p *progress) loop(ctx context.Context) {
	defer close(p.done)
	// BeginRun has just stamped the heartbeat.
	last := time.Now()
	beat := time.NewTimer(p.heartbeat)
	defer beat.Stop()
	for {
		heartbeat := false
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
			if wait := time.Until(last.Add(p.every)); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
			}
		case <-beat.C:
			heartbeat = true
		}
		p.mu.Lock()
		counts, dirty := p.counts, p.dirty
		p.dirty = false
		p.mu.Unlock()
		if !dirty && !heartbeat {
			continue // a nudge whose counts an earlier write already took
		}
		err := p.runs.ProgressRun(ctx, p.runID, counts)
		last = time.Now()
		beat.Reset(p.heartbeat)
		switch {
		case errors.Is(err, operation.ErrRunFinished):
			p.finished.Store(true)
			p.onDone()
			return
		case err != nil && ctx.Err() == nil:
			p.log.Warn("progress write failed", "error", err)
		}
		if p.onWrite != nil {
			p.onWrite(p.runID)
		}
	}
}
