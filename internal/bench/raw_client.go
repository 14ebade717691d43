package bench

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// runRaw is the baseline of the live mode: it starts `onboard bench raw-server` in a process
// of its own, connects the clients, has it broadcast frames of RawSize bytes at Rate for
// Duration (no database, hub or rendering) and reports the same figures as the live mode.
func runRaw(ctx context.Context, c Config, stderr io.Writer) (Result, error) {
	child, stop, err := StartProcess(ctx, []string{"bench", "raw-server"}, c.ChildEnv, stderr)
	if err != nil {
		return Result{}, err
	}
	defer stop()
	s := &server{base: child.URL, metricsURL: child.MetricsURL, pid: child.PID, clients: c.Clients}
	f := &fanout{c: c, stderr: stderr, servers: []*server{s}, hc: &http.Client{Timeout: c.Duration + time.Minute}}
	f.readStats(ctx, 0)
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	// Cancel, then wait: the clients end only once runCtx is cancelled.
	defer func() { cancel(); wg.Wait() }()
	f.rawClients(runCtx, s, &wg)
	start := time.Now()
	for f.rawConnections(ctx) != c.Clients {
		if time.Since(start) > c.ConnectTimeout || ctx.Err() != nil {
			return Result{}, fmt.Errorf("bench raw: only %d of %d clients connected within %s (-connect-timeout)", f.rawConnections(ctx), c.Clients, c.ConnectTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	connectS := time.Since(start).Seconds()
	f.readStats(ctx, 1)
	t0 := time.Now()
	if err := f.rawBroadcast(ctx); err != nil {
		return Result{}, err
	}
	elapsed := time.Since(t0)
	var counts rawCounts
	settle(c.Settle, func() bool {
		counts, err = f.rawCounts(ctx)
		return err == nil && f.received.Load()+counts.Dropped+counts.Lost >= counts.Expected
	})
	if err != nil {
		return Result{}, err
	}
	f.expected.Store(counts.Expected)
	f.dropped.Store(counts.Dropped)
	f.mutations.Store(counts.Sent)
	f.readStats(ctx, 2)
	cancel()
	res := f.result(elapsed)
	res.Drafts, res.RendersPerMutation, res.AckLatencyMS = 0, nil, nil
	res.FramesLost, res.ConnectionsClosed, res.ConnectS = counts.Lost, counts.Closed, connectS
	res.FramesUnaccounted -= counts.Lost
	res.Errors = f.errs.list()
	return res, nil
}

// rawConnections asks the raw server how many clients it holds (-1 if it cannot tell).
func (f *fanout) rawConnections(ctx context.Context) int {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.servers[0].base+"/connections", nil)
	resp, err := f.hc.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return -1
	}
	return n
}

// rawBroadcast has the raw server broadcast for Duration (or waits that long at rate 0).
func (f *fanout) rawBroadcast(ctx context.Context) error {
	if f.c.Rate == 0 {
		select {
		case <-ctx.Done():
		case <-time.After(f.c.Duration):
		}
		return ctx.Err()
	}
	q := url.Values{"rate": {strconv.FormatFloat(f.c.Rate, 'f', -1, 64)}, "duration": {f.c.Duration.String()}, "size": {strconv.Itoa(f.c.RawSize)}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.servers[0].base+"/broadcast?"+q.Encode(), nil)
	resp, err := f.hc.Do(req)
	if err != nil {
		return fmt.Errorf("bench raw: broadcast: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("bench raw: broadcast: status %d", resp.StatusCode)
	}
	return nil
}

// rawCounts reads the raw server's totals.
func (f *fanout) rawCounts(ctx context.Context) (rawCounts, error) {
	var n rawCounts
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.servers[0].base+"/counts", nil)
	resp, err := f.hc.Do(req)
	if err != nil {
		return n, fmt.Errorf("bench raw: counts: %w", err)
	}
	defer resp.Body.Close()
	return n, json.NewDecoder(resp.Body).Decode(&n)
}

// rawClients dials the clients to s; each reads frames (sequence number, send time,
// padding) until ctx ends. Frames the server dropped for a full queue are counted there.
func (f *fanout) rawClients(ctx context.Context, s *server, wg *sync.WaitGroup) {
	u := strings.Replace(s.base, "http", "ws", 1) + "/ws"
	for i := 0; i < f.c.Clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, _, err := websocket.Dial(ctx, u, nil)
			if err != nil {
				if ctx.Err() == nil {
					f.errs.add(fmt.Errorf("bench raw: dial: %w", err))
				}
				return
			}
			defer conn.CloseNow()
			conn.SetReadLimit(2 << 20)
			for {
				_, msg, err := conn.Read(ctx)
				if err != nil {
					return
				}
				if len(msg) < 16 {
					continue
				}
				sent := time.Unix(0, int64(binary.BigEndian.Uint64(msg[8:])))
				f.lat.add(time.Since(sent))
				f.received.Add(1)
				s.received.Add(1)
				f.bytes.Add(int64(len(msg)))
			}
		}()
	}
}
