package main

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// benchRaw is the baseline of the live mode: a bare coder/websocket broadcast of 2 KiB frames
// from an in-process server to the clients, with no database, hub or rendering. The live mode
// is measured against it.
func benchRaw(ctx context.Context, c benchConfig) (benchResult, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return benchResult{}, err
	}
	var (
		mu    sync.Mutex
		conns = map[chan []byte]struct{}{}
	)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer conn.CloseNow()
		q := make(chan []byte, 8)
		mu.Lock()
		conns[q] = struct{}{}
		mu.Unlock()
		defer func() {
			mu.Lock()
			delete(conns, q)
			mu.Unlock()
		}()
		cctx := conn.CloseRead(r.Context())
		for {
			select {
			case <-cctx.Done():
				return
			case b := <-q:
				wctx, cancel := context.WithTimeout(cctx, 5*time.Second)
				err := conn.Write(wctx, websocket.MessageText, b)
				cancel()
				if err != nil {
					return
				}
			}
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		lat               latencies
		received, dropped atomic.Int64
		wg                sync.WaitGroup
		connected         sync.WaitGroup
	)
	start := time.Now()
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	g0 := runtime.NumGoroutine()
	for i := 0; i < c.Clients; i++ {
		wg.Add(1)
		connected.Add(1)
		go func() {
			defer wg.Done()
			conn, _, err := websocket.Dial(runCtx, "ws://"+ln.Addr().String()+"/", nil)
			connected.Done()
			if err != nil {
				return
			}
			defer conn.CloseNow()
			var last uint64
			for {
				_, msg, err := conn.Read(runCtx)
				if err != nil {
					return
				}
				if len(msg) < 16 {
					continue
				}
				seq := binary.BigEndian.Uint64(msg)
				sent := time.Unix(0, int64(binary.BigEndian.Uint64(msg[8:])))
				lat.add(time.Since(sent))
				received.Add(1)
				if last > 0 && seq > last+1 {
					dropped.Add(int64(seq - last - 1))
				}
				last = seq
			}
		}()
	}
	connected.Wait()
	for {
		mu.Lock()
		n := len(conns)
		mu.Unlock()
		if n == c.Clients || time.Since(start) > time.Minute {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	var ms1 runtime.MemStats
	runtime.ReadMemStats(&ms1)
	g1 := runtime.NumGoroutine()

	frame := make([]byte, 2048)
	for i := 16; i < len(frame); i++ {
		frame[i] = 'x'
	}
	interval := time.Duration(float64(time.Second) / c.Rate)
	tick := time.NewTicker(interval)
	var seq uint64
	var expected int64
	t0 := time.Now()
	for time.Since(t0) < c.Duration && ctx.Err() == nil {
		<-tick.C
		seq++
		b := make([]byte, len(frame))
		copy(b, frame)
		binary.BigEndian.PutUint64(b, seq)
		binary.BigEndian.PutUint64(b[8:], uint64(time.Now().UnixNano()))
		mu.Lock()
		for q := range conns {
			expected++
			select {
			case q <- b:
			default:
				dropped.Add(1)
			}
		}
		mu.Unlock()
	}
	tick.Stop()
	elapsed := time.Since(t0)
	deadline := time.Now().Add(c.Settle)
	for time.Now().Before(deadline) && received.Load()+dropped.Load() < expected {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	if int(seq) == 0 {
		return benchResult{}, errors.New("bench raw: nothing was sent")
	}
	res := benchResult{
		Mode: "raw", Connections: c.Clients, Drafts: 0, DurationS: elapsed.Seconds(),
		Mutations: int64(seq), FramesExpected: expected, FramesReceived: received.Load(),
		FramesPerS: float64(received.Load()) / elapsed.Seconds(), LatencyMS: lat.summary(), Dropped: dropped.Load(),
		RendersPerMutation: 0,
		// Server and clients share this process in raw mode: per-connection figures include both ends.
		RSSPerConnKiB:     float64(ms1.Sys-ms0.Sys) / 1024 / float64(c.Clients),
		GoroutinesPerConn: float64(g1-g0) / float64(c.Clients),
	}
	return res, nil
}
