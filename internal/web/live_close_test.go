package web

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/coder/websocket"

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
		"SubscribeNotFound": {&live.SubscribeError{DraftID: "d", Err: fmt.Errorf("x: %w", live.ErrNotFound)}, 4404},
		"SubscribeForbid":   {&live.SubscribeError{DraftID: "d", Err: live.ErrForbidden}, 4403},
		"SubscribeInvalid":  {&live.SubscribeError{Err: live.ErrInvalid}, websocket.StatusPolicyViolation},
		"SlowConsumer":      {live.ErrSlowConsumer, websocket.StatusTryAgainLater},
		"Revoked":           {live.ErrRevoked, websocket.StatusPolicyViolation},
		"SubscribeTimeout":  {context.DeadlineExceeded, websocket.StatusInternalError},
		"DatabaseTrouble":   {&live.SubscribeError{DraftID: "d", Err: errors.New("connection refused")}, websocket.StatusInternalError},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got, reason := liveCloseFor(tc.why); got != tc.want || (got != 0 && reason == "") {
				t.Errorf("liveCloseFor(%v) = %d %q, want %d and a reason", tc.why, got, reason, tc.want)
			}
		})
	}
}
