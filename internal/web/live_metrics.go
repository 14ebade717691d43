package web

import "time"

// EndpointObserver receives the /live endpoint's metric hooks (livemetrics.Metrics
// implements it). Calls are made from connection goroutines and must be cheap.
type EndpointObserver interface {
	SocketOpened()
	SocketClosed(label string)      // one of CloseLabels
	FramesSent(n int, at time.Time) // one message carrying n frames
	WriteFailed()
	Polled(result string)
	Refused(reason string) // one of RefusalReasons
}

// RefusalReasons are the reasons a /live or /live/poll subscription is refused, the values of
// onboard_live_refusals_total's label (docs/live.md, Metrics).
var RefusalReasons = []string{"unauthenticated", "invalid", "origin", "unavailable", "not_found", "forbidden",
	"session_ended", "too_many", "error"}

func (m *LiveMetrics) refused(reason string) {
	if m != nil {
		m.obs.Refused(reason)
	}
}

// LiveMetrics hands the endpoint's hooks to an EndpointObserver. A nil *LiveMetrics records
// nothing.
type LiveMetrics struct{ obs EndpointObserver }

// NewLiveMetrics returns the endpoint's metrics reported to obs.
func NewLiveMetrics(obs EndpointObserver) *LiveMetrics { return &LiveMetrics{obs: obs} }

func (m *LiveMetrics) socketOpened() {
	if m != nil {
		m.obs.SocketOpened()
	}
}

func (m *LiveMetrics) socketClosed(label string) {
	if m != nil {
		m.obs.SocketClosed(label)
	}
}

func (m *LiveMetrics) sent(n int, at time.Time) {
	if m != nil {
		m.obs.FramesSent(n, at)
	}
}

func (m *LiveMetrics) writeFailed() {
	if m != nil {
		m.obs.WriteFailed()
	}
}

func (m *LiveMetrics) polled(result string) {
	if m != nil {
		m.obs.Polled(result)
	}
}
