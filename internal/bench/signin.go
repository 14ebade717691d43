package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/tenantops/onboard/internal/envflag"
)

// signInBenchResult is what `bench signin` reports.
type signInBenchResult struct {
	Clients      int            `json:"clients"`
	DurationS    float64        `json:"duration_s"`
	Requests     int            `json:"requests"`
	Statuses     map[string]int `json:"statuses"`
	IdleRSSMiB   float64        `json:"idle_rss_mib"`
	PeakRSSMiB   float64        `json:"peak_rss_mib"`
	AfterRSSMiB  float64        `json:"after_rss_mib"`
	PeakOverIdle float64        `json:"peak_over_idle_mib"`
}

// runBenchSignIn floods POST /api/v1/session with made-up accounts, each request from a
// made-up client address (the child trusts X-Forwarded-For), so neither limit stops it and
// every request asks for a password hash: the worst case for the hashing pool. It reports the
// server's resident memory before, at its peak and after, read from /proc/<pid>/status.
func runBenchSignIn(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := envflag.New("bench signin", "Flood sign-ins with made-up accounts and addresses; report the server's memory (Linux).", getenv, stderr)
	var db envflag.DB
	db.Register(f)
	var (
		base, concurrency string
		pid, clients      int
		duration          time.Duration
		asJSON            bool
	)
	f.Str(&base, "url", "BENCH_URL", "", "base URL of a running server that trusts X-Forwarded-For (with -pid); default: start one")
	f.Int(&pid, "pid", "BENCH_PID", 0, "process id of the server at -url, for its memory")
	f.Int(&clients, "clients", "BENCH_CLIENTS", 32, "concurrent sign-in loops")
	f.Duration(&duration, "duration", "BENCH_DURATION", 10*time.Second, "how long to flood")
	f.Str(&concurrency, "login-concurrency", "LOGIN_CONCURRENCY", "", "LOGIN_CONCURRENCY of the started server (empty: its default)")
	f.Bool(&asJSON, "json", "BENCH_JSON", false, "print one JSON object instead of a table")
	if err := f.Parse(args); err != nil {
		return err
	}
	if clients < 1 || clients > 10000 || duration <= 0 || duration > time.Hour {
		return errors.New("bench signin: want -clients in 1..10000 and -duration in (0, 1h]")
	}
	if (base == "") != (pid == 0) {
		return errors.New("bench signin: give -url and -pid together, or neither")
	}
	if base == "" {
		env := []string{"TRUSTED_PROXY_HEADER=X-Forwarded-For", "WORKERS=0"}
		if concurrency != "" {
			env = append(env, "LOGIN_CONCURRENCY="+concurrency)
		}
		child, stop, err := StartChild(ctx, db.URL, stderr, env...)
		if err != nil {
			return err
		}
		defer stop()
		base, pid = child.URL, child.PID
	}
	idle, _, err := procMemory(pid)
	if err != nil {
		return err
	}
	res := signInBenchResult{Clients: clients, Statuses: map[string]int{}, IdleRSSMiB: idle}
	var mu sync.Mutex
	var wg sync.WaitGroup
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	start := time.Now()
	floodCtx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()
	for i := range clients {
		wg.Go(func() {
			for n := 0; floodCtx.Err() == nil; n++ {
				body := fmt.Sprintf(`{"email":"flood-%d-%d@example.test","password":"not-the-password"}`, i, n)
				req, _ := http.NewRequestWithContext(floodCtx, http.MethodPost, base+"/api/v1/session", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", rand.IntN(256), rand.IntN(256), rand.IntN(256)))
				status := "error"
				if resp, err := hc.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = strconv.Itoa(resp.StatusCode)
				} else if floodCtx.Err() != nil {
					return
				}
				mu.Lock()
				res.Requests++
				res.Statuses[status]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	res.DurationS = time.Since(start).Seconds()
	if res.AfterRSSMiB, res.PeakRSSMiB, err = procMemory(pid); err != nil {
		return err
	}
	res.PeakOverIdle = res.PeakRSSMiB - res.IdleRSSMiB
	if asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "clients\t%d\nduration\t%.1fs\nrequests\t%d\nstatuses\t%v\n", res.Clients, res.DurationS, res.Requests, res.Statuses)
	fmt.Fprintf(tw, "rss idle\t%.1f MiB\nrss peak\t%.1f MiB (+%.1f over idle)\nrss after\t%.1f MiB\n", res.IdleRSSMiB, res.PeakRSSMiB, res.PeakOverIdle, res.AfterRSSMiB)
	return tw.Flush()
}

// procMemory returns a process's resident memory now and at its peak (VmRSS, VmHWM) in MiB.
func procMemory(pid int) (rss, peak float64, err error) {
	fh, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, fmt.Errorf("bench signin: read the server's memory (Linux only): %w", err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kib, _ := strconv.ParseFloat(fields[1], 64)
		switch fields[0] {
		case "VmRSS:":
			rss = kib / 1024
		case "VmHWM:":
			peak = kib / 1024
		}
	}
	return rss, peak, sc.Err()
}
