package web

import (
	"context"
	"errors"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// statusRecorder remembers the status written, for logs and metrics.
type statusRecorder struct {
	http.ResponseWriter
	status int
	// sealed: the response is complete (an error answered on the handler's behalf, see
	// Server.sessionError); what the handler writes afterwards is dropped.
	sealed bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.sealed {
		return
	}
	if r.status == 0 {
		r.status = code
		finishHeader(r.Header(), code)
	}
	r.ResponseWriter.WriteHeader(code)
}

// finishHeader is the last look at a response's header before it is sent. Every refusal that
// may succeed later says when to retry: the handler's figure when it gave one
// (setRetryAfter), else a second. No header is sent twice: repeated values are dropped and
// the lists of Cache-Control or Vary that the handler and the session middleware each add to
// become one line (RFC 9110, 5.3), without a no-cache="Set-Cookie" that no-store or no-cache
// already covers.
func finishHeader(h http.Header, code int) {
	if (code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable) && h.Get("Retry-After") == "" {
		h.Set("Retry-After", "1")
	}
	for k, vs := range h {
		if len(vs) < 2 {
			continue
		}
		var kept []string
		for _, v := range vs {
			if !slices.Contains(kept, v) {
				kept = append(kept, v)
			}
		}
		if k == "Cache-Control" && (slices.Contains(kept, "no-store") || slices.Contains(kept, "no-cache")) {
			// Nothing is stored, or nothing reused unchecked: the session middleware's
			// no-cache="Set-Cookie" adds nothing.
			kept = slices.DeleteFunc(kept, func(v string) bool { return strings.HasPrefix(v, "no-cache=") })
		}
		if k != "Set-Cookie" {
			kept = []string{strings.Join(kept, ", ")}
		}
		h[k] = kept
	}
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.sealed {
		return len(b), nil
	}
	if r.status == 0 {
		r.status = http.StatusOK
		finishHeader(r.Header(), http.StatusOK)
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

type httpMetrics struct {
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg *prometheus.Registry) *httpMetrics {
	m := &httpMetrics{duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "onboard_http_request_duration_seconds",
		Help:    "HTTP request duration by route pattern, method and status.",
		Buckets: prometheus.DefBuckets,
	}, []string{"route", "method", "status"})}
	if reg != nil {
		reg.MustRegister(m.duration)
	}
	return m
}

// unmatchedRoute is the one route label of every request no route matched: raw paths would
// let anyone grow the metrics without bound.
const unmatchedRoute = "unmatched"

// methodLabel bounds the method label to the methods HTTP defines; any other is "other".
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// observation is what observe learns from inside the router: the not-found handler marks the
// request unmatched, since chi reports a mounted subrouter's "/*" pattern for it.
type observation struct {
	unmatched bool
	// sessionLoaded: the session was loaded and the request went on to its handler, so a
	// session error after it (saving the session) may follow a write that succeeded.
	sessionLoaded bool
}

const observationKey ctxKey = -1

// markUnmatched records that no route matched the request.
func markUnmatched(r *http.Request) {
	if o, ok := r.Context().Value(observationKey).(*observation); ok {
		o.unmatched = true
	}
}

// observe logs every request (never bodies or credentials) and records its duration under
// bounded labels: the route pattern (never the raw path), a known method or "other", the
// status. It also turns a panic into a logged 500 so one bad request never takes the process
// down.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		obs := &observation{}
		r = r.WithContext(context.WithValue(r.Context(), observationKey, obs))
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.ErrorContext(r.Context(), "panic", "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				if rec.status == 0 {
					s.error(rec, r, errors.New("panic"))
				}
			}
			route := chi.RouteContext(r.Context()).RoutePattern()
			if route == "" || obs.unmatched {
				route = unmatchedRoute
			}
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			method := methodLabel(r.Method)
			s.metrics.duration.WithLabelValues(route, method, strconv.Itoa(status)).Observe(time.Since(start).Seconds())
			s.log.InfoContext(r.Context(), "request", "method", method, "route", route, "status", status,
				"duration_ms", time.Since(start).Milliseconds())
		}()
		next.ServeHTTP(rec, r)
	})
}
