package live

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tenantops/onboard/internal/fault"
)

// TestTopics: a workspace topic is scheduled by its workspace's events (drafts: draft events,
// runs: run events), costs one load and one render per change whatever the number of
// clients, and is authorised by the workspace; a user topic only by its owner.
func TestTopics(t *testing.T) {
	t.Parallel()
	t.Run("WorkspaceTopicFollowsEvents", func(t *testing.T) {
		t.Parallel()
		f := setup(t, Options{})
		f.hub.Resync()
		drafts, runs := DraftsTopic(7), RunsTopic(7)
		f.src.put(drafts, 7, 10)
		f.src.put(runs, 7, 10)
		f.auth.set(1, 7, "operator")
		var cs []*Client
		for range 3 {
			cs = append(cs, f.subscribe(t, 1, Subscription{Target: drafts, Rev: 10}, Subscription{Target: runs, View: ViewDigest, Rev: 10}))
		}
		before := f.src.renders.Load()
		f.src.put(drafts, 7, 11)
		f.hub.Notify(Event{Kind: KindDraft, DraftID: "d-not-watched", WorkspaceID: 7})
		f.waitPass(t, drafts)
		for _, c := range cs {
			if got := revOf(t, next(t, c)); got != 11 {
				t.Fatalf("drafts digest rev = %d, want 11", got)
			}
		}
		if got := f.src.renders.Load() - before; got != 1 {
			t.Errorf("renders for one change seen by 3 clients = %d, want 1", got)
		}
		// Another workspace's event and a run event leave the drafts topic alone.
		f.hub.Notify(Event{Kind: KindDraft, DraftID: "d", WorkspaceID: 8})
		f.src.put(runs, 7, 12)
		f.hub.Notify(Event{Kind: KindRun, DraftID: "d", WorkspaceID: 7})
		f.waitPass(t, runs)
		for _, c := range cs {
			b := next(t, c)
			if got := revOf(t, b); got != 12 || !contains(b, `data-draft-id="runs:7"`) {
				t.Fatalf("after a run event got %s, want the runs digest at rev 12", b)
			}
			if b := pending(c); b != nil {
				t.Fatalf("unexpected frame %s", b)
			}
		}
	})
	t.Run("DashboardFollowsDraftsRunsAndPresence", func(t *testing.T) {
		t.Parallel()
		f := setup(t, Options{})
		f.hub.Resync()
		dash := WorkspaceTopic(7)
		f.src.put(dash, 7, 10)
		f.auth.set(1, 7, "viewer")
		cs := []*Client{
			f.subscribe(t, 1, Subscription{Target: dash, View: ViewDigest, Rev: 10}),
			f.subscribe(t, 1, Subscription{Target: dash, View: ViewDigest, Rev: 10}),
		}
		for i, e := range []Event{
			{Kind: KindDraft, DraftID: "d", WorkspaceID: 7},
			{Kind: KindRun, DraftID: "d", WorkspaceID: 7},
			{Kind: KindWorkspace, WorkspaceID: 7}, // presence: no row, a rev of its own
		} {
			rev := int64(11 + i)
			before := f.src.renders.Load()
			f.src.put(dash, 7, rev)
			f.hub.Notify(e)
			f.waitPass(t, dash)
			for _, c := range cs {
				if got := revOf(t, next(t, c)); got != rev {
					t.Fatalf("after a %s event the dashboard rev = %d, want %d", e.Kind, got, rev)
				}
			}
			if got := f.src.renders.Load() - before; got != 1 {
				t.Errorf("%s event: %d renders for two tabs, want 1", e.Kind, got)
			}
		}
		f.hub.Notify(Event{Kind: KindWorkspace, WorkspaceID: 8}) // another workspace's
		f.hub.Notify(Event{Kind: KindWorkspace})                 // none: bad
		for _, c := range cs {
			if b := pending(c); b != nil {
				t.Fatalf("unexpected frame %s", b)
			}
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		t.Parallel()
		f := setup(t, Options{})
		f.src.put(DraftsTopic(7), 7, 1)
		f.src.put(UserTopic(2), 0, 1)
		for _, sub := range []Subscription{{Target: DraftsTopic(7)}, {Target: UserTopic(2)}} {
			_, err := f.hub.Subscribe(context.Background(), 1, []Subscription{sub})
			if !errors.Is(err, fault.ErrNotFound) {
				t.Errorf("Subscribe(%s) by a stranger: %v, want fault.ErrNotFound", sub.Target, err)
			}
		}
	})
	t.Run("ErrForbidden", func(t *testing.T) {
		t.Parallel()
		f := setup(t, Options{})
		f.src.put(RunsTopic(7), 7, 1)
		f.auth.set(1, 7, fmt.Errorf("no view capability: %w", fault.ErrForbidden))
		_, err := f.hub.Subscribe(context.Background(), 1, []Subscription{{Target: RunsTopic(7)}})
		if !errors.Is(err, fault.ErrForbidden) {
			t.Errorf("Subscribe without the view capability: %v, want fault.ErrForbidden", err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		t.Parallel()
		f := setup(t, Options{})
		for _, sub := range []Subscription{{Target: DraftsTopic(7), View: ViewRow}, {Target: UserTopic(1), View: ViewDigest}, {Target: "d", View: ViewBell}} {
			_, err := f.hub.Subscribe(context.Background(), 1, []Subscription{sub})
			if !errors.Is(err, fault.ErrInvalid) {
				t.Errorf("Subscribe(%s, %s): %v, want fault.ErrInvalid", sub.Target, sub.View, err)
			}
		}
	})
	t.Run("AuditTopic", func(t *testing.T) {
		t.Parallel()
		f := setup(t, Options{})
		f.hub.Resync()
		topic := AuditTopic(7)
		f.src.put(topic, 7, 40)
		f.auth.set(2, 7, "operator")
		if _, err := f.hub.Subscribe(context.Background(), 2, []Subscription{{Target: topic, View: ViewDigest}}); !errors.Is(err, fault.ErrForbidden) {
			t.Errorf("Subscribe(%s) as an operator: %v, want fault.ErrForbidden", topic, err)
		}
		f.auth.set(1, 7, "owner")
		c := f.subscribe(t, 1, Subscription{Target: topic, View: ViewDigest, Rev: 40})
		// A draft event leaves it alone; an audit event of its workspace schedules it.
		f.src.put(topic, 7, 41)
		f.hub.Notify(Event{Kind: KindDraft, DraftID: "d", WorkspaceID: 7})
		f.hub.Notify(Event{Kind: KindAudit, WorkspaceID: 8})
		f.hub.Notify(Event{Kind: KindAudit, WorkspaceID: 7})
		if b := next(t, c); revOf(t, b) != 41 || !contains(b, `data-draft-id="audit:7"`) {
			t.Fatalf("after an audit event got %s, want the audit digest at rev 41", b)
		}
		// Made an operator, the owner may no longer watch it.
		f.auth.set(1, 7, "operator")
		f.hub.Notify(Event{Kind: KindMembership, UserID: 1, WorkspaceID: 7})
		waitDone(t, c, ErrRevoked)
	})
	t.Run("UserTopicFollowsNotifications", func(t *testing.T) {
		t.Parallel()
		f := setup(t, Options{})
		topic := UserTopic(3)
		f.src.put(topic, 0, 5)
		c := f.subscribe(t, 3, Subscription{Target: topic, Rev: 5})
		f.src.put(topic, 0, 6)
		f.hub.Notify(Event{Kind: KindNotification, UserID: 3, WorkspaceID: 9})
		if got := revOf(t, next(t, c)); got != 6 {
			t.Fatalf("bell rev = %d, want 6", got)
		}
		if got := f.auth.callsOf(3, 0); got != 0 {
			t.Errorf("Cohort asked %d times for a user topic, want 0", got)
		}
	})
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }

// TestParseView: the one reader of the view grammar reads every view and refuses the rest,
// and String writes back what it read.
func TestParseView(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]View{
		"checkpoint":   {Kind: ViewCheckpoint},
		"checkpoint:1": {Kind: ViewCheckpoint, Step: 1},
		"checkpoint:5": {Kind: ViewCheckpoint, Step: 5},
		"row":          {Kind: ViewRow},
		"run:a-B9":     {Kind: ViewRun, RunID: "a-B9"},
		"oprow:r1":     {Kind: ViewOpRow, RunID: "r1"},
		"digest":       {Kind: ViewDigest},
		"bell":         {Kind: ViewBell},
	} {
		got, err := ParseView(s)
		if err != nil || got != want || got.String() != s {
			t.Errorf("ParseView(%q) = %+v, %v (String %q), want %+v", s, got, err, got.String(), want)
		}
	}
	for _, s := range []string{"", "page", "checkpoint:", "checkpoint:0", "checkpoint:6", "checkpoint:12",
		"row:1", "run:", "run:a b", "oprow:" + strings.Repeat("a", 65), "digest:1", "Checkpoint"} {
		if v, err := ParseView(s); err == nil {
			t.Errorf("ParseView(%q) = %+v, want an error", s, v)
		}
	}
}
