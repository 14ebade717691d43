// Package liveedge is the live path's HTTP edge: GET /live (the WebSocket that pushes
// fragments and presence) and GET /live/poll (its fallback). The web edge routes to it and
// gives it what it knows of a request (Edge): the signed-in user, the session, the client
// address, and its one faults table for every answer.
package liveedge

import (
	"log/slog"
	"net/http"
	"strconv"

	"github.com/coder/websocket"

	"github.com/tenantops/onboard/internal/access"
)

// Endpoint serves GET /live and GET /live/poll.
type Endpoint struct {
	cfg     *Config // nil: live updates are not enabled (503)
	edge    Edge
	log     *slog.Logger
	sockets liveSockets // open /live connections, closed by Close
	writers writers     // write the sockets (writers.go)
}

// New returns the endpoint for cfg (nil answers 503) behind edge.
func New(cfg *Config, edge Edge, log *slog.Logger) *Endpoint {
	return &Endpoint{cfg: cfg, edge: edge, log: log}
}

// Edge is what the endpoint needs from the web edge that routes to it.
type Edge struct {
	User        func(*http.Request) (access.User, bool) // the signed-in user, if any
	SessionKeys func(*http.Request) []string            // the sign-in session's keys (live.Viewer.Sessions)
	ClientAddr  func(*http.Request) string              // the client address, for its socket cap
	// Origins are the only Origins a browser may open /live from (sameOrigin).
	Origins      []string
	WriteProblem func(http.ResponseWriter, Problem) // an RFC 9457 problem document
	Faults       Faults
}

// Faults are the /live columns of the web edge's one table of answers to errors.
type Faults struct {
	Close           func(why error) Close   // how a socket ends
	Poll            func(err error) Problem // /live/poll's answer to a refused subscription
	Refusal         func(err error) string  // onboard_live_refusals_total's label (RefusalReasons)
	Unauthenticated Problem                 // no session
}

// Problem is an HTTP answer of the endpoint: before the upgrade, and every /live/poll refusal.
type Problem struct {
	Status        int
	Title, Detail string
}

// Close is how a /live socket ends: a close frame with Code and Reason, or dropped without one.
type Close struct {
	Code   websocket.StatusCode
	Reason string
	Drop   bool
}

// The onboard_live_socket_closes_total labels of sockets that ended without a close handshake
// of the server's: dropped (the peer vanished or a write failed, so no close frame was read)
// and peer (the browser closed first).
const (
	LabelDropped = "dropped"
	LabelPeer    = "peer"
)

// Label is c's onboard_live_socket_closes_total label: its close code, or dropped.
func (c Close) Label() string {
	if c.Drop {
		return LabelDropped
	}
	return strconv.Itoa(int(c.Code))
}
