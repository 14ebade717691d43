package liveedge

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// writers writes the /live sockets. A socket keeps one goroutine of its own, its reader (a
// read blocks); when it has something to write (frames the hub queued, presence frames, its
// end) it is queued here once and a worker of this shared pool writes it. An idle socket so
// holds one goroutine's stack instead of two, and a change fanned out to many sockets wakes a
// few running workers instead of a goroutine per socket (docs/benchmarks.md, Idle memory).
//
// A write blocks while the client's socket buffer is full (at most WriteTimeout, then the
// socket is closed). Workers are started up to minWriters while none is waiting, and one more
// for each worker found stuck in one socket's writes for writerStuck while sockets wait:
// clients that do not read must not hold up the others. Every writerIdle the waiting workers
// beyond minWriters end.
type writers struct {
	stuck time.Duration // zero: writerStuck
	idle  time.Duration // zero: writerIdle

	mu      sync.Mutex
	cond    sync.Cond
	queue   []queuedConn // FIFO from head
	head    int
	waiting int       // workers in cond.Wait
	all     []*worker // every running worker
	retire  int       // waiting workers to end
	stopped bool      // stop was called: every worker ends once the queue is empty
	watch   *time.Timer
	watched bool // watch is armed
	sweep   *time.Timer
	swept   bool // sweep is armed
}

type queuedConn struct {
	lc flusher
	at time.Time
}

// flusher is a socket with something to write (a *liveConn).
type flusher interface{ flush() }

// worker is one goroutine of the pool.
type worker struct {
	since    atomic.Int64 // when its current flush started (UnixNano); 0: not flushing
	replaced bool         // p.mu: a worker was started in its place while it is stuck
}

const (
	writerStuck = 20 * time.Millisecond
	writerIdle  = 10 * time.Second
	maxWriters  = 4096
)

var minWriters = max(2, 2*runtime.GOMAXPROCS(0))

func (p *writers) stuckAfter() time.Duration { return durationOr(p.stuck, writerStuck) }
func (p *writers) idleAfter() time.Duration  { return durationOr(p.idle, writerIdle) }

// push queues lc for a worker; lc.kick calls it once per idle → scheduled transition.
func (p *writers) push(lc flusher) {
	now := time.Now()
	p.mu.Lock()
	if p.cond.L == nil {
		p.cond.L = &p.mu
	}
	p.queue = append(p.queue, queuedConn{lc, now})
	switch {
	case p.waiting > 0:
		p.cond.Signal()
	case len(p.all) < minWriters:
		p.start(1)
	}
	if !p.watched {
		p.watched = true
		if p.watch == nil {
			p.watch = time.AfterFunc(p.stuckAfter(), p.check)
		} else {
			p.watch.Reset(p.stuckAfter())
		}
	}
	p.mu.Unlock()
}

// start starts n workers; p.mu is held.
func (p *writers) start(n int) {
	for range min(n, maxWriters-len(p.all)) {
		w := &worker{}
		p.all = append(p.all, w)
		go p.work(w)
	}
	if len(p.all) > minWriters && !p.swept {
		p.swept = true
		if p.sweep == nil {
			p.sweep = time.AfterFunc(p.idleAfter(), p.retireIdle)
		} else {
			p.sweep.Reset(p.idleAfter())
		}
	}
}

// check runs every writerStuck while sockets are queued: when the oldest has waited that
// long, a worker is started for each one stuck in a socket's writes since as long.
func (p *writers) check() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.head == len(p.queue) {
		p.watched = false
		return
	}
	stuck := p.stuckAfter()
	now := time.Now()
	if now.Sub(p.queue[p.head].at) >= stuck {
		n := 0
		for _, w := range p.all {
			if since := w.since.Load(); since != 0 && !w.replaced && now.UnixNano()-since >= int64(stuck) {
				w.replaced = true
				n++
			}
		}
		p.start(n)
	}
	p.watch.Reset(stuck)
}

// stop ends every worker once nothing is queued; Endpoint.Close calls it when its sockets have
// ended.
func (p *writers) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
	p.cond.Broadcast()
	for _, t := range []*time.Timer{p.watch, p.sweep} {
		if t != nil {
			t.Stop()
		}
	}
	p.watched, p.swept = false, false
}

// retireIdle ends the waiting workers beyond minWriters.
func (p *writers) retireIdle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.retire = min(p.waiting, len(p.all)-minWriters)
	if p.retire > 0 {
		p.cond.Broadcast()
	}
	if len(p.all)-p.retire > minWriters {
		p.sweep.Reset(p.idleAfter())
	} else {
		p.swept = false
	}
}

func (p *writers) work(w *worker) {
	p.mu.Lock()
	for {
		for p.head == len(p.queue) {
			if p.retire > 0 || p.stopped {
				p.retire = max(p.retire-1, 0)
				i := slices.Index(p.all, w)
				p.all[i] = p.all[len(p.all)-1]
				p.all[len(p.all)-1] = nil
				p.all = p.all[:len(p.all)-1]
				p.mu.Unlock()
				return
			}
			p.waiting++
			p.cond.Wait()
			p.waiting--
		}
		lc := p.queue[p.head].lc
		p.queue[p.head] = queuedConn{}
		p.head++
		switch {
		case p.head == len(p.queue):
			p.queue, p.head = p.queue[:0], 0
		case p.head > 1024 && 2*p.head > len(p.queue): // a queue that never empties
			n := copy(p.queue, p.queue[p.head:])
			clear(p.queue[n:])
			p.queue, p.head = p.queue[:n], 0
		}
		p.mu.Unlock()
		w.since.Store(time.Now().UnixNano())
		lc.flush()
		w.since.Store(0)
		p.mu.Lock()
		w.replaced = false
	}
}
