package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/coder/websocket"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/live"
	"github.com/tenantops/onboard/internal/liveedge"
	"github.com/tenantops/onboard/internal/onboarding"
)

// httpError is an error with a status and a message safe to show.
type httpError struct {
	Status int
	Title  string
	Detail string
	Extra  map[string]any
}

func (e *httpError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Title, e.Detail) }

var (
	errUnauthenticated = &httpError{Status: http.StatusUnauthorized, Title: "Unauthorized", Detail: "Sign in to continue."}
	errNotFound        = &httpError{Status: http.StatusNotFound, Title: "Not found", Detail: "There is nothing here, or you do not have access to it."}
	errUnavailable     = &httpError{Status: http.StatusServiceUnavailable, Title: "Service unavailable", Detail: "The database is not answering. Try again in a moment."}
	errForbidden       = &httpError{Status: http.StatusForbidden, Title: "Forbidden", Detail: "Your role in this workspace does not allow this action."}
	errCrossOrigin     = &httpError{Status: http.StatusForbidden, Title: "Forbidden", Detail: "This request came from another site and was refused. Use the console's own pages."}
)

func badRequest(detail string) *httpError {
	return &httpError{Status: http.StatusBadRequest, Title: "Bad request", Detail: detail}
}

// faults is the one table from the error vocabulary (internal/fault, the hub's ends of a
// client and the endpoint's own) to every answer the edge gives: the problem of pages and the
// API (a version conflict is 412 here; pages turn it into a 409 with a conflict banner before
// it reaches this table), the /live close code and reason (docs/live.md, Close codes), the
// /live/poll problem and the onboard_live_refusals_total label. For each answer the first row
// whose error matches (errors.Is) and that gives that answer wins; a row gives no answer where
// its field is zero, and the defaults are in statusOf, liveCloseFor, livePollProblem and
// refusalReason.
var faults = []struct {
	err     error
	http    func(error) *httpError // pages and the API
	close   liveedge.Close         // a /live socket
	poll    func(error) *httpError // /live/poll
	refusal string                 // a refused /live or /live/poll subscription
}{
	{err: liveedge.ErrPeerGone, close: liveedge.Close{Drop: true}},
	{err: liveedge.ErrPeerClosed, close: liveedge.Close{Drop: true}}, // coder/websocket answered its close frame
	{err: liveedge.ErrWriteFailed, close: liveedge.Close{Drop: true}},
	{err: liveedge.ErrPeerData, close: liveedge.Close{Code: websocket.StatusPolicyViolation, Reason: "unexpected data message"}},
	{err: liveedge.ErrGoingAway, close: goingAway},
	{err: context.Canceled, close: goingAway}, // the server's base context ended
	{err: live.ErrShutdown, close: goingAway, refusal: "unavailable"},
	{err: access.ErrNotMember, http: answer(errNotFound)},
	{err: fault.ErrNotFound, http: answer(errNotFound), close: liveedge.Close{Code: liveedge.CloseNotFound, Reason: "not found"},
		poll:    answer(&httpError{Status: http.StatusNotFound, Title: "Not found", Detail: "No such draft in your workspaces."}),
		refusal: "not_found"},
	{err: fault.ErrForbidden, http: answer(errForbidden), close: liveedge.Close{Code: liveedge.CloseForbidden, Reason: "forbidden"},
		poll:    answer(&httpError{Status: http.StatusForbidden, Title: "Forbidden", Detail: "You may not view this draft."}),
		refusal: "forbidden"},
	{err: fault.ErrPreconditionRequired, http: answer(&httpError{Status: http.StatusPreconditionRequired,
		Title: "Precondition required", Detail: `Send If-Match with the draft version you saw, e.g. If-Match: "3".`})},
	{err: fault.ErrConflict, http: conflictProblem},
	{err: fault.ErrInvalid, http: invalidProblem,
		close: liveedge.Close{Code: websocket.StatusPolicyViolation, Reason: "invalid subscription"},
		poll:  func(err error) *httpError { return badRequest(err.Error()) }, refusal: "invalid"},
	{err: fault.ErrBlocked, http: blockedProblem},
	{err: live.ErrSlowConsumer, close: liveedge.Close{Code: websocket.StatusTryAgainLater, Reason: "slow consumer: reconnect"}},
	{err: live.ErrRevoked, close: liveedge.Close{Code: websocket.StatusPolicyViolation, Reason: "access revoked"}},
	{err: live.ErrSessionEnded, close: liveedge.Close{Code: liveedge.CloseSignedOut, Reason: "signed out"},
		poll: answer(errUnauthenticated), refusal: "session_ended"},
	{err: liveedge.ErrTooMany, close: liveedge.Close{Code: liveedge.CloseTooMany, Reason: "too many live connections"}, refusal: "too_many"},
}

var goingAway = liveedge.Close{Code: websocket.StatusGoingAway, Reason: "going away"}

// CloseLabels are the values of onboard_live_socket_closes_total's label (docs/live.md,
// Metrics): every close code of faults, 1011 for the rest, dropped and peer. A fixed set.
func CloseLabels() []string {
	labels := []string{liveCloseFor(nil).Label(), liveedge.LabelDropped, liveedge.LabelPeer}
	for _, f := range faults {
		if l := f.close.Label(); (f.close.Drop || f.close.Code != 0) && !slices.Contains(labels, l) {
			labels = append(labels, l)
		}
	}
	return labels
}

// answer is a fault's fixed problem.
func answer(he *httpError) func(error) *httpError { return func(error) *httpError { return he } }

// statusOf maps err to the problem of pages and the API (faults); nil for an internal error.
func statusOf(err error) *httpError {
	var he *httpError
	if errors.As(err, &he) {
		return he
	}
	for _, f := range faults {
		if f.http != nil && errors.Is(err, f.err) {
			return f.http(err)
		}
	}
	return nil
}

// liveCloseFor is how a /live socket ends for why (faults); anything else is 1011.
func liveCloseFor(why error) liveedge.Close {
	for _, f := range faults {
		if (f.close.Drop || f.close.Code != 0) && errors.Is(why, f.err) {
			return f.close
		}
	}
	return liveedge.Close{Code: websocket.StatusInternalError, Reason: "internal error"}
}

// livePollProblem is the /live/poll answer to a refused subscription (faults); anything else
// is 503.
func livePollProblem(err error) *httpError {
	for _, f := range faults {
		if f.poll != nil && errors.Is(err, f.err) {
			return f.poll(err)
		}
	}
	return &httpError{Status: http.StatusServiceUnavailable, Title: "Unavailable", Detail: "Try again shortly."}
}

// refusalReason names why err refused a subscription (faults), one of
// liveedge.RefusalReasons.
func refusalReason(err error) string {
	for _, f := range faults {
		if f.refusal != "" && errors.Is(err, f.err) {
			return f.refusal
		}
	}
	return "error"
}

func conflictProblem(err error) *httpError {
	he := &httpError{Status: http.StatusPreconditionFailed, Title: "Version conflict",
		Detail: "The draft changed since you loaded it; nothing was changed. Reload and apply again.", Extra: map[string]any{}}
	var ce *onboarding.ConflictError
	if errors.As(err, &ce) {
		he.Extra["current_version"] = ce.CurrentVersion
		he.Extra["updated_by"] = nullable(ce.UpdatedBy)
		he.Extra["updated_at"] = ce.UpdatedAt.UTC()
	}
	return he
}

func invalidProblem(err error) *httpError {
	he := &httpError{Status: http.StatusUnprocessableEntity, Title: "Invalid input", Detail: "Some fields are not valid."}
	var ve *onboarding.ValidationError
	if errors.As(err, &ve) {
		he.Extra = map[string]any{"errors": ve.Fields}
	}
	return he
}

func blockedProblem(err error) *httpError {
	he := &httpError{Status: http.StatusConflict, Title: "Blocked", Detail: "The draft is not in a state that allows this."}
	var be *onboarding.BlockedError
	if errors.As(err, &be) {
		he.Detail = "Blocked: " + string(be.Code) + "."
		he.Extra = map[string]any{"reason_code": be.Code, "blocking_reason_code": be.Code}
	}
	return he
}

// nullable returns nil for "", so JSON shows null.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
