package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/liveedge"
)

// liveEdge is what the live endpoint (internal/liveedge) gets from the web edge: the
// request's user and session as authenticate found them, the client address as the sign-in
// limits see it, the origins /live accepts, the problem documents, and the live columns of
// the one faults table.
func (s *Server) liveEdge() liveedge.Edge {
	toProblem := func(he *httpError) liveedge.Problem {
		return liveedge.Problem{Status: he.Status, Title: he.Title, Detail: he.Detail}
	}
	return liveedge.Edge{
		User:        func(r *http.Request) (access.User, bool) { return userFrom(r.Context()) },
		SessionKeys: s.liveSessionKeys,
		ClientAddr:  clientIP,
		Origins:     s.cfg.LiveOrigins,
		WriteProblem: func(w http.ResponseWriter, p liveedge.Problem) {
			writeProblem(w, &httpError{Status: p.Status, Title: p.Title, Detail: p.Detail})
		},
		Faults: liveedge.Faults{
			Close:           liveCloseFor,
			Poll:            func(err error) liveedge.Problem { return toProblem(livePollProblem(err)) },
			Refusal:         refusalReason,
			Unauthenticated: toProblem(errUnauthenticated),
		},
	}
}

// CloseLive closes every open /live socket with 1001 and refuses new ones (liveedge's
// Endpoint.Close). Call it after http.Server.Shutdown, which does not close hijacked
// connections.
func (s *Server) CloseLive(ctx context.Context) error { return s.live.Close(ctx) }

// liveSessionKeys names the request's sign-in session the way the sessions table's delete
// trigger does (migrations/00007_live_session_end.sql): the SHA-256 (hex) of the stored
// token value. The table stores the cookie's token, or, once tokens are stored hashed, the
// token's SHA-256; both keys are given so that either storage closes the socket. Neither
// key signs anybody in.
func (s *Server) liveSessionKeys(r *http.Request) []string {
	plain, _ := r.Context().Value(liveTokenKey).(string) // the token's SHA-256, hex
	if plain == "" {
		return nil
	}
	return []string{plain, sha256Hex(plain)}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
