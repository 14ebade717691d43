package account

import (
	"errors"
	"strings"
	"testing"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/onboarding"
)

func TestCheckPasswordChange(t *testing.T) {
	t.Parallel()
	u := access.User{ID: 1, Email: "owner@acme.test"}
	for _, tc := range []struct {
		name  string
		p     PasswordChange
		field string // "" = accepted
	}{
		{"OK", PasswordChange{"old-password-1", "a-new-password-2", "a-new-password-2"}, ""},
		{"OKUnicode", PasswordChange{"old-password-1", "pässwörd-ünïcødé", "pässwörd-ünïcødé"}, ""},
		{"NoCurrent", PasswordChange{"", "a-new-password-2", "a-new-password-2"}, "current_password"},
		{"Short", PasswordChange{"old-password-1", "short-pw", "short-pw"}, "new_password"},
		{"Blank", PasswordChange{"old-password-1", strings.Repeat(" ", 14), strings.Repeat(" ", 14)}, "new_password"},
		{"Email", PasswordChange{"old-password-1", "Owner@Acme.test", "Owner@Acme.test"}, "new_password"},
		{"Same", PasswordChange{"old-password-12", "old-password-12", "old-password-12"}, "new_password"},
		{"TooLong", PasswordChange{"old-password-1", strings.Repeat("x", MaxPasswordLength+1), strings.Repeat("x", MaxPasswordLength+1)}, "new_password"},
		{"Mismatch", PasswordChange{"old-password-1", "a-new-password-2", "a-new-password-3"}, "confirm_password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := CheckPasswordChange(u, tc.p)
			var ve *onboarding.ValidationError
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("got %v, want accepted", err)
			case tc.field != "" && (!errors.As(err, &ve) || ve.Fields[tc.field] == ""):
				t.Fatalf("got %v, want a message for %s", err, tc.field)
			}
		})
	}
}

func TestClientClean(t *testing.T) {
	t.Parallel()
	c := Client{UserAgent: strings.Repeat("é", 400) + "\xff", Address: strings.Repeat("1", 100)}.clean()
	if len(c.UserAgent) > 512 || len(c.Address) > 64 || !strings.HasPrefix(c.UserAgent, "é") || strings.ContainsRune(c.UserAgent, '\uFFFD') {
		t.Errorf("clean = %d bytes of user agent, %d of address; want at most 512 and 64, valid UTF-8", len(c.UserAgent), len(c.Address))
	}
}
