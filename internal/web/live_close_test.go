package web

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/live"
	"github.com/tenantops/onboard/internal/liveedge"
	"github.com/tenantops/onboard/internal/livemetrics"
)

// TestLiveCloseFor pins the one table from why a /live socket ends to its close code
// (docs/live.md, Close codes).
func TestLiveCloseFor(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		why  error
		want websocket.StatusCode
	}{
		"PeerGone":          {liveedge.ErrPeerGone, 0},
		"PeerClosed":        {liveedge.ErrPeerClosed, 0},
		"WriteFailed":       {liveedge.ErrWriteFailed, 0},
		"PeerData":          {liveedge.ErrPeerData, websocket.StatusPolicyViolation},
		"CloseLive":         {liveedge.ErrGoingAway, websocket.StatusGoingAway},
		"BaseContextEnded":  {context.Canceled, websocket.StatusGoingAway},
		"HubShutdown":       {live.ErrShutdown, websocket.StatusGoingAway},
		"SubscribeNotFound": {&live.SubscribeError{Target: "d", Err: fmt.Errorf("x: %w", fault.ErrNotFound)}, 4404},
		"SubscribeForbid":   {&live.SubscribeError{Target: "d", Err: fault.ErrForbidden}, 4403},
		"SubscribeInvalid":  {&live.SubscribeError{Err: fault.ErrInvalid}, websocket.StatusPolicyViolation},
		"SlowConsumer":      {live.ErrSlowConsumer, websocket.StatusTryAgainLater},
		"Revoked":           {live.ErrRevoked, websocket.StatusPolicyViolation},
		"SubscribeTimeout":  {context.DeadlineExceeded, websocket.StatusInternalError},
		"DatabaseTrouble":   {&live.SubscribeError{Target: "d", Err: errors.New("connection refused")}, websocket.StatusInternalError},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := liveCloseFor(tc.why)
			if got.Code != tc.want || got.Drop != (tc.want == 0) || (!got.Drop && got.Reason == "") {
				t.Errorf("liveCloseFor(%v) = %+v, want %d and a reason", tc.why, got, tc.want)
			}
		})
	}
}

// TestFaultAnswers pins the other columns of the faults table: the /live/poll status and the
// refusal label of each Subscribe error, and that every label is one of RefusalReasons.
func TestFaultAnswers(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		err     error
		status  int
		refusal string
	}{
		"NotFound":     {&live.SubscribeError{Target: "d", Err: fault.ErrNotFound}, 404, "not_found"},
		"Forbidden":    {&live.SubscribeError{Target: "d", Err: fault.ErrForbidden}, 403, "forbidden"},
		"Invalid":      {&live.SubscribeError{Err: fault.ErrInvalid}, 400, "invalid"},
		"SessionEnded": {live.ErrSessionEnded, 401, "session_ended"},
		"Shutdown":     {live.ErrShutdown, 503, "unavailable"},
		"TooMany":      {liveedge.ErrTooMany, 503, "too_many"},
		"Database":     {&live.SubscribeError{Target: "d", Err: errors.New("connection refused")}, 503, "error"},
	} {
		if got := livePollProblem(tc.err).Status; got != tc.status {
			t.Errorf("%s: poll status %d, want %d", name, got, tc.status)
		}
		if got := refusalReason(tc.err); got != tc.refusal {
			t.Errorf("%s: refusal %q, want %q", name, got, tc.refusal)
		}
	}
	for _, f := range faults {
		if f.refusal != "" && !slices.Contains(liveedge.RefusalReasons, f.refusal) {
			t.Errorf("faults: refusal %q of %v is not in liveedge.RefusalReasons", f.refusal, f.err)
		}
	}
}

// TestCloseLabels: every close code the faults table sends (and 1011, the default) is counted
// in onboard_live_socket_closes_total under a label of its own, its number, and a socket
// that ended without a close handshake under dropped; none is lumped with others.
func TestCloseLabels(t *testing.T) {
	t.Parallel()
	closes := []liveedge.Close{liveCloseFor(nil)}
	for _, f := range faults {
		if f.close.Drop || f.close.Code != 0 {
			closes = append(closes, f.close)
		}
	}
	labels := CloseLabels()
	for _, c := range closes {
		name := "dropped"
		if !c.Drop {
			name = strconv.Itoa(int(c.Code))
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := c.Label()
			if got != name {
				t.Errorf("label of %+v = %q, want %q", c, got, name)
			}
			if !slices.Contains(labels, got) {
				t.Errorf("label %q is not in CloseLabels %q", got, labels)
			}
			// As exported: the series carries that label.
			reg := prometheus.NewRegistry()
			m := livemetrics.New(reg)
			m.SocketOpened()
			m.SocketClosed(got)
			if n := closesCounted(t, reg, name); n != 1 {
				t.Errorf("onboard_live_socket_closes_total{code=%q} = %v, want 1", name, n)
			}
		})
	}
	for _, want := range []string{"1001", "1008", "1011", "1013", "4401", "4403", "4404", "4429", "dropped", "peer"} {
		if !slices.Contains(labels, want) {
			t.Errorf("CloseLabels %q lacks %q", labels, want)
		}
	}
}

// closesCounted reads onboard_live_socket_closes_total{code=label} from reg.
func closesCounted(t *testing.T, reg *prometheus.Registry, label string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "onboard_live_socket_closes_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "code" && l.GetValue() == label {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
