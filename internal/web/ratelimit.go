package web

import (
	"context"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// LoginAttempts counts sign-in attempts where every process sees them (PostgreSQL), so a
// limit holds across processes and restarts.
type LoginAttempts interface {
	// ReserveLoginAttempt counts one attempt against key in its window and returns the
	// attempts counted in the window so far, this one included, and the time left in it.
	ReserveLoginAttempt(ctx context.Context, key string, window time.Duration) (int, time.Duration, error)
	// ReleaseLoginAttempt gives back one reserved attempt of key.
	ReleaseLoginAttempt(ctx context.Context, key string) error
}

// signInGate bounds what sign-ins cost. Each one runs argon2id at 19 MiB, so the number
// hashing at once is capped by a fixed pool of slots; a sign-in that finds none free is
// refused at once (503) instead of queueing, so a flood holds neither memory nor goroutines.
// Attempts are counted per account and per client address before the password is checked.
type signInGate struct {
	slots    chan struct{}
	attempts LoginAttempts
	inFlight prometheus.Gauge
	refused  *prometheus.CounterVec
}

func newSignInGate(slots int, attempts LoginAttempts, reg *prometheus.Registry) *signInGate {
	g := &signInGate{
		slots:    make(chan struct{}, slots),
		attempts: attempts,
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "onboard_login_in_flight",
			Help: "Sign-ins holding a password-hashing slot now.",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onboard_login_refused_total",
			Help: "Sign-ins refused before the password was checked: busy (no free slot) or limited (too many attempts).",
		}, []string{"reason"}),
	}
	if reg != nil {
		reg.MustRegister(g.inFlight, g.refused)
	}
	return g
}

var errSignInBusy = &httpError{Status: http.StatusServiceUnavailable, Title: "Busy",
	Detail: "Too many sign-ins at once. Try again in a second.", Extra: map[string]any{"retry_after": 1}}

// acquire takes a hashing slot without waiting; the returned func gives it back.
func (g *signInGate) acquire() (func(), error) {
	select {
	case g.slots <- struct{}{}:
		g.inFlight.Inc()
		return func() { g.inFlight.Dec(); <-g.slots }, nil
	default:
		g.refused.WithLabelValues("busy").Inc()
		return nil, errSignInBusy
	}
}

// limitedKey is one counter a sign-in is charged to, with its limit.
type limitedKey struct {
	key string
	max int
}

// reserve charges one attempt to each key in order and stops at the first over its limit
// with a 429 telling when to retry. It returns the keys charged, for release on success.
func (g *signInGate) reserve(ctx context.Context, keys []limitedKey, window time.Duration) ([]string, error) {
	var charged []string
	for _, k := range keys {
		n, left, err := g.attempts.ReserveLoginAttempt(ctx, k.key, window)
		if err != nil {
			return charged, err
		}
		charged = append(charged, k.key)
		if n > k.max {
			g.refused.WithLabelValues("limited").Inc()
			secs := max(1, int(math.Ceil(left.Seconds())))
			return charged, &httpError{Status: http.StatusTooManyRequests, Title: "Too many sign-in attempts",
				Detail: "Wait " + strconv.Itoa(secs) + " seconds before trying again.", Extra: map[string]any{"retry_after": secs}}
		}
	}
	return charged, nil
}

// release gives back the attempts of a sign-in that succeeded: only failures count.
func (g *signInGate) release(ctx context.Context, keys []string) error {
	for _, k := range keys {
		if err := g.attempts.ReleaseLoginAttempt(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

// clientAddress is the address sign-in attempts are counted against: the connection's peer,
// or, when a trusted proxy header is configured, the last address in it (the one the proxy
// itself appended; earlier ones are whatever the client sent). IPv6 addresses count per /64,
// the block one subscriber usually holds.
func clientAddress(r *http.Request, header string) string {
	s := ""
	if header != "" {
		if v := r.Header.Values(header); len(v) > 0 {
			last := v[len(v)-1]
			s = strings.TrimSpace(last[strings.LastIndexByte(last, ',')+1:])
		}
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		host := clientIP(r)
		if addr, err = netip.ParseAddr(host); err != nil {
			return host
		}
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// clientIP is the connection's peer address, without the port.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
