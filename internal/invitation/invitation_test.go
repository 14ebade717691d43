package invitation

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestState(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	base := Invitation{CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour)}
	accepted, revoked, expired, edge := base, base, base, base
	accepted.AcceptedAt = now
	revoked.RevokedAt = now
	expired.ExpiresAt = now.Add(-time.Second)
	edge.ExpiresAt = now
	for _, tc := range []struct {
		name string
		inv  Invitation
		want string
	}{
		{"Pending", base, StatePending},
		{"Accepted", accepted, StateAccepted},
		{"Revoked", revoked, StateRevoked},
		{"Expired", expired, StateExpired},
		{"ExpiresNow", edge, StateExpired},
	} {
		if got := tc.inv.State(now); got != tc.want {
			t.Errorf("%s: State = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestToken(t *testing.T) {
	t.Parallel()
	a, err := newToken()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := newToken()
	if a == b || len(a) != 43 || !validToken(a) {
		t.Fatalf("tokens %q, %q: want two different valid 43-character tokens", a, b)
	}
	if h := TokenHash(a); len(h) != 32 || bytes.Contains(h, []byte(a)) {
		t.Fatalf("digest of %q: %x", a, h)
	}
	for _, bad := range []string{"", "short", strings.Repeat("A", 42), strings.Repeat("A", 44), strings.Repeat("+", 43), "{token}"} {
		if validToken(bad) {
			t.Errorf("validToken(%q) = true", bad)
		}
	}
}

func TestMessage(t *testing.T) {
	t.Parallel()
	inv := Invitation{WorkspaceName: "Acme Corp", Email: "new@example.test", Role: "viewer", InvitedBy: "owner@acme.test",
		ExpiresAt: time.Date(2026, 12, 13, 8, 0, 0, 0, time.UTC)}
	subject, body := message(inv, "https://onboard.example.com/admin/invitations/x")
	if !strings.Contains(subject, "Acme Corp") {
		t.Errorf("subject %q does not name the workspace", subject)
	}
	for _, want := range []string{"owner@acme.test", "as viewer", "https://onboard.example.com/admin/invitations/x", "2026-12-13 08:00 UTC", "once"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
}
