package liveedge

import "time"

// EndpointObserver receives the /live endpoint's metric hooks (livemetrics.Metrics
// implements it). Calls are made from connection goroutines and must be cheap.
type EndpointObserver interface {
	SocketOpened()
	SocketClosed(label string)      // a close code the endpoint sent, LabelDropped or LabelPeer
	FramesSent(n int, at time.Time) // one message carrying n frames
	WriteFailed()
	Polled(result string)
	Refused(reason string) // one of RefusalReasons
}

// RefusalReasons are the reasons a /live or /live/poll subscription is refused, the values of
// onboard_live_refusals_total's label (docs/live.md, Metrics).
var RefusalReasons = []string{"unauthenticated", "invalid", "origin", "unavailable", "not_found", "forbidden",
	"session_ended", "too_many", "error"}

func (m *Metrics) refused(reason string) {
	if m != nil {
		m.obs.Refused(reason)
	}
}

// Metrics hands the endpoint's hooks to an EndpointObserver. A nil *Metrics records
// nothing.
type Metrics struct{ obs EndpointObserver }

// NewMetrics returns the endpoint's metrics reported to obs.
func NewMetrics(obs EndpointObserver) *Metrics { return &Metrics{obs: obs} }

func (m *Metrics) socketOpened() {
	if m != nil {
		m.obs.SocketOpened()
	}
}

func (m *Metrics) socketClosed(label string) {
	if m != nil {
		m.obs.SocketClosed(label)
	}
}

func (m *Metrics) sent(n int, at time.Time) {
	if m != nil {
		m.obs.FramesSent(n, at)
	}
}

func (m *Metrics) writeFailed() {
	if m != nil {
		m.obs.WriteFailed()
	}
}

func (m *Metrics) polled(result string) {
	if m != nil {
		m.obs.Polled(result)
	}
}
