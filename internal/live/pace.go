package live

import (
	"context"
	"sync"
	"time"
)

// pace is a token bucket: the hub takes a token before each snapshot load a Subscribe needs
// (the catch-up of a connect), so that a reconnect storm after a deploy reads the database
// at the rate it was sized for instead of all at once, leaving its connections to the
// product's writes. Loads shared by concurrent Subscribes take one token (share.go), and the
// loads of notifications and resyncs are not paced: they follow writes, not tabs.
type pace struct {
	rate  float64 // tokens per second; ≤ 0: no pacing
	burst float64

	mu     sync.Mutex
	tokens float64
	last   time.Time
	waited time.Duration // total time loads waited for a token
}

func newPace(rate float64, burst int) *pace {
	return &pace{rate: rate, burst: float64(max(burst, 1)), tokens: float64(max(burst, 1))}
}

// wait takes a token, waiting until one is due; it returns ctx's error (and gives the token
// back) when ctx ends first.
func (p *pace) wait(ctx context.Context) error {
	if p == nil || p.rate <= 0 {
		return nil
	}
	p.mu.Lock()
	now := time.Now()
	if !p.last.IsZero() {
		p.tokens = min(p.burst, p.tokens+now.Sub(p.last).Seconds()*p.rate)
	}
	p.last = now
	p.tokens-- // taken now; below zero, it is paid for by waiting
	var d time.Duration
	if p.tokens < 0 {
		d = time.Duration(-p.tokens / p.rate * float64(time.Second))
		p.waited += d
	}
	p.mu.Unlock()
	if d == 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		p.mu.Lock()
		p.tokens++
		p.waited -= d
		p.mu.Unlock()
		return ctx.Err()
	}
}

// waitedTotal is how long loads have waited for tokens in all.
func (p *pace) waitedTotal() time.Duration {
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waited
}
