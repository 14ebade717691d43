package postgres

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tenantops/onboard/internal/onboarding"
)

// The kinds of LiveEvent: what changed, as the triggers name it.
const (
	LiveKindDraft        = "draft"        // the draft row changed
	LiveKindRun          = "run"          // one of the draft's operation runs changed
	LiveKindMembership   = "membership"   // a workspace membership changed (UserID, WorkspaceID)
	LiveKindSession      = "session"      // a sign-in session ended (Session)
	LiveKindNotification = "notification" // a user's notification (bell) changed (UserID, WorkspaceID)
	LiveKindAudit        = "audit"        // an entry was added to a workspace's audit log (WorkspaceID)
)

// LiveEvent is one decoded notification of the live channel: what changed, by ids. The
// wiring hands it to the live hub; this package does not know the hub's types.
type LiveEvent struct {
	Kind        string // one of the LiveKind constants
	DraftID     string // draft and run events
	WorkspaceID int64
	UserID      int64  // membership and notification events
	Session     string // session events: the SHA-256 (hex) of the ended session's stored token
	Version     int64  // draft events
	Rev         int64  // draft and run events
	At          time.Time
}

// livePayload is the JSON the triggers of migrations/00003_live_triggers.sql and
// 00007_live_session_end.sql send:
//
//	{"k":"draft","d":id,"w":ws,"v":version,"r":rev}
//	{"k":"run","d":draft,"w":ws,"run":id,"r":rev}
//	{"k":"membership","w":ws,"u":user}
//	{"k":"session","s":sha256 hex of the deleted session's stored token}
//	{"k":"notification","w":ws,"u":user} (00011_live_notifications.sql)
//	{"k":"audit","w":ws} (00017_live_audit.sql)
type livePayload struct {
	K   string `json:"k"`
	D   string `json:"d"`
	W   int64  `json:"w"`
	V   int64  `json:"v"`
	R   int64  `json:"r"`
	Run string `json:"run"`
	U   int64  `json:"u"`
	S   string `json:"s"`
}

// ParseLiveEvent decodes one notification payload strictly: unknown fields, trailing data,
// a missing or malformed field for the kind, or a field another kind carries are errors.
// LiveEvent.At is left zero for the caller to stamp.
func ParseLiveEvent(payload string) (LiveEvent, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(payload)))
	dec.DisallowUnknownFields()
	var p livePayload
	if err := dec.Decode(&p); err != nil {
		return LiveEvent{}, fmt.Errorf("decode payload: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return LiveEvent{}, errors.New("decode payload: trailing data")
	}
	bad := func(why string) (LiveEvent, error) {
		return LiveEvent{}, fmt.Errorf("%s payload: %s", p.K, why)
	}
	if p.K == LiveKindSession {
		switch {
		case !isSHA256Hex(p.S):
			return bad("bad session digest")
		case p.W != 0 || p.D != "" || p.Run != "" || p.V != 0 || p.R != 0 || p.U != 0:
			return bad("unexpected field")
		}
		return LiveEvent{Kind: p.K, Session: p.S}, nil
	}
	if p.W <= 0 {
		return bad("no workspace")
	}
	if p.S != "" {
		return bad("unexpected field")
	}
	switch p.K {
	case LiveKindDraft:
		switch {
		case !isCanonicalUUID(p.D):
			return bad("bad draft id")
		case p.V <= 0 || p.R <= 0:
			return bad("no version or rev")
		case p.Run != "" || p.U != 0:
			return bad("unexpected field")
		}
		return LiveEvent{Kind: p.K, DraftID: p.D, WorkspaceID: p.W, Version: p.V, Rev: p.R}, nil
	case LiveKindRun:
		switch {
		case !isCanonicalUUID(p.D):
			return bad("bad draft id")
		case !isCanonicalUUID(p.Run):
			return bad("bad run id")
		case p.R <= 0:
			return bad("no rev")
		case p.V != 0 || p.U != 0:
			return bad("unexpected field")
		}
		return LiveEvent{Kind: p.K, DraftID: p.D, WorkspaceID: p.W, Rev: p.R}, nil
	case LiveKindAudit:
		if p.D != "" || p.Run != "" || p.V != 0 || p.R != 0 || p.U != 0 {
			return bad("unexpected field")
		}
		return LiveEvent{Kind: p.K, WorkspaceID: p.W}, nil
	case LiveKindMembership, LiveKindNotification:
		// Both name a (workspace, user) and nothing else.
		switch {
		case p.U <= 0:
			return bad("no user")
		case p.D != "" || p.Run != "" || p.V != 0 || p.R != 0:
			return bad("unexpected field")
		}
		return LiveEvent{Kind: p.K, WorkspaceID: p.W, UserID: p.U}, nil
	}
	return LiveEvent{}, fmt.Errorf("unknown kind %q", p.K)
}

// isSHA256Hex reports whether s is 64 lower-case hex digits.
func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return false
		}
	}
	return true
}

// isCanonicalUUID reports whether s is a UUID in PostgreSQL's canonical text form (lower-case
// hex), the form the hub keys drafts by.
func isCanonicalUUID(s string) bool { return onboarding.IsGUID(s) && s == strings.ToLower(s) }
