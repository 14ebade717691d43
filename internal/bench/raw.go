package bench

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

// rawServer is an in-process WebSocket server that writes every broadcast frame to every
// connection through a small queue per connection.
type rawServer struct {
	ln    net.Listener
	srv   *http.Server
	mu    sync.Mutex
	conns map[chan []byte]struct{}
}

func startRawServer() (*rawServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &rawServer{ln: ln, conns: map[chan []byte]struct{}{}}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serveConn)}
	go s.srv.Serve(ln)
	return s, nil
}

func (s *rawServer) serveConn(w http.ResponseWriter, r *http.Request) {
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	q := make(chan []byte, 8)
	s.mu.Lock()
	s.conns[q] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, q)
		s.mu.Unlock()
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
}

func (s *rawServer) connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// broadcast queues b on every connection, counting the frames expected and those dropped
// because a queue was full.
func (s *rawServer) broadcast(b []byte, expected *int64, dropped *atomic.Int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for q := range s.conns {
		*expected++
		select {
		case q <- b:
		default:
			dropped.Add(1)
		}
	}
}

// runRaw is the baseline of the live mode: a bare coder/websocket broadcast of 2 KiB frames
// from an in-process server to the clients, with no database, hub or rendering. The live mode
// is measured against it.
func runRaw(ctx context.Context, c Config) (Result, error) {
	s, err := startRawServer()
	if err != nil {
		return Result{}, err
	}
	defer s.srv.Close()

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		lat               latencies
		received, dropped atomic.Int64
		wg                sync.WaitGroup
	)
	start := time.Now()
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	g0 := runtime.NumGoroutine()
	rawClients(runCtx, "ws://"+s.ln.Addr().String()+"/", c.Clients, &wg, &lat, &received, &dropped)
	for s.connections() != c.Clients && time.Since(start) <= time.Minute {
		time.Sleep(10 * time.Millisecond)
	}
	var ms1 runtime.MemStats
	runtime.ReadMemStats(&ms1)
	g1 := runtime.NumGoroutine()

	seq, expected, elapsed := rawSend(ctx, s, c, &dropped)
	settle(c.Settle, func() bool { return received.Load()+dropped.Load() >= expected })
	cancel()
	wg.Wait()
	if seq == 0 {
		return Result{}, errors.New("bench raw: nothing was sent")
	}
	return Result{
		Mode: "raw", Connections: c.Clients, Drafts: 0, DurationS: elapsed.Seconds(),
		Mutations: int64(seq), FramesExpected: expected, FramesReceived: received.Load(),
		FramesPerS: float64(received.Load()) / elapsed.Seconds(), LatencyMS: lat.summary(), Dropped: dropped.Load(),
		RendersPerMutation: 0,
		// Server and clients share this process in raw mode: per-connection figures include both ends.
		RSSPerConnKiB:     float64(ms1.Sys-ms0.Sys) / 1024 / float64(c.Clients),
		GoroutinesPerConn: float64(g1-g0) / float64(c.Clients),
	}, nil
}

// rawClients dials n clients to u and returns once every dial has finished; each client
// reads frames (sequence number, send time, padding) until ctx ends.
func rawClients(ctx context.Context, u string, n int, wg *sync.WaitGroup, lat *latencies, received, dropped *atomic.Int64) {
	var connected sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		connected.Add(1)
		go func() {
			defer wg.Done()
			conn, _, err := websocket.Dial(ctx, u, nil)
			connected.Done()
			if err != nil {
				return
			}
			defer conn.CloseNow()
			var last uint64
			for {
				_, msg, err := conn.Read(ctx)
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
}

// rawSend broadcasts numbered, timestamped 2 KiB frames at the configured rate for the
// configured duration and returns the frames sent, the deliveries expected and the time taken.
func rawSend(ctx context.Context, s *rawServer, c Config, dropped *atomic.Int64) (seq uint64, expected int64, elapsed time.Duration) {
	frame := make([]byte, 2048)
	for i := 16; i < len(frame); i++ {
		frame[i] = 'x'
	}
	tick := time.NewTicker(time.Duration(float64(time.Second) / c.Rate))
	defer tick.Stop()
	t0 := time.Now()
	for time.Since(t0) < c.Duration && ctx.Err() == nil {
		<-tick.C
		seq++
		b := make([]byte, len(frame))
		copy(b, frame)
		binary.BigEndian.PutUint64(b, seq)
		binary.BigEndian.PutUint64(b[8:], uint64(time.Now().UnixNano()))
		s.broadcast(b, &expected, dropped)
	}
	return seq, expected, time.Since(t0)
}
