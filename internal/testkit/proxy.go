package testkit

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy is a TCP proxy on a loopback port for fault tests: put it between the app and
// PostgreSQL, then Cut makes the database vanish as a crash or a network partition would
// (every connection through it reset, new ones refused) and Restore brings it back on the
// same address. It touches nothing but its own connections, so tests sharing one PostgreSQL
// server are unaffected.
type Proxy struct {
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener      // nil while cut
	conns map[net.Conn]bool // true: the client's side
	done  bool
	wg    sync.WaitGroup

	accepted, reset atomic.Int64
}

// NewProxy listens on a free loopback port and forwards every connection to target
// (host:port). It is closed at cleanup.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{target: target, addr: ln.Addr().String(), conns: map[net.Conn]bool{}}
	p.serve(ln)
	t.Cleanup(p.Close)
	return p
}

// Addr is the proxy's host:port, the same before and after a cut.
func (p *Proxy) Addr() string { return p.addr }

// Accepted counts the connections forwarded.
func (p *Proxy) Accepted() int64 { return p.accepted.Load() }

// Reset counts the client connections reset by Cut.
func (p *Proxy) Reset() int64 { return p.reset.Load() }

// Cut stops accepting (a connect is refused) and resets every open connection on both sides
// (RST, no FIN): clients see "connection reset", the server ends those sessions and rolls
// back their open transactions.
func (p *Proxy) Cut() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	conns := p.conns
	p.conns = map[net.Conn]bool{}
	p.mu.Unlock()
	for c, client := range conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // close with RST
		}
		c.Close()
		if client {
			p.reset.Add(1)
		}
	}
}

// Restore listens again on the same address. The port was ours a moment ago; another
// process taking it meanwhile is retried for a few seconds.
func (p *Proxy) Restore() error {
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; {
		if ln, err = net.Listen("tcp", p.addr); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	p.mu.Lock()
	if p.done || p.ln != nil {
		p.mu.Unlock()
		ln.Close()
		return errors.New("proxy: closed or not cut")
	}
	p.mu.Unlock()
	p.serve(ln)
	return nil
}

// Close cuts for good and waits for the proxy's goroutines.
func (p *Proxy) Close() {
	p.mu.Lock()
	p.done = true
	p.mu.Unlock()
	p.Cut()
	p.wg.Wait()
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by Cut
			}
			p.wg.Go(func() { p.pipe(c) })
		}
	})
}

// pipe connects c to the target and copies both ways until either side ends.
func (p *Proxy) pipe(c net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // cut while dialling
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = true, false
	p.mu.Unlock()
	p.accepted.Add(1)
	var wg sync.WaitGroup
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		// One direction ended: end both, as a proxy that forwards a close would.
		dst.Close()
		src.Close()
	}
	wg.Go(func() { cp(up, c) })
	wg.Go(func() { cp(c, up) })
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}
