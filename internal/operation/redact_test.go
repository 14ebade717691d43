package operation

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	const (
		jwt      = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
		entra    = "Abc8Q~xYz.12_abcdefGHIJKLmnopqrstuVWXyz0-9"
		tenantID = "0f9c2d6e-3b1a-4c5d-8e7f-a1b2c3d4e5f6"
	)
	tests := []struct {
		name   string
		in     string
		want   string   // exact result, if set
		gone   []string // must not appear
		remain []string // must still appear
	}{
		{name: "Plain", in: "Tenant not found.", want: "Tenant not found."},
		{name: "Empty", in: "", want: ""},
		{name: "QueryString", in: "POST /token?client_id=abc&client_secret=s3cr3t-Value&grant_type=client_credentials",
			want: "POST /token?client_id=abc&client_secret=[redacted]&grant_type=client_credentials"},
		{name: "FormPassword", in: "login failed: username=bob password=hunter2 retry", want: "login failed: username=bob password=[redacted] retry"},
		{name: "SecretEquals", in: "secret=abc token=def", want: "secret=[redacted] token=[redacted]"},
		{name: "QuotedEquals", in: `password="pa ss word" user=x`, want: `password="[redacted]" user=x`},
		{name: "JSONClientSecret", in: `{"client_id":"abc","client_secret":"topsecretvalue"}`, want: `{"client_id":"abc","client_secret":"[redacted]"}`},
		{name: "JSONSpacedAndEscaped", in: `{"access_token" : "a\"b c", "n": 1}`, want: `{"access_token" : "[redacted]", "n": 1}`},
		{name: "JSONCamelCase", in: `{"clientSecret": "zzz", "refreshToken": "yyy"}`, want: `{"clientSecret": "[redacted]", "refreshToken": "[redacted]"}`},
		{name: "JSONNumber", in: `{"token": 123456}`, want: `{"token": [redacted]}`},
		{name: "JSONTruncated", in: `{"client_secret":"abcdef`, gone: []string{"abcdef"}},
		{name: "AuthorizationHeader", in: "request failed\nAuthorization: Bearer abc.def.ghi\nHost: graph.microsoft.com",
			want: "request failed\nAuthorization: [redacted]\nHost: graph.microsoft.com"},
		{name: "AuthorizationBasic", in: "authorization: Basic dXNlcjpwYXNz", want: "authorization: [redacted]"},
		{name: "AuthorizationJSON", in: `headers: {"Authorization":"Bearer xyz"}`, want: `headers: {"Authorization":"[redacted]"}`},
		{name: "AuthorizationGoMap", in: "map[Authorization:[Bearer xyzxyzxyz] Accept:[json]]", want: "map[Authorization:[[redacted]] Accept:[json]]"},
		{name: "ProxyAuthorization", in: "Proxy-Authorization: Basic Zm9vOmJhcg==", want: "Proxy-Authorization: [redacted]"},
		{name: "BareBearer", in: "sent bearer abcdefgh12345678 to graph", want: "sent bearer [redacted] to graph"},
		{name: "JWT", in: "token rejected: " + jwt + " (expired)", want: "token rejected: [redacted] (expired)"},
		{name: "JWTAsAssertion", in: "client_assertion=" + jwt, want: "client_assertion=[redacted]"},
		{name: "EntraSecret", in: "invalid secret " + entra + " provided", want: "invalid secret [redacted] provided"},
		{name: "Base64Run", in: "key dGhpcyBpcyBhIHNlY3JldCBrZXkgMTIzNDU2Nzg5MA== end", want: "key [redacted] end"},
		{name: "HexRun", in: "sig 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 ok", want: "sig [redacted] ok"},
		{name: "ShortRunKept", in: "code AADSTS700016 for app 12ab", want: "code AADSTS700016 for app 12ab"},
		{name: "GUIDKept", in: "Tenant " + tenantID + " Trace ID: " + tenantID, want: "Tenant " + tenantID + " Trace ID: " + tenantID},
		{name: "GUIDInsideRunKept", in: "x-" + tenantID + "-9f86d081884c7d659a2feaa0c55ad015",
			want: "x-" + tenantID + "-[redacted]"},
		{name: "PermissionNameKept", in: "Missing DeviceManagementConfiguration.ReadWrite.All and DeviceManagementManagedDevicesReadAll",
			want: "Missing DeviceManagementConfiguration.ReadWrite.All and DeviceManagementManagedDevicesReadAll"},
		{name: "GraphErrorCodeKept", in: "InvalidAuthenticationToken: Access token is empty.", want: "InvalidAuthenticationToken: Access token is empty."},
		{name: "URLKept", in: "see https://learn.microsoft.com/en-us/graph/permissions-reference#directoryreadall",
			want: "see https://learn.microsoft.com/en-us/graph/permissions-reference#directoryreadall"},
		{name: "GraphURLKept", in: `Get "https://graph.microsoft.com/v1.0/deviceManagement/deviceConfigurations?$top=999": context deadline exceeded`,
			want: `Get "https://graph.microsoft.com/v1.0/deviceManagement/deviceConfigurations?$top=999": context deadline exceeded`},
		{name: "Base64WithSlashes", in: "key q8Zr4/kP2mX9vLw3+Tn7Yb5/Hc1dGf6Js0A== end", want: "key [redacted] end"},
		{name: "EntraErrorKept", in: `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Trace ID: 0f9c2d6e-3b1a-4c5d-8e7f-a1b2c3d4e5f6","error_codes":[7000215]}`,
			want: `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Trace ID: 0f9c2d6e-3b1a-4c5d-8e7f-a1b2c3d4e5f6","error_codes":[7000215]}`},
		{name: "URLPassword", in: "dial postgres://app:hunter2@db:5432/x failed", want: "dial postgres://app:[redacted]@db:5432/x failed"},
		{name: "SASSignature", in: "GET https://x.blob.core.windows.net/c?sv=2022&sig=abcDEF%2Bghi failed", want: "GET https://x.blob.core.windows.net/c?sv=2022&sig=[redacted] failed"},
		{name: "SnakeColon", in: "client_secret: abc, next", want: "client_secret: [redacted], next"},
		{name: "PrivateKey", in: "bad key -----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY----- done",
			want: "bad key [redacted] done"},
		{name: "PrivateKeyUnterminated", in: "bad key -----BEGIN PRIVATE KEY-----\nMIIEow", want: "bad key [redacted]"},
		{name: "ControlCharacters", in: "a\x00b\x1bc\td\ne", want: "a b c\td\ne"},
		{name: "InvalidUTF8", in: "a\xffb", want: "a\uFFFDb"},
		{name: "Idempotent", in: "client_secret=[redacted]", want: "client_secret=[redacted]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Redact(tt.in)
			if tt.want != "" || tt.in == "" {
				if got != tt.want {
					t.Errorf("Redact(%q)\n got %q\nwant %q", tt.in, got, tt.want)
				}
			}
			for _, g := range tt.gone {
				if strings.Contains(got, g) {
					t.Errorf("Redact(%q) = %q, still contains %q", tt.in, got, g)
				}
			}
			if again := Redact(got); again != got {
				t.Errorf("Redact is not idempotent: Redact(%q) = %q", got, again)
			}
		})
	}
}

func TestRedactLength(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want int // runes
	}{
		{"Short", "hello", 5},
		{"Exactly", strings.Repeat("é", MaxMessageRunes), MaxMessageRunes},
		{"Long", strings.Repeat("ab ", 1000), MaxMessageRunes},
		{"LongMultibyte", strings.Repeat("日本 ", 1000), MaxMessageRunes},
		{"HugeWithoutSpaces", strings.Repeat("日", 1<<20), MaxMessageRunes},
		{"HugeJSON", strings.Repeat(`{"token":"a b"},`, 1<<16), MaxMessageRunes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Redact(tt.in)
			if n := utf8.RuneCountInString(got); n != tt.want {
				t.Errorf("Redact(len %d) has %d runes, want %d", len(tt.in), n, tt.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("Redact returned invalid UTF-8")
			}
		})
	}
}

// TestRedactBeforeTruncate: a secret straddling the cut is redacted whole, never half shown.
func TestRedactBeforeTruncate(t *testing.T) {
	t.Parallel()
	secret := "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	in := strings.Repeat("x ", (MaxMessageRunes-10)/2) + secret
	got := Redact(in)
	if strings.Contains(got, secret[:8]) {
		t.Errorf("Redact leaked the start of a secret at the cut: %q", got[len(got)-30:])
	}
}

// FuzzRedact: whatever the input, the result is bounded, valid UTF-8 and hides a planted secret.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{"", "client_secret=", `{"token":"`, "Authorization:", "eyJ", "-----BEGIN PRIVATE KEY-----", strings.Repeat("a1", 400)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		const planted = "client_secret=Zx9Q~plantedSecretValue0123456789"
		got := Redact(s + " " + planted)
		if n := utf8.RuneCountInString(got); n > MaxMessageRunes {
			t.Errorf("Redact returned %d runes, want at most %d", n, MaxMessageRunes)
		}
		if !utf8.ValidString(got) {
			t.Errorf("Redact returned invalid UTF-8: %q", got)
		}
		if strings.Contains(got, "plantedSecretValue") {
			t.Errorf("Redact(%q) = %q, leaks the planted secret", s, got)
		}
	})
}
