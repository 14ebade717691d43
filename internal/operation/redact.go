package operation

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Redacted replaces every piece of secret-looking text removed by Redact.
const Redacted = "[redacted]"

// MaxMessageRunes bounds the length of a redacted message.
const MaxMessageRunes = 500

// maxRedactInput bounds, in bytes, how much of a message Redact looks at.
const maxRedactInput = 8 << 10

// secretKey matches names of fields whose values are secrets, in any case.
const secretKey = `(?:password|passwd|pwd|passphrase|secret|token|api[_-]?key|apikey|credentials?|assertion|signature|cookie)`

// quotedValue and bareValue are a secret field's value.
const (
	quotedValue = `\[redacted\]|"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?`
	bareValue   = `[^\s&,;"'<>()\[\]{}]+`
)

// redactRule is one replacement. If group is set, only that submatch is replaced (its
// surrounding quotes, if any, are kept); otherwise the whole match is.
type redactRule struct {
	re    *regexp.Regexp
	group int
}

// Rules run in order: field-shaped rules first, so a value is replaced as a whole before the
// shape-based rules (JWT, long runs) could leave parts of it.
var redactRules = []redactRule{
	// PEM private keys, to the end marker or the end of the text.
	{re: regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----(?s:.*?)(?:-----END [A-Z ]*PRIVATE KEY-----|$)`)},
	// Authorization headers: "Authorization: Bearer x", `"Authorization":"Basic x"`, map[Authorization:[x]].
	{re: regexp.MustCompile(`(?i)\b(?:proxy-)?authorization["']?\s*[:=]\s*(` + quotedValue + `|\[?(?:[A-Za-z]+[ \t]+)?` + bareValue + `)`), group: 1},
	// Bearer tokens anywhere else.
	{re: regexp.MustCompile(`(?i)\bbearer\s+([A-Za-z0-9\-._~+/]{8,}=*)`), group: 1},
	// Quoted keys, JSON style: "client_secret":"x", 'password': 'x', "accessToken": "x".
	{re: regexp.MustCompile(`(?i)["'][A-Za-z0-9_.\-]*` + secretKey + `[A-Za-z0-9_.\-]*["']\s*[:=]\s*(` + quotedValue + `|` + bareValue + `)`), group: 1},
	// key=value, query strings and forms: client_secret=x&token=y, password = "x".
	{re: regexp.MustCompile(`(?i)\b[A-Za-z0-9_.\-]*` + secretKey + `[A-Za-z0-9_\-]*\s*=\s*(` + quotedValue + `|` + bareValue + `)`), group: 1},
	// key: value, only with snake/kebab-case keys so Graph error codes such as
	// "InvalidAuthenticationToken: Access token is empty." keep their message.
	{re: regexp.MustCompile(`(?i)\b(?:[A-Za-z0-9]+[_\-])*` + secretKey + `\s*:\s*(` + quotedValue + `|` + bareValue + `)`), group: 1},
	// Shared access signatures: ?sig=x.
	{re: regexp.MustCompile(`(?i)[?&]sig=(` + bareValue + `)`), group: 1},
	// Credentials in URLs: scheme://user:password@host.
	{re: regexp.MustCompile(`://[^/\s:@]+:([^/\s@]+)@`), group: 1},
	// JWTs (header always starts with eyJ, base64 of `{"`).
	{re: regexp.MustCompile(`\beyJ[A-Za-z0-9_\-]{4,}(?:\.[A-Za-z0-9_\-]*){0,2}`)},
	// Entra ID client secrets: three characters, a digit, "Q~", then 31+ more.
	{re: regexp.MustCompile(`[A-Za-z0-9_.\-]{3}[0-9]Q~[A-Za-z0-9_.~\-]{20,}`)},
}

// longRun is a candidate base64/base64url/hex run; looksSecret decides.
var longRun = regexp.MustCompile(`[A-Za-z0-9+/_~\-]{24,}={0,2}`)

var guid = regexp.MustCompile(`[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}`)

// Redact removes secret-looking content from a provider's error message so that it can be
// stored, logged and shown: authorization headers, bearer tokens, values of password,
// secret, client_secret, token (and similar) fields in query strings, forms and JSON, URL
// passwords, JWTs, Entra client secrets, PEM private keys and long base64- or hex-looking
// runs of at least 24 characters that mix letters and digits (GUIDs such as tenant and
// correlation ids are kept: they are identifiers, not secrets). Each is replaced with
// "[redacted]". Control characters other than newline and tab become spaces, and the result
// is bounded to MaxMessageRunes runes (ending in "…" when cut).
//
// Redaction runs before truncation, so a cut can never expose the start of a secret that
// a later rule would have recognised as a whole.
func Redact(s string) string {
	if len(s) > maxRedactInput {
		// Only the first MaxMessageRunes runes survive anyway; bounding the input bounds the
		// regexp work. Cut at whitespace so no secret is kept as a fragment too short to be
		// recognised.
		s = s[:maxRedactInput]
		if i := strings.LastIndexAny(s, " \t\r\n"); i > 0 {
			s = s[:i]
		}
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	for _, r := range redactRules {
		s = r.apply(s)
	}
	s = longRun.ReplaceAllStringFunc(s, redactLongRun)
	s = strings.Map(func(r rune) rune {
		if r != '\n' && r != '\t' && unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > MaxMessageRunes {
		s = string([]rune(s)[:MaxMessageRunes-1]) + "…"
	}
	return s
}

func (r redactRule) apply(s string) string {
	if r.group == 0 {
		return r.re.ReplaceAllLiteralString(s, Redacted)
	}
	var b strings.Builder
	last := 0
	for _, m := range r.re.FindAllStringSubmatchIndex(s, -1) {
		start, end := m[2*r.group], m[2*r.group+1]
		if start < 0 {
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(requote(s[start:end]))
		last = end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// requote returns Redacted, inside the same quotes as v if v is quoted.
func requote(v string) string {
	if v == Redacted {
		return v
	}
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[:1] + Redacted + v[:1]
	}
	if v[0] == '[' { // Go-formatted header map: map[Authorization:[Bearer x]]
		return "[" + Redacted
	}
	return Redacted
}

// redactLongRun redacts the secret-looking parts of a long run, keeping GUIDs inside it.
func redactLongRun(run string) string {
	locs := guid.FindAllStringIndex(run, -1)
	if len(locs) == 0 {
		if looksSecret(run) {
			return Redacted
		}
		return run
	}
	var b strings.Builder
	last := 0
	for _, l := range locs {
		b.WriteString(redactPiece(run[last:l[0]]))
		b.WriteString(run[l[0]:l[1]])
		last = l[1]
	}
	b.WriteString(redactPiece(run[last:]))
	return b.String()
}

// redactPiece redacts p, keeping the separators that joined it to the GUIDs around it.
func redactPiece(p string) string {
	core := strings.Trim(p, "-_/+~=")
	if len(core) < 24 || !looksSecret(core) {
		return p
	}
	start := strings.Index(p, core)
	return p[:start] + Redacted + p[start+len(core):]
}

// looksSecret reports whether a long run looks random rather than like a word, a path or a
// permission name: it mixes letters and digits and is not a URL path made of words. Pure-letter
// identifiers such as "DeviceManagementConfiguration" and paths such as
// "v1.0/deviceManagement/deviceConfigurations" stay readable.
func looksSecret(run string) bool {
	if parts := strings.Split(run, "/"); len(parts) > 1 {
		path := true
		for _, p := range parts {
			if len(p) >= 8 && strings.ContainsAny(p, "0123456789") {
				path = false
				break
			}
		}
		if path {
			return false
		}
	}
	var letter, digit bool
	for _, r := range run {
		switch {
		case r >= '0' && r <= '9':
			digit = true
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
			letter = true
		}
	}
	return letter && digit
}
