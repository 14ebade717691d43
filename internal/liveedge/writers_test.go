package liveedge

import (
	"sync/atomic"
	"testing"
	"time"
)

// flushFunc is a queued socket whose flush runs f.
type flushFunc func()

func (f flushFunc) flush() { f() }

// count returns how many workers p runs.
func (p *writers) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.all)
}

// waitUntil waits for cond, at most 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
	}
}

// TestWritersStuck: while every worker is blocked writing to a client that does not read, a
// socket queued behind them is still written (more workers are started), and once they are
// free again the pool shrinks back to minWriters.
func TestWritersStuck(t *testing.T) {
	t.Parallel()
	p := &writers{stuck: 5 * time.Millisecond, idle: 20 * time.Millisecond}
	release := make(chan struct{})
	var blocked atomic.Int32
	for range minWriters + 3 {
		p.push(flushFunc(func() { blocked.Add(1); <-release }))
	}
	waitUntil(t, "the stuck writes started", func() bool { return blocked.Load() >= int32(minWriters) })
	done := make(chan struct{})
	p.push(flushFunc(func() { close(done) }))
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("a socket queued behind %d stuck writes was not written (workers %d)", blocked.Load(), p.count())
	}
	if n := p.count(); n <= minWriters {
		t.Errorf("%d workers, want more than minWriters (%d) while they are stuck", n, minWriters)
	}
	close(release)
	waitUntil(t, "the pool back to minWriters", func() bool { return p.count() == minWriters })
}

// TestWritersBurst: a burst of sockets far larger than the pool is written completely, by no
// more than minWriters workers when no write blocks; stop ends them all.
func TestWritersBurst(t *testing.T) {
	t.Parallel()
	p := &writers{stuck: time.Minute} // on a busy machine a flush may be descheduled for 20 ms
	const n = 10000
	var written atomic.Int32
	all := make(chan struct{})
	for range n {
		p.push(flushFunc(func() {
			if written.Add(1) == n {
				close(all)
			}
		}))
	}
	select {
	case <-all:
	case <-time.After(10 * time.Second):
		t.Fatalf("%d of %d written", written.Load(), n)
	}
	if w := p.count(); w > minWriters {
		t.Errorf("%d workers for writes that never block, want at most %d", w, minWriters)
	}
	p.stop()
	waitUntil(t, "every worker ended after stop", func() bool { return p.count() == 0 })
}
