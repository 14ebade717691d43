package web

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// The fuzz targets of the HTTP edge. `go test` runs their seeds; `go test -fuzz FuzzX
// ./internal/web/` explores further (docs/reliability.md). Each checks that bad input is a
// clean 4xx or a refusal, never a panic, and that what is accepted is well-formed.

const fuzzGUID = "0b7e4c2a-5d0c-4a8e-9f1e-2c3d4e5f6a7b"

// FuzzDecodeJSON: every API request body type, any body and content type.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []struct{ ct, body string }{
		{"application/json", `{"tenant_id":"` + fuzzGUID + `","display_name":"A","primary_domain":"a.test"}`},
		{"application/json", `{"display_name":"B","provider_connection":{"client_id":"` + fuzzGUID + `","client_secret":"s"},"current_step":3}`},
		{"application/json", `{"operations":["inventory_sync","policy_sync"]}`},
		{"application/json", `{"override_reason":"why"}`},
		{"application/json", `{"email":"a@b.test","password":"x"}`},
		{"application/merge-patch+json", `{}`},
		{"", `{"display_name":null}`},
		{"text/plain", `{}`},
		{"application/json", `{} {}`},
		{"application/json", `{"unknown":1}`},
		{"application/json", `{"current_step":"3"}`},
		{"application/json", `[`},
		{"application/json", ``},
		{"application/json", "{\"display_name\":\"\xff\x00\"}"},
		{"application/json", strings.Repeat("[", 10000)},
		{"application/json", `{"display_name":"` + strings.Repeat("x", maxJSONBody) + `"}`},
	} {
		f.Add(s.ct, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		for _, dst := range []func() any{
			func() any { return &createDraftRequest{} },
			func() any { return &patchDraftRequest{} },
			func() any { return &bootstrapRequest{} },
			func() any { return &activationRequest{} },
			func() any { return &sessionRequest{} },
		} {
			r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			r.Header.Set("Content-Type", ct)
			err := decodeJSON(httptest.NewRecorder(), r, dst())
			if err == nil {
				continue
			}
			var he *httpError
			if !errors.As(err, &he) || he.Status < 400 || he.Status >= 500 {
				t.Fatalf("decodeJSON(%q, %q) = %v, want nil or a 4xx", ct, body, err)
			}
		}
	})
}

// FuzzFormDecode: a wizard or login form body as the browser posts it; the step field and
// the sign-in "next" redirect target that are read from it.
func FuzzFormDecode(f *testing.F) {
	for _, s := range []string{
		"version=3&step=2&display_name=A&primary_domain=a.test",
		"version=1&step=5&confirm=yes",
		"version=1&operations=inventory_sync&operations=policy_sync",
		"version=1&override_reason=because",
		"email=a%40b.test&password=x&next=%2Fadmin%2Fworkspaces%2Facme%2Fonboarding",
		"next=%2F%2Fevil.example",
		"next=https%3A%2F%2Fevil.example",
		"next=%2F%5Cevil.example",
		"next=/%09/evil.example",
		"step=0", "step=6", "step=-1", "step=99999999999999999999", "step=%20",
		"version=%FF%00&step=%", "a=b;c=d", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if err := r.ParseForm(); err != nil {
			return // answered 400 by the handlers
		}
		f := wizardForm{values: r.PostForm}
		// The range (1–5) is the service's to check (422); here only the number is read.
		if _, ok, err := f.step(); err != nil {
			var he *httpError
			if ok || !errors.As(err, &he) || he.Status != http.StatusBadRequest {
				t.Fatalf("step from %q: %v, want a 400", body, err)
			}
		}
		next := safeNext(r.PostForm.Get("next"))
		u, err := url.Parse(next)
		if err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(next, "/") ||
			strings.HasPrefix(next, "//") || strings.Contains(next, `\`) {
			t.Fatalf("safeNext(%q) = %q: not a path of this site", r.PostForm.Get("next"), next)
		}
	})
}

// FuzzIfMatch: If-Match and If-None-Match headers against the ETags the API sends.
func FuzzIfMatch(f *testing.F) {
	for _, s := range []string{`"3"`, `W/"3"`, `3`, `"0"`, `"-1"`, `""`, `"3", "4"`, `*`, `"9223372036854775807"`,
		`"9223372036854775808"`, `W/`, "\"\x00\"", `  "12"  `, `"1e3"`} {
		f.Add(s, int64(3))
	}
	f.Fuzz(func(t *testing.T, header string, version int64) {
		r := httptest.NewRequest(http.MethodPatch, "/", nil)
		r.Header.Set("If-Match", header)
		v, present, err := ifMatch(r)
		switch {
		case err != nil:
			var he *httpError
			if !errors.As(err, &he) || he.Status != http.StatusBadRequest {
				t.Fatalf("ifMatch(%q) error %v, want a 400", header, err)
			}
		case present && v < 1:
			t.Fatalf("ifMatch(%q) = %d: versions start at 1", header, v)
		case present:
			// What was accepted names the ETag of that version.
			r.Header.Set("If-Match", etag(v))
			if v2, _, err := ifMatch(r); err != nil || v2 != v {
				t.Fatalf("round trip of %d: %d, %v", v, v2, err)
			}
		}
		if version >= 1 && !etagMatches(etag(version)+", "+header, etag(version)) {
			t.Fatalf("If-None-Match listing %s does not match it", etag(version))
		}
		_ = etagMatches(header, etag(version))
	})
}

// FuzzPathParams: what validParams lets through is a slug or a GUID, and nothing PostgreSQL
// refuses as text (invalid UTF-8, NUL) or the slug CHECK would not hold.
func FuzzPathParams(f *testing.F) {
	for _, s := range []string{"acme", "globex", "a", "a-b-9", "-a", "A", "\xff", "a\x00b", "é",
		strings.Repeat("a", 63), strings.Repeat("a", 64), fuzzGUID, strings.ToUpper(fuzzGUID), fuzzGUID + "\x00", "{" + fuzzGUID + "}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, key := range []string{"ws", "id", "run_id"} {
			if !validParam(key, v) {
				continue
			}
			if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
				t.Fatalf("%s %q accepted: PostgreSQL refuses it as text", key, v)
			}
			if key == "ws" && (len(v) > 63 || v != strings.ToLower(v) || strings.HasPrefix(v, "-")) {
				t.Fatalf("slug %q accepted outside the grammar", v)
			}
			if key != "ws" && len(v) != 36 {
				t.Fatalf("id %q accepted: not a GUID", v)
			}
		}
	})
}
