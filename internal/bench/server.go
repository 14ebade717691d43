package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// serverStats are read from the server's /metrics before and after the run.
type serverStats struct {
	rss, goroutines, cpu, renders float64
	loads                         float64 // snapshot queries of the hub
	sessionHits, sessionMisses    float64 // /live's session cache
	paceWait                      float64 // seconds connects' loads waited for the load pace
}

func readServerStats(ctx context.Context, hc *http.Client, metricsURL string) (serverStats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return serverStats{}, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return serverStats{}, err
	}
	defer resp.Body.Close()
	var st serverStats
	seen := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			continue
		}
		switch name {
		case "process_resident_memory_bytes", "go_goroutines", "process_cpu_seconds_total":
			seen[name] = true
		}
		switch {
		case name == "process_resident_memory_bytes":
			st.rss = v
		case name == "go_goroutines":
			st.goroutines = v
		case name == "process_cpu_seconds_total":
			st.cpu = v
		case strings.HasPrefix(name, "onboard_live_renders_total"):
			st.renders += v
		case strings.HasPrefix(name, "onboard_live_load_duration_seconds_count"):
			st.loads += v
		case strings.HasPrefix(name, `onboard_live_session_cache_total{result="hit"}`):
			st.sessionHits += v
		case strings.HasPrefix(name, `onboard_live_session_cache_total{result="miss"}`):
			st.sessionMisses += v
		case name == "onboard_live_load_pace_wait_seconds_total":
			st.paceWait = v
		}
	}
	if err := sc.Err(); err != nil {
		return serverStats{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return serverStats{}, fmt.Errorf("status %d", resp.StatusCode)
	}
	if len(seen) < 3 {
		return serverStats{}, fmt.Errorf("missing metrics: want process_resident_memory_bytes, go_goroutines and process_cpu_seconds_total, found %d of them", len(seen))
	}
	return st, nil
}

// Child is a server process the bench started.
type Child struct {
	URL, MetricsURL string // base URL, and /metrics on its own address
	PID             int
}

// StartChild starts `onboard serve` (this executable) on a free loopback port against dbURL,
// its /metrics on another, with env added to its environment, and returns where it listens
// and a function that stops it.
func StartChild(ctx context.Context, dbURL string, stderr io.Writer, env ...string) (Child, func(), error) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	base := []string{"DATABASE_URL=" + dbURL, "ADDR=127.0.0.1:0", "METRICS_ADDR=127.0.0.1:0", "MIGRATE=true",
		"DEMO=never", "SECRET_KEY=" + base64.StdEncoding.EncodeToString(key), "LOG_LEVEL=warn",
		// Every bench client is one user at one address: the per-user and per-address socket
		// caps (32 and 256 by default) would refuse all but the first few with 4429.
		"LIVE_MAX_SOCKETS_PER_USER=-1", "LIVE_MAX_SOCKETS_PER_ADDRESS=-1"}
	return StartProcess(ctx, []string{"serve"}, append(base, env...), stderr)
}

// StartProcess starts this executable with args and env added to the environment, waits
// until it prints "listening on URL" (after "metrics on URL", if it serves metrics), and
// returns where it listens and a function that stops it (SIGTERM, then wait).
func StartProcess(ctx context.Context, args, env []string, stderr io.Writer) (Child, func(), error) {
	exe, err := os.Executable()
	if err != nil {
		return Child{}, nil, err
	}
	if bin := os.Getenv("BENCH_SERVER_BIN"); bin != "" {
		// Another build serves (e.g. the previous commit's, for a before/after).
		exe = bin
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 15 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		return Child{}, nil, err
	}
	if err := cmd.Start(); err != nil {
		return Child{}, nil, err
	}
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}
	urlc := make(chan Child, 1)
	go func() {
		reBase := regexp.MustCompile(`listening on (http://\S+)`)
		reMetrics := regexp.MustCompile(`metrics on (http://\S+)`)
		c := Child{PID: cmd.Process.Pid}
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := reMetrics.FindStringSubmatch(sc.Text()); m != nil {
				c.MetricsURL = m[1]
			}
			if m := reBase.FindStringSubmatch(sc.Text()); m != nil {
				c.URL = m[1]
				urlc <- c
			}
		}
	}()
	select {
	case c := <-urlc:
		return c, stop, nil
	case <-time.After(60 * time.Second):
		stop()
		return Child{}, nil, errors.New("bench: the server did not start within 60s")
	case <-ctx.Done():
		stop()
		return Child{}, nil, ctx.Err()
	}
}

// The root attributes the clients read from every frame.
const (
	attrDraftID = ` data-draft-id="`
	attrVersion = ` data-version="`
)

// rootAttr returns an attribute of a fragment's root element (name is ` name="`), with a
// byte search, not a regular expression: the clients share the machine's cores with the
// server, so what they spend per frame is taken from it.
func rootAttr(name string, b []byte) string {
	end := bytes.IndexByte(b, '>')
	if end < 0 {
		return ""
	}
	i := bytes.Index(b[:end], []byte(name))
	if i < 0 {
		return ""
	}
	v := b[i+len(name) : end]
	j := bytes.IndexByte(v, '"')
	if j < 0 {
		return ""
	}
	return string(v[:j])
}
