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
	// ReserveLoginAttempts counts one attempt against each key in its window, atomically, and
	// returns for each the attempts counted in the window so far, this one included, and
	// the time left in it.
	ReserveLoginAttempts(ctx context.Context, keys []string, window time.Duration) ([]int, []time.Duration, error)
	// ReleaseLoginAttempts gives back one reserved attempt of each key.
	ReleaseLoginAttempts(ctx context.Context, keys []string) error
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

// tooManyAttempts is the 429 of a limited attempt; left is the time until the window that
// limited it ends.
func (g *signInGate) tooManyAttempts(left time.Duration) *httpError {
	g.refused.WithLabelValues("limited").Inc()
	secs := max(1, int(math.Ceil(left.Seconds())))
	return &httpError{Status: http.StatusTooManyRequests, Title: "Too many sign-in attempts",
		Detail: "Wait " + strconv.Itoa(secs) + " seconds before trying again.", Extra: map[string]any{"retry_after": secs}}
}

// signInLimits are the limits of one sign-in window (docs/reliability.md, Sign-in limits).
type signInLimits struct {
	Pair    int // failures of one account from one address
	Account int // failures of one account from every address
	Address int // failures from one address, every account: a ceiling, see reserveSignIn
}

// reserveSignIn charges a sign-in of account from address before its password is checked and
// refuses it (429) when:
//   - the account failed Pair times from this address in the window (a guesser on one
//     account), or
//   - the account failed Account times from all addresses (guessing spread over addresses),
//   - or the address failed Address times over all accounts (a guesser trying many accounts)
//     and the account itself failed Pair times from anywhere. Below that, the account is not
//     under attack, and its owner behind the same address (an office's NAT) still signs in.
//
// It returns the keys charged, for release when the password was right.
func (g *signInGate) reserveSignIn(ctx context.Context, address, account string, lim signInLimits, window time.Duration) ([]string, error) {
	keys := []string{"pair:" + address + " " + account, "account:" + account, "address:" + address}
	n, left, err := g.attempts.ReserveLoginAttempts(ctx, keys, window)
	if err != nil {
		return nil, err
	}
	switch {
	case n[0] > lim.Pair:
		return keys, g.tooManyAttempts(left[0])
	case n[1] > lim.Account:
		return keys, g.tooManyAttempts(left[1])
	case n[2] > lim.Address && n[1] > lim.Pair:
		return keys, g.tooManyAttempts(min(left[1], left[2]))
	}
	return keys, nil
}

// reservePasswordCheck charges a check of the current password in the password form. It
// counts apart from sign-ins, so someone holding a session cannot lock its owner out of
// signing in by failing here.
func (g *signInGate) reservePasswordCheck(ctx context.Context, userID int64, limit int, window time.Duration) ([]string, error) {
	keys := []string{"password-check:" + strconv.FormatInt(userID, 10)}
	n, left, err := g.attempts.ReserveLoginAttempts(ctx, keys, window)
	if err != nil {
		return nil, err
	}
	if n[0] > limit {
		return keys, g.tooManyAttempts(left[0])
	}
	return keys, nil
}

// release gives back the attempts of a sign-in that succeeded: only failures (and refusals)
// count.
func (g *signInGate) release(ctx context.Context, keys []string) error {
	return g.attempts.ReleaseLoginAttempts(ctx, keys)
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
