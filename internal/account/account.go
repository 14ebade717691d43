// Package account is what a person does about their own sign-in: their sessions (list, end
// one, end all but this one), their password, and the security record of sign-ins. Security
// events are written to the audit log of every workspace the person is a member of, so each
// workspace's owners see them for their members with the rest of the audit trail; someone who
// is a member of nothing leaves only the log line.
package account

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/onboarding"
)

// Audit actions of security events (subject: the user). Never with a password in them.
const (
	ActionSignedIn        = "security.signed_in"
	ActionSignedOut       = "security.signed_out"
	ActionSignInFailed    = "security.sign_in_failed"
	ActionPasswordChanged = "security.password_changed"
	ActionPasswordRefused = "security.password_change_failed"
	ActionSessionsEnded   = "security.sessions_ended"
	SubjectUser           = "user"
)

// Password rules.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 1024 // bytes, as internal/password accepts
)

// Session is one signed-in session of a user, without its token.
type Session struct {
	ID                             int64
	CreatedAt, LastSeenAt, Expires time.Time
	UserAgent, Address             string
	Current                        bool // the session of the request that asked
}

// Client is where a request came from, as recorded with a session and its security events.
type Client struct {
	UserAgent, Address string
}

// clean bounds what a client sends to what the sessions table keeps.
func (c Client) clean() Client {
	return Client{UserAgent: truncate(c.UserAgent, 512), Address: truncate(c.Address, 64)}
}

func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// Store is what the Service needs from persistence. *postgres.Store implements it.
type Store interface {
	// Sessions lists the user's unexpired sessions, most recently used first; the one whose
	// token is current is marked.
	Sessions(ctx context.Context, userID int64, current string) ([]Session, error)
	// WithAccountTx runs fn in one transaction.
	WithAccountTx(ctx context.Context, fn func(Tx) error) error
}

// Tx is one transaction of the Store.
type Tx interface {
	// LockPasswordHash returns the user's password hash and locks the user's row.
	LockPasswordHash(ctx context.Context, userID int64) (string, error)
	// SetPasswordHash stores a new password hash.
	SetPasswordHash(ctx context.Context, userID int64, hash string) error
	// BindSession records that the session with token belongs to userID, from client.
	BindSession(ctx context.Context, token string, userID int64, c Client, now time.Time) error
	// EndSessions deletes the user's sessions other than the one with token keep; with id
	// non-zero only that session (fault.ErrNotFound when it is not one of them).
	EndSessions(ctx context.Context, userID int64, keep string, id int64) (int64, error)
	// AuditUser writes e to the audit log of every workspace the user is a member of.
	AuditUser(ctx context.Context, userID int64, e onboarding.AuditEntry) error
}

// Service is the account operations. Hash and Verify are the password functions
// (internal/password), injected so this package stays free of them.
type Service struct {
	store  Store
	clock  func() time.Time
	Hash   func(pw string) (string, error)
	Verify func(hash, pw string) (bool, error)
}

// NewService returns a Service over store with the password functions hash and verify.
func NewService(store Store, clock func() time.Time, hash func(string) (string, error), verify func(string, string) (bool, error)) *Service {
	if clock == nil {
		clock = time.Now
	}
	return &Service{store: store, clock: clock, Hash: hash, Verify: verify}
}

// Sessions lists u's sessions; current is the token of the asking request.
func (s *Service) Sessions(ctx context.Context, u access.User, current string) ([]Session, error) {
	return s.store.Sessions(ctx, u.ID, current)
}

func (s *Service) event(ctx context.Context, tx Tx, u access.User, action string, c Client, meta map[string]any, now time.Time) error {
	if meta == nil {
		meta = map[string]any{}
	}
	meta["email"] = u.Email
	c = c.clean()
	if c.Address != "" {
		meta["address"] = c.Address
	}
	if c.UserAgent != "" {
		meta["user_agent"] = c.UserAgent
	}
	return tx.AuditUser(ctx, u.ID, onboarding.AuditEntry{
		ActorID: u.ID, Action: action, SubjectType: SubjectUser, SubjectID: strconv.FormatInt(u.ID, 10), Metadata: meta, At: now,
	})
}

// SignedIn records a successful sign-in: the session with token now belongs to u.
func (s *Service) SignedIn(ctx context.Context, u access.User, token string, c Client) error {
	now := s.clock()
	return s.store.WithAccountTx(ctx, func(tx Tx) error {
		if err := tx.BindSession(ctx, token, u.ID, c.clean(), now); err != nil {
			return err
		}
		return s.event(ctx, tx, u, ActionSignedIn, c, nil, now)
	})
}

// Rebind records that the session with token, given a fresh token after a password change,
// is still u's (no security event: the change itself is one).
func (s *Service) Rebind(ctx context.Context, u access.User, token string, c Client) error {
	return s.store.WithAccountTx(ctx, func(tx Tx) error {
		return tx.BindSession(ctx, token, u.ID, c.clean(), s.clock())
	})
}

// SignInFailed records a refused sign-in of a known account (wrong password). The actor is
// the account that was tried: the owner reading the log wants that person's events together.
func (s *Service) SignInFailed(ctx context.Context, u access.User, c Client) error {
	return s.store.WithAccountTx(ctx, func(tx Tx) error {
		return s.event(ctx, tx, u, ActionSignInFailed, c, nil, s.clock())
	})
}

// SignedOut records that u ended their own session.
func (s *Service) SignedOut(ctx context.Context, u access.User, c Client) error {
	return s.store.WithAccountTx(ctx, func(tx Tx) error {
		return s.event(ctx, tx, u, ActionSignedOut, c, nil, s.clock())
	})
}

// EndSessions ends u's sessions other than the current one (token current): all of them
// when id is 0, else only session id (fault.ErrNotFound when it is not one of u's other
// sessions). It returns how many ended; each one's open streams close through the sessions
// table's delete trigger.
func (s *Service) EndSessions(ctx context.Context, u access.User, current string, id int64, c Client) (int64, error) {
	var n int64
	err := s.store.WithAccountTx(ctx, func(tx Tx) error {
		var err error
		if n, err = tx.EndSessions(ctx, u.ID, current, id); err != nil {
			return err
		}
		meta := map[string]any{"sessions_ended": n}
		if id != 0 {
			meta["session_id"] = id
		}
		return s.event(ctx, tx, u, ActionSessionsEnded, c, meta, s.clock())
	})
	return n, err
}

// PasswordChange is a request to change one's password.
type PasswordChange struct {
	Current, New, Confirm string
}

// CheckPasswordChange applies the rules of a password change that need no stored state: the
// current password given, the new one following newPasswordRule, not the current one, and
// confirmed. Callers check it before counting an attempt, so a mistyped rule never uses up the
// sign-in limit.
func CheckPasswordChange(u access.User, p PasswordChange) error {
	v := &onboarding.ValidationError{}
	if p.Current == "" {
		v.Add("current_password", "is required")
	}
	if msg := newPasswordRule(u.Email, p.New); msg != "" {
		v.Add("new_password", msg)
	} else if p.New == p.Current {
		v.Add("new_password", "must differ from the current password")
	}
	if p.Confirm != p.New {
		v.Add("confirm_password", "does not match the new password")
	}
	return v.Err()
}

// CheckNewPassword applies the rules of a first password (an invitation accepted): the same
// as a changed one's, on the fields new_password and confirm_password.
func CheckNewPassword(email, pw, confirm string) error {
	v := &onboarding.ValidationError{}
	if msg := newPasswordRule(email, pw); msg != "" {
		v.Add("new_password", msg)
	}
	if confirm != pw {
		v.Add("confirm_password", "does not match the password")
	}
	return v.Err()
}

// newPasswordRule is what is wrong with pw as the new password of email ("" when nothing):
// at least MinPasswordLength characters, at most MaxPasswordLength bytes, not blank, not the
// email.
func newPasswordRule(email, pw string) string {
	switch {
	case utf8.RuneCountInString(pw) < MinPasswordLength:
		return "must be at least 12 characters"
	case len(pw) > MaxPasswordLength:
		return "must be at most 1024 bytes"
	case strings.TrimSpace(pw) == "":
		return "must not be only spaces"
	case strings.EqualFold(strings.TrimSpace(pw), email):
		return "must not be your email address"
	}
	return ""
}

// ChangePassword checks the current password and the new one's rules, stores the new hash and
// ends every other session of u, in one transaction. The caller gives the current session a
// fresh token afterwards. Wrong current password or a rule broken → *ValidationError naming
// the field (current_password, new_password, confirm_password).
func (s *Service) ChangePassword(ctx context.Context, u access.User, current string, p PasswordChange, c Client) (int64, error) {
	if err := CheckPasswordChange(u, p); err != nil {
		return 0, err
	}
	// Hash before the transaction: argon2id takes tens of milliseconds and the row lock
	// should not wait for it.
	hash, err := s.Hash(p.New)
	if err != nil {
		return 0, err
	}
	v := &onboarding.ValidationError{}
	var n int64
	wrong := false
	err = s.store.WithAccountTx(ctx, func(tx Tx) error {
		old, err := tx.LockPasswordHash(ctx, u.ID)
		if err != nil {
			return err
		}
		if ok, err := s.Verify(old, p.Current); err != nil || !ok {
			// A wrong current password is a security event (someone holding a session may be
			// guessing): recorded, the change itself not made.
			if err := s.event(ctx, tx, u, ActionPasswordRefused, c, nil, s.clock()); err != nil {
				return err
			}
			wrong = true
			return nil
		}
		if err := tx.SetPasswordHash(ctx, u.ID, hash); err != nil {
			return err
		}
		if n, err = tx.EndSessions(ctx, u.ID, current, 0); err != nil {
			return err
		}
		return s.event(ctx, tx, u, ActionPasswordChanged, c, map[string]any{"sessions_ended": n}, s.clock())
	})
	if err == nil && wrong {
		v.Add("current_password", "is not your current password")
		return 0, v.Err()
	}
	return n, err
}
