package bench

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// rawServer is a bare coder/websocket broadcast hub: every broadcast frame goes to every
// connection through a small queue per connection (full queue: the frame is dropped for
// that connection). It runs in a process of its own (`onboard bench raw-server`), so the
// baseline is not capped by sharing one process, its file descriptors and its scheduler with
// the load clients.
type rawServer struct {
	mu     sync.Mutex
	conns  map[chan []byte]struct{}
	counts rawCounts // guarded by mu
}

// ServeRaw is the hidden `onboard bench raw-server`: it serves /ws (the broadcast), GET
// /connections, POST /broadcast?rate=R&duration=D&size=S (broadcasts numbered, timestamped
// frames, then answers with the counts) and /metrics (process and Go collectors) on one free
// loopback port, prints where, and stops when ctx ends.
func ServeRaw(ctx context.Context, stdout io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s := &rawServer{conns: map[chan []byte]struct{}{}}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector())
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", s.serveConn)
	mux.HandleFunc("GET /connections", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, s.connections())
	})
	mux.HandleFunc("POST /broadcast", s.handleBroadcast)
	mux.HandleFunc("GET /counts", func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		n := s.counts
		s.mu.Unlock()
		_ = json.NewEncoder(w).Encode(n)
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "metrics on %s/metrics\nlistening on %s\n", base, base)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		return srv.Close()
	case err := <-errc:
		return err
	}
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
	failed := 0
	defer func() {
		// Frames still queued (and the one whose write failed) never reach this client:
		// counted as lost, so every frame is accounted for.
		s.mu.Lock()
		delete(s.conns, q)
		s.counts.Lost += int64(len(q) + failed)
		s.counts.Closed++
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
				failed = 1
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

// rawCounts is what GET /counts answers: totals since the server started.
type rawCounts struct {
	Sent     int64 `json:"sent"`     // broadcasts
	Expected int64 `json:"expected"` // frames queued or dropped: one per connection per broadcast
	Dropped  int64 `json:"dropped"`  // not queued: the connection's queue was full
	Lost     int64 `json:"lost"`     // queued for a connection that closed before writing them
	Closed   int64 `json:"closed"`   // connections closed (write failure, timeout, client gone)
}

// handleBroadcast broadcasts numbered, timestamped frames of size bytes at rate per second
// for duration, then answers 204; GET /counts tells what became of them.
func (s *rawServer) handleBroadcast(w http.ResponseWriter, r *http.Request) {
	rate, err1 := strconv.ParseFloat(r.URL.Query().Get("rate"), 64)
	d, err2 := time.ParseDuration(r.URL.Query().Get("duration"))
	size, err3 := strconv.Atoi(r.URL.Query().Get("size"))
	if err := errors.Join(err1, err2, err3); err != nil || rate <= 0 || size < 16 || d <= 0 {
		http.Error(w, "want rate > 0, duration > 0, size >= 16", http.StatusBadRequest)
		return
	}
	var seq uint64
	frame := make([]byte, size)
	for i := 16; i < len(frame); i++ {
		frame[i] = 'x'
	}
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	for t0 := time.Now(); time.Since(t0) < d && r.Context().Err() == nil; {
		<-tick.C
		seq++
		b := make([]byte, len(frame))
		copy(b, frame)
		binary.BigEndian.PutUint64(b, seq)
		binary.BigEndian.PutUint64(b[8:], uint64(time.Now().UnixNano()))
		s.mu.Lock()
		s.counts.Sent++
		for q := range s.conns {
			s.counts.Expected++
			select {
			case q <- b:
			default:
				s.counts.Dropped++
			}
		}
		s.mu.Unlock()
	}
	w.WriteHeader(http.StatusNoContent)
}
