package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/tenantops/onboard/internal/live"
)

// liveClient watches d over /live on s, reconnecting (a resync) until ctx ends.
func (f *fanout) liveClient(ctx context.Context, s *server, d *benchDraft, cookie string, ready chan<- struct{}) {
	var last int64
	first := true
	for ctx.Err() == nil {
		u := strings.Replace(s.base, "http", "ws", 1) + "/live?draft=" + d.id + "&rev=0"
		if f.c.Deltas {
			u += "&delta=1"
		}
		conn, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {cookie}, "Origin": {s.base}}})
		if err != nil {
			if ctx.Err() == nil {
				fmt.Fprintln(f.stderr, "bench: dial:", err)
				time.Sleep(200 * time.Millisecond)
			}
			continue
		}
		conn.SetReadLimit(1 << 20)
		for {
			_, msg, err := conn.Read(ctx)
			if err != nil {
				break
			}
			at := time.Now()
			got := false
			for _, frag := range live.SplitBatch(msg) {
				if rootAttr(attrDraftID, frag) != d.id {
					continue
				}
				v, _ := strconv.ParseInt(rootAttr(attrVersion, frag), 10, 64)
				f.record(s, d, v, len(frag), &last, at)
				got = true
			}
			if got && first {
				first = false
				ready <- struct{}{}
			}
		}
		conn.CloseNow()
		if ctx.Err() == nil {
			f.resync.Add(1)
		}
	}
}

// pollClient polls d's checkpoint fragment on s with If-None-Match every PollInterval until
// ctx ends; after the first poll it waits a random part of the interval, so the clients'
// polls spread over it as independent pages' would.
func (f *fanout) pollClient(ctx context.Context, s *server, d *benchDraft, cookie string, ready chan<- struct{}) {
	var last int64
	etag := ""
	first := true
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/admin/workspaces/"+f.ws.Slug+"/onboarding/"+d.id+"/checkpoint", nil)
		req.Header.Set("Cookie", cookie)
		req.Header.Set("Accept", "text/html")
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := f.pollHC.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			at := time.Now()
			if resp.StatusCode == http.StatusOK {
				etag = resp.Header.Get("ETag")
				v, _ := strconv.ParseInt(rootAttr(attrVersion, b), 10, 64)
				f.record(s, d, v, len(b), &last, at)
			}
		}
		wait := f.c.PollInterval
		switch {
		case last == 0:
			wait = 200 * time.Millisecond
		case first:
			first = false
			ready <- struct{}{}
			wait = rand.N(f.c.PollInterval)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// mutate renames the drafts in turn at the configured rate for the configured duration (or
// waits that long at rate 0) and returns how long it took. Each draft is written by one
// goroutine at a time, so the rate achieved on one draft is bounded by a PATCH's round trip
// (see rename).
func (f *fanout) mutate(ctx context.Context) time.Duration {
	start := time.Now()
	if f.c.Rate == 0 {
		select {
		case <-ctx.Done():
		case <-time.After(f.c.Duration):
		}
		return time.Since(start)
	}
	tick := time.NewTicker(time.Duration(float64(time.Second) / f.c.Rate))
	var mwg sync.WaitGroup
	n := 0
	for time.Since(start) < f.c.Duration && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
		d := f.drafts[n%len(f.drafts)]
		n++
		mwg.Add(1)
		go func(seq int) {
			defer mwg.Done()
			f.rename(ctx, d, seq)
		}(n)
	}
	tick.Stop()
	mwg.Wait()
	return time.Since(start)
}

// rename PATCHes d's display name at its current version, through the servers in turn. A
// draft's writes are serial (each needs the version the previous one produced): a tick that
// finds the draft's previous PATCH still running is skipped and counted, not queued, so the
// run ends on time and the achieved rate is what one draft allows.
func (f *fanout) rename(ctx context.Context, d *benchDraft, seq int) {
	if !d.mu.TryLock() {
		f.skipped.Add(1)
		return
	}
	defer d.mu.Unlock()
	if ctx.Err() != nil {
		return
	}
	b, _ := json.Marshal(map[string]string{"display_name": "Bench " + strconv.Itoa(seq)})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPatch, f.apiBase(seq)+"/onboarding/drafts/"+d.id, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("If-Match", `"`+strconv.FormatInt(d.version, 10)+`"`)
	req.Header.Set("Cookie", f.cookies[0])
	d.sent.Store(d.version+1, time.Now())
	resp, err := f.hc.Do(req)
	if err != nil {
		f.mutErrors.Add(1)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		f.mutErrors.Add(1)
		return
	}
	d.acked.Store(d.version+1, time.Now())
	d.version++
	f.mutations.Add(1)
	f.expected.Add(int64(d.subs))
}
