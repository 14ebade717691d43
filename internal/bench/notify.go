package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
)

// NotifyConfig is `onboard bench notify`: how fast concurrent writers commit one-row UPDATEs
// with and without a NOTIFY trigger (docs/scaling.md).
type NotifyConfig struct {
	DatabaseURL string
	Writers     int
	Duration    time.Duration // per phase
}

// NotifyResult is its report: commits per second in each phase.
type NotifyResult struct {
	Writers          int        `json:"writers"`
	PhaseS           float64    `json:"phase_s"`
	LoadAvg          [2]float64 `json:"load_avg_1m"`
	Plain            float64    `json:"plain_commits_per_s"`
	Trigger          float64    `json:"trigger_commits_per_s"`
	TriggerAsync     float64    `json:"trigger_async_commits_per_s"` // SET synchronous_commit = off in the writers' sessions
	NotificationsGot int64      `json:"notifications_received"`
}

// RunNotify measures, in three phases of Duration each, Writers connections updating their
// own row of a scratch table as fast as they can, each UPDATE its own transaction: without a
// trigger; with an AFTER UPDATE trigger that pg_notify's a payload like the product's (a
// listener connected, as every server process has one); and the same with the writers'
// synchronous_commit off. NOTIFY takes a database-wide lock at commit that is held through
// the commit's WAL flush, so the second phase shows notifying commits serialised. The scratch
// table and function have a unique name and are dropped at the end, Ctrl-C included; the
// server's configuration is not touched.
func RunNotify(ctx context.Context, c NotifyConfig) (res NotifyResult, err error) {
	if c.Writers < 1 || c.Writers > 64 || c.Duration <= 0 || c.Duration > 10*time.Minute {
		return res, errors.New("bench notify: want -writers 1..64 and -duration in (0, 10m]")
	}
	res.Writers, res.PhaseS, res.LoadAvg[0] = c.Writers, c.Duration.Seconds(), loadAvg()
	admin, err := pgx.Connect(ctx, c.DatabaseURL)
	if err != nil {
		return res, fmt.Errorf("bench notify: %w", err)
	}
	defer admin.Close(context.Background())
	name := "bench_notify_" + randomHex(6)
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, derr := admin.Exec(cctx, `DROP TABLE IF EXISTS `+name+`; DROP FUNCTION IF EXISTS `+name+`()`)
		err = errors.Join(err, derr)
	}()
	if _, err := admin.Exec(ctx, `CREATE TABLE `+name+` (id int PRIMARY KEY, n bigint NOT NULL DEFAULT 0);
		INSERT INTO `+name+` (id) SELECT generate_series(1, `+fmt.Sprint(c.Writers)+`);
		CREATE FUNCTION `+name+`() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			PERFORM pg_notify('`+name+`', json_build_object('k', 'draft', 'd', gen_random_uuid(), 'w', NEW.id, 'v', NEW.n, 'r', NEW.n)::text);
			RETURN NULL;
		END $$`); err != nil {
		return res, fmt.Errorf("bench notify: set up: %w", err)
	}
	if res.Plain, err = notifyPhase(ctx, c, name, false); err != nil {
		return res, err
	}
	if _, err := admin.Exec(ctx, `CREATE TRIGGER `+name+` AFTER UPDATE ON `+name+` FOR EACH ROW EXECUTE FUNCTION `+name+`()`); err != nil {
		return res, fmt.Errorf("bench notify: trigger: %w", err)
	}
	got, stopListen, err := listen(ctx, c.DatabaseURL, name)
	if err != nil {
		return res, err
	}
	defer stopListen()
	if res.Trigger, err = notifyPhase(ctx, c, name, false); err != nil {
		return res, err
	}
	if res.TriggerAsync, err = notifyPhase(ctx, c, name, true); err != nil {
		return res, err
	}
	res.NotificationsGot, res.LoadAvg[1] = got.Load(), loadAvg()
	return res, nil
}

// notifyPhase runs the writers for one phase and returns their commits per second.
func notifyPhase(ctx context.Context, c NotifyConfig, table string, async bool) (float64, error) {
	conns := make([]*pgx.Conn, c.Writers)
	defer func() {
		for _, conn := range conns {
			if conn != nil {
				conn.Close(context.Background())
			}
		}
	}()
	for i := range conns {
		conn, err := pgx.Connect(ctx, c.DatabaseURL)
		if err != nil {
			return 0, fmt.Errorf("bench notify: %w", err)
		}
		conns[i] = conn
		if async {
			if _, err := conn.Exec(ctx, `SET synchronous_commit = off`); err != nil {
				return 0, err
			}
		}
	}
	var commits atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, c.Writers)
	pctx, cancel := context.WithTimeout(ctx, c.Duration)
	defer cancel()
	t0 := time.Now()
	for i, conn := range conns {
		wg.Go(func() {
			for pctx.Err() == nil {
				if _, err := conn.Exec(pctx, `UPDATE `+table+` SET n = n + 1 WHERE id = $1`, i+1); err != nil {
					if pctx.Err() == nil {
						errs <- err
					}
					return
				}
				commits.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(t0)
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	select {
	case err := <-errs:
		return 0, fmt.Errorf("bench notify: update: %w", err)
	default:
	}
	return float64(commits.Load()) / elapsed.Seconds(), nil
}

// listen LISTENs on channel from a connection of its own and counts what arrives until the
// returned function is called.
func listen(ctx context.Context, dbURL, channel string) (*atomic.Int64, func(), error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, nil, fmt.Errorf("bench notify: listener: %w", err)
	}
	if _, err := conn.Exec(ctx, `LISTEN `+channel); err != nil {
		conn.Close(context.Background())
		return nil, nil, fmt.Errorf("bench notify: listen: %w", err)
	}
	var got atomic.Int64
	lctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, err := conn.WaitForNotification(lctx); err != nil {
				return
			}
			got.Add(1)
		}
	}()
	return &got, func() {
		cancel()
		<-done
		conn.Close(context.Background())
	}, nil
}

// PrintNotify writes r as a table.
func PrintNotify(w io.Writer, r NotifyResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "writers\t%d (each UPDATE its own transaction, %.0fs per phase)\n", r.Writers, r.PhaseS)
	fmt.Fprintf(tw, "load average (1 min) at start / end\t%.2f / %.2f\n", r.LoadAvg[0], r.LoadAvg[1])
	fmt.Fprintf(tw, "commits/s without trigger\t%.0f\n", r.Plain)
	fmt.Fprintf(tw, "commits/s with NOTIFY trigger\t%.0f\n", r.Trigger)
	fmt.Fprintf(tw, "commits/s with trigger, synchronous_commit off\t%.0f\n", r.TriggerAsync)
	fmt.Fprintf(tw, "notifications received by the listener\t%d\n", r.NotificationsGot)
	tw.Flush()
}
