package smtpmail

import (
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, url, from string
		wantErr         string // "" when it must parse
		host            string
	}{
		{"SMTP", "smtp://user:pass@mail.example.com:2525", "a@example.com", "", "mail.example.com"},
		{"SMTPDefaultPort", "smtp://mail.example.com", "Onboarding <a@example.com>", "", "mail.example.com"},
		{"TLSRequired", "smtp://mail.example.com?tls=required", "a@example.com", "", "mail.example.com"},
		{"TLSNone", "smtp://127.0.0.1:25?tls=none", "a@example.com", "", "127.0.0.1"},
		{"SMTPS", "smtps://user:pass@mail.example.com", "a@example.com", "", "mail.example.com"},
		{"BadScheme", "http://user:secret-pass@mail.example.com", "a@example.com", "scheme", ""},
		{"NoHost", "smtp://", "a@example.com", "no host", ""},
		{"BadPort", "smtp://user:secret-pass@mail.example.com:0", "a@example.com", "port", ""},
		{"BadTLS", "smtp://mail.example.com?tls=maybe", "a@example.com", "tls=", ""},
		{"BadFrom", "smtp://mail.example.com", "not an address", "from address", ""},
		{"NotAURL", "smtp://user:secret-pass@mail example.com:%zz", "a@example.com", "not a URL", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := New(tc.url, tc.from)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("New(%q) = %v", tc.url, err)
				}
				if m.host != tc.host {
					t.Errorf("host %q, want %q", m.host, tc.host)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New(%q) = %v, want an error about %s", tc.url, err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "secret-pass") {
				t.Errorf("the error repeats the password: %v", err)
			}
		})
	}
}
