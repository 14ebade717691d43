package postgres_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// TestRunStartNotifiesOnce: starting a run (insert and enqueue) writes its row once, so the
// run's tabs are told once, not once for the row and again for its job id.
func TestRunStartNotifiesOnce(t *testing.T) {
	t.Parallel()
	f := setup(t, setupOptions{enqueue: true})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := f.connect(t, f.create(t))

	pc, err := f.store.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn := pc.Hijack()
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `LISTEN onboard_live`); err != nil {
		t.Fatal(err)
	}

	_, run, created, err := f.svc.StartVerification(ctx, f.owner, d.ID, d.Version)
	if err != nil || !created {
		t.Fatalf("StartVerification = created %v, %v", created, err)
	}
	if got := <-f.enqueued; got != run.ID {
		t.Errorf("enqueued run %s, want %s", got, run.ID)
	}
	// Notifications arrive in commit order: the end marker, sent after the start committed,
	// comes after every notification of the start.
	if _, err := f.store.Pool.Exec(ctx, `SELECT pg_notify('onboard_live', 'end')`); err != nil {
		t.Fatal(err)
	}
	var runNotices int
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			t.Fatalf("wait for notification: %v", err)
		}
		if n.Payload == "end" {
			break
		}
		var p struct {
			Kind string `json:"k"`
			Run  string `json:"run"`
		}
		if err := json.Unmarshal([]byte(n.Payload), &p); err != nil {
			t.Fatalf("payload %q: %v", n.Payload, err)
		}
		if p.Kind == "run" && p.Run == run.ID {
			runNotices++
		}
	}
	if runNotices != 1 {
		t.Errorf("notifications for the started run = %d, want 1", runNotices)
	}
}
