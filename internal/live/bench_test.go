package live

import (
	"fmt"
	"io"
	"strconv"
	"testing"
)

// Benchmarks of the per-mutation and per-connection costs (docs/benchmarks.md records their
// results before and after changes). Run:
//
//	go test ./internal/live -run '^$' -bench . -benchmem

// BenchmarkFanout (hub_test.go) is render-and-fanout: one mutation rendered once and
// queued to N subscribers, each drained by its own goroutine.

// fragmentPad makes the fake fragment about the size of the real checkpoint fragment
// (~4.8 KB).
const fragmentPad = 4700

// BenchmarkWriter is one connection's write path: the hub offers a fragment to each of the
// client's subscriptions (keys of them between two writes) and the writer takes and writes
// what is queued (to io.Discard, with a WebSocket frame header). ns/op and allocs/op are per
// fragment offered.
func BenchmarkWriter(b *testing.B) {
	for _, keys := range []int{1, 8} {
		b.Run("queued="+strconv.Itoa(keys), func(b *testing.B) {
			h := NewHub(nil, nil, Options{SlowTimeout: 1 << 40})
			c := &Client{hub: h, ready: make(chan struct{}, 1), done: make(chan struct{})}
			for i := range keys {
				c.subs = append(c.subs, &sub{c: c, target: fmt.Sprint("d", i), view: ViewCheckpoint, cohort: "operator"})
			}
			frag := make([]byte, fragmentPad)
			now := h.now()
			var hdr [14]byte
			rev := int64(0)
			out := &fanOut{full: frag}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				s := c.subs[i%keys]
				rev++
				out.rev = rev
				r := c.offer(s, "operator", out, now, now)
				h.account(r.count(), now, now)
				if i%keys != keys-1 {
					continue
				}
				<-c.Ready()
				msg, _, k, err := c.Take()
				if k != keys || err != nil {
					b.Fatalf("Take: %d frames, %v", k, err)
				}
				_, _ = io.Discard.Write(hdr[:])
				_, _ = io.Discard.Write(msg)
			}
		})
	}
}
