package livemetrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenantops/onboard/internal/presence"
)

// RegisterPresence registers the presence registry's counters (docs/live.md, Presence),
// read from stats at each scrape. A nil reg registers nothing.
func RegisterPresence(reg prometheus.Registerer, stats func() presence.Stats) {
	if reg == nil {
		return
	}
	f := func(get func(presence.Stats) int64) func() float64 {
		return func() float64 { return float64(get(stats())) }
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "onboard_presence_entries",
			Help: "(socket, draft) presence entries of this process."}, f(func(s presence.Stats) int64 { return s.Present })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "onboard_presence_messages_published_total",
			Help: "Presence messages this process published (one per changed draft per flush)."}, f(func(s presence.Stats) int64 { return s.Published })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "onboard_presence_publish_transactions_total",
			Help: "Transactions that published presence messages (one per flush)."}, f(func(s presence.Stats) int64 { return s.PublishTx })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "onboard_presence_lease_transactions_total",
			Help: "Presence lease renewals (one transaction each)."}, f(func(s presence.Stats) int64 { return s.LeaseTx })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "onboard_presence_messages_received_total",
			Help: "Valid presence messages received from other processes."}, f(func(s presence.Stats) int64 { return s.Received })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "onboard_presence_bad_messages_total",
			Help: "Malformed presence messages or lease states dropped."}, f(func(s presence.Stats) int64 { return s.BadMessages })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "onboard_presence_frames_total",
			Help: "Presence frames offered to sockets."}, f(func(s presence.Stats) int64 { return s.FramesPushed })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "onboard_presence_expired_processes_total",
			Help: "Other processes whose presence expired with their lease (crashed or cut off)."}, f(func(s presence.Stats) int64 { return s.Expired })),
	)
}
