package web

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/coder/websocket"

	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/live"
)

// TestLiveCloseFor pins the one table from why a /live socket ends to its close code
// (docs/live.md, Close codes).
func TestLiveCloseFor(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		why  error
		want websocket.StatusCode
	}{
		"PeerGone":          {errPeerGone, 0},
		"WriteFailed":       {errWriteFailed, 0},
		"PeerData":          {errPeerData, websocket.StatusPolicyViolation},
		"CloseLive":         {errGoingAway, websocket.StatusGoingAway},
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
			if got.code != tc.want || got.drop != (tc.want == 0) || (!got.drop && got.reason == "") {
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
		"TooMany":      {errTooMany, 503, "too_many"},
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
		if f.refusal != "" && !slices.Contains(RefusalReasons, f.refusal) {
			t.Errorf("faults: refusal %q of %v is not in RefusalReasons", f.refusal, f.err)
		}
	}
}
