package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/tenantops/onboard/internal/postgres"
	"github.com/tenantops/onboard/internal/presence"
)

// PresenceConfig is `onboard bench presence`: the cross-process cost of presence
// (docs/live.md, Presence) with Tabs tabs on Drafts drafts spread over Processes
// "processes", each a presence registry with its own pool and its own LISTEN connection on
// the real database, exactly as `onboard serve` wires them; only the WebSockets are left out
// (a tab is a Set and a watcher that counts the frames it is offered).
type PresenceConfig struct {
	DatabaseURL   string
	Processes     int
	Tabs          int
	Drafts        int
	Changing      float64       // share of tabs that change step or field…
	Every         time.Duration // …once per this period each
	Duration      time.Duration // of the steady phase
	LeaseInterval time.Duration
}

// PresenceResult is its report.
type PresenceResult struct {
	Processes, Tabs, Drafts int
	LoadAvg                 [2]float64         `json:"load_avg_1m"`
	DurationS               float64            `json:"duration_s"`
	ChangesPerS             float64            `json:"changes_per_s"`        // Set calls that changed a tab's state
	MessagesPerS            float64            `json:"messages_per_s"`       // presence NOTIFY payloads, all processes
	PublishTxPerS           float64            `json:"publish_tx_per_s"`     // transactions carrying them
	LeaseTxPerS             float64            `json:"lease_tx_per_s"`       // lease renewals
	CommitsPerS             float64            `json:"db_commits_per_s"`     // pg_stat_database xact_commit, everything on the database
	FramesPerS              float64            `json:"frames_offered_per_s"` // presence frames offered to tabs
	Join                    map[string]float64 `json:"join_seen_ms"`         // a tab joins → a tab on another process sees it
	Change                  map[string]float64 `json:"change_seen_ms"`       // a tab changes → seen on another process
	Unseen                  int64              `json:"unseen"`               // joins or changes never seen on another process
	BadMessages             int64              `json:"bad_messages"`
}

type nopHub struct{}

func (nopHub) Notify(postgres.LiveEvent) {}
func (nopHub) Resync()                   {}
func (nopHub) Disconnected()             {}

// countingTab is a tab's watcher: it counts what it is offered, as a socket's queue would.
type countingTab struct{ n atomic.Int64 }

func (c *countingTab) Offer(string, []byte) { c.n.Add(1) }

// probe watches one draft on one process and records when each awaited (user, state) shows.
type probe struct {
	proc int
	pb   *presenceBench
}

type awaited struct {
	since time.Time
	step  int
	field string
	procs map[int]bool // processes that have seen it (other than the tab's own)
	join  bool
}

type presenceBench struct {
	c       PresenceConfig
	mu      sync.Mutex
	waiting map[int64]*awaited // by user (one tab per user)
	tabProc map[int64]int
	join    latencies
	change  latencies
	changes atomic.Int64
}

func (p *probe) Offer(_ string, frame []byte) {
	var f struct {
		P []struct {
			U int64  `json:"u"`
			S int    `json:"s"`
			N string `json:"n"`
		} `json:"p"`
	}
	if json.Unmarshal(frame, &f) != nil {
		return
	}
	now := time.Now()
	pb := p.pb
	pb.mu.Lock()
	defer pb.mu.Unlock()
	for _, e := range f.P {
		w := pb.waiting[e.U]
		if w == nil || pb.tabProc[e.U] == p.proc || w.procs[p.proc] || e.S != w.step || e.N != w.field {
			continue
		}
		w.procs[p.proc] = true
		if w.join {
			pb.join.add(now.Sub(w.since))
		} else {
			pb.change.add(now.Sub(w.since))
		}
		if len(w.procs) == pb.c.Processes-1 {
			delete(pb.waiting, e.U)
		}
	}
}

var benchFields = []string{"", "display_name", "primary_domain", "tenant_id", "client_id"}

// RunPresence runs the presence bench: all tabs join over a few seconds, then Changing of
// them change step or field every Every for Duration, then all leave.
func RunPresence(ctx context.Context, c PresenceConfig, stderr io.Writer) (res PresenceResult, err error) {
	if c.Processes < 2 || c.Processes > 16 || c.Tabs < 1 || c.Drafts < 1 || c.Changing < 0 || c.Changing > 1 ||
		c.Every <= 0 || c.Duration <= 0 {
		return res, errors.New("bench presence: want -processes 2..16, -tabs and -drafts ≥ 1, -changing in [0,1], positive -every and -duration")
	}
	res.Processes, res.Tabs, res.Drafts, res.LoadAvg[0] = c.Processes, c.Tabs, c.Drafts, loadAvg()
	admin, err := postgres.Open(ctx, c.DatabaseURL, "onboard-bench-presence", 2)
	if err != nil {
		return res, err
	}
	defer admin.Close()
	if err := admin.MigrateUp(ctx); err != nil {
		return res, fmt.Errorf("bench presence: migrate: %w", err)
	}
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	regs := make([]*presence.Registry, c.Processes)
	for i := range regs {
		db, err := postgres.Open(ctx, c.DatabaseURL, fmt.Sprintf("onboard-bench-presence-%d", i), 4)
		if err != nil {
			return res, err
		}
		defer db.Close()
		r, err := presence.New(db.PresenceStore(), presence.Options{Process: fmt.Sprintf("bench-%s-%d", randomHex(4), i), LeaseInterval: c.LeaseInterval})
		if err != nil {
			return res, err
		}
		l, err := postgres.NewListener(postgres.ListenerConfig{URL: c.DatabaseURL, Hub: nopHub{}, Presence: r})
		if err != nil {
			return res, err
		}
		regs[i] = r
		wg.Go(func() { _ = r.Run(rctx) })
		wg.Go(func() { _ = l.Run(rctx) })
		select {
		case <-l.Listening():
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(30 * time.Second):
			return res, errors.New("bench presence: listener did not connect")
		}
	}
	drafts := make([]string, c.Drafts)
	for i := range drafts {
		drafts[i] = newUUIDv4()
	}
	pb := &presenceBench{c: c, waiting: map[int64]*awaited{}, tabProc: map[int64]int{}}
	for i, r := range regs {
		r.Watch(&probe{proc: i, pb: pb}, drafts)
	}
	type tab struct {
		user  int64
		proc  int
		draft string
		conn  presence.Conn
		w     *countingTab
		step  int
		field string
	}
	tabs := make([]*tab, c.Tabs)
	for i := range tabs {
		tb := &tab{user: int64(i + 1), proc: i % c.Processes, draft: drafts[i%c.Drafts], w: &countingTab{}, step: 1}
		tb.conn = regs[tb.proc].NewConn()
		pb.tabProc[tb.user] = tb.proc
		regs[tb.proc].Watch(tb.w, []string{tb.draft})
		tabs[i] = tb
	}
	set := func(tb *tab, join bool) {
		pb.mu.Lock()
		pb.waiting[tb.user] = &awaited{since: time.Now(), step: tb.step, field: tb.field, procs: map[int]bool{}, join: join}
		pb.mu.Unlock()
		regs[tb.proc].Set(tb.conn, tb.user, fmt.Sprintf("tab-%d@bench.test", tb.user), tb.draft, presence.State{Step: tb.step, Field: tb.field})
		pb.changes.Add(1)
	}
	commits := func() int64 {
		var n int64
		_ = admin.Pool.QueryRow(ctx, `SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()`).Scan(&n)
		return n
	}
	// Join: every tab over 5 s.
	fmt.Fprintf(stderr, "bench presence: %d tabs joining %d drafts on %d processes\n", c.Tabs, c.Drafts, c.Processes)
	joinGap := 5 * time.Second / time.Duration(c.Tabs)
	for _, tb := range tabs {
		set(tb, true)
		time.Sleep(joinGap)
	}
	settle(5*time.Second, func() bool { pb.mu.Lock(); defer pb.mu.Unlock(); return len(pb.waiting) == 0 })

	// Steady: Changing of the tabs change step or field every Every.
	statsBefore := sumStats(regs)
	framesBefore := sumFrames(tabs, func(t *tab) int64 { return t.w.n.Load() })
	commitsBefore := commits()
	pb.changes.Store(0)
	n := int(float64(c.Tabs) * c.Changing)
	fmt.Fprintf(stderr, "bench presence: %d tabs changing every %v for %v\n", n, c.Every, c.Duration)
	start := time.Now()
	if n > 0 {
		gap := c.Every / time.Duration(n)
		gap = max(gap, time.Millisecond)
		tick := time.NewTicker(gap)
		i := 0
		for time.Since(start) < c.Duration {
			select {
			case <-ctx.Done():
				tick.Stop()
				return res, ctx.Err()
			case <-tick.C:
			}
			// A loaded machine drops ticks: catch up to the changes due by now.
			for due := int(time.Since(start) / gap); i < due; i++ {
				tb := tabs[i%n]
				if rand.IntN(2) == 0 {
					tb.step = tb.step%5 + 1
				} else {
					tb.field = benchFields[(indexOf(benchFields, tb.field)+1)%len(benchFields)]
				}
				set(tb, false)
			}
		}
		tick.Stop()
	} else {
		time.Sleep(c.Duration)
	}
	el := time.Since(start).Seconds()
	settle(5*time.Second, func() bool { pb.mu.Lock(); defer pb.mu.Unlock(); return len(pb.waiting) == 0 })
	statsAfter := sumStats(regs)
	res.CommitsPerS = float64(commits()-commitsBefore) / el
	res.DurationS = el
	res.ChangesPerS = float64(pb.changes.Load()) / el
	res.MessagesPerS = float64(statsAfter.Published-statsBefore.Published) / el
	res.PublishTxPerS = float64(statsAfter.PublishTx-statsBefore.PublishTx) / el
	res.LeaseTxPerS = float64(statsAfter.LeaseTx-statsBefore.LeaseTx) / el
	res.FramesPerS = float64(sumFrames(tabs, func(t *tab) int64 { return t.w.n.Load() })-framesBefore) / el
	res.BadMessages = statsAfter.BadMessages
	res.Join, res.Change = pb.join.summary(), pb.change.summary()
	pb.mu.Lock()
	res.Unseen = int64(len(pb.waiting))
	pb.mu.Unlock()
	res.LoadAvg[1] = loadAvg()
	for _, tb := range tabs {
		regs[tb.proc].Leave(tb.conn)
	}
	return res, nil
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return 0
}

func sumStats(regs []*presence.Registry) presence.Stats {
	var s presence.Stats
	for _, r := range regs {
		st := r.Stats()
		s.Published += st.Published
		s.PublishTx += st.PublishTx
		s.LeaseTx += st.LeaseTx
		s.BadMessages += st.BadMessages
	}
	return s
}

func sumFrames[T any](xs []T, f func(T) int64) int64 {
	var n int64
	for _, x := range xs {
		n += f(x)
	}
	return n
}

func newUUIDv4() string {
	b := []byte(randomHex(16))
	b[12] = '4'
	return fmt.Sprintf("%s-%s-%s-%s-%s", b[0:8], b[8:12], b[12:16], b[16:20], b[20:32])
}

// PrintPresence writes the presence bench's report as a table.
func PrintPresence(w io.Writer, r PresenceResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "tabs / drafts / processes\t%d / %d / %d\n", r.Tabs, r.Drafts, r.Processes)
	fmt.Fprintf(tw, "load avg before / after\t%.1f / %.1f\n", r.LoadAvg[0], r.LoadAvg[1])
	fmt.Fprintf(tw, "state changes/s (steady)\t%.1f\n", r.ChangesPerS)
	fmt.Fprintf(tw, "presence messages/s (NOTIFY payloads)\t%.1f\n", r.MessagesPerS)
	fmt.Fprintf(tw, "presence transactions/s: publish + lease\t%.2f + %.2f\n", r.PublishTxPerS, r.LeaseTxPerS)
	fmt.Fprintf(tw, "all commits/s on the database\t%.1f\n", r.CommitsPerS)
	fmt.Fprintf(tw, "presence frames offered to tabs/s\t%.0f\n", r.FramesPerS)
	fmt.Fprintf(tw, "join → seen on another process, ms p50 / p99 / max\t%.0f / %.0f / %.0f\n", r.Join["p50"], r.Join["p99"], r.Join["max"])
	fmt.Fprintf(tw, "change → seen on another process, ms p50 / p99 / max\t%.0f / %.0f / %.0f\n", r.Change["p50"], r.Change["p99"], r.Change["max"])
	fmt.Fprintf(tw, "never seen / bad messages\t%d / %d\n", r.Unseen, r.BadMessages)
	tw.Flush()
}
