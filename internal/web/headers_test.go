package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestFinishHeader: every 429 and 503 says when to retry (the handler's figure, else a
// second), and no header line is sent twice.
func TestFinishHeader(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		code  int
		given http.Header
		want  http.Header
	}{
		{"503Default", 503, http.Header{}, http.Header{"Retry-After": {"1"}}},
		{"429Default", 429, http.Header{}, http.Header{"Retry-After": {"1"}}},
		{"429Given", 429, http.Header{"Retry-After": {"42"}}, http.Header{"Retry-After": {"42"}}},
		{"200None", 200, http.Header{}, http.Header{}},
		{"CacheControlNoStore", 200, http.Header{"Cache-Control": {"no-store", `no-cache="Set-Cookie"`}},
			http.Header{"Cache-Control": {"no-store"}}},
		{"CacheControlNoCache", 200, http.Header{"Cache-Control": {"no-cache", `no-cache="Set-Cookie"`}},
			http.Header{"Cache-Control": {"no-cache"}}},
		{"CacheControlJoined", 200, http.Header{"Cache-Control": {"private", `no-cache="Set-Cookie"`}},
			http.Header{"Cache-Control": {`private, no-cache="Set-Cookie"`}}},
		{"VaryRepeated", 404, http.Header{"Vary": {"Cookie", "Cookie"}}, http.Header{"Vary": {"Cookie"}}},
		{"SameCookieOnce", 200, http.Header{"Set-Cookie": {"a=1", "a=1", "b=2"}}, http.Header{"Set-Cookie": {"a=1", "b=2"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			for k, v := range tc.given {
				rec.Header()[k] = v
			}
			sr := &statusRecorder{ResponseWriter: rec}
			sr.WriteHeader(tc.code)
			got := rec.Result().Header
			if len(got) != len(tc.want) {
				t.Fatalf("header = %q, want %q", got, tc.want)
			}
			for k, v := range tc.want {
				if g := got[k]; len(g) != len(v) || (len(v) > 0 && g[0] != v[0]) || (len(v) > 1 && g[1] != v[1]) {
					t.Errorf("%s = %q, want %q", k, g, v)
				}
			}
		})
	}
}

// TestStrictTransport: HSTS when the app is served over HTTPS: Secure cookies or an https
// public origin.
func TestStrictTransport(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  Config
		want bool
	}{
		{Config{}, false},
		{Config{PublicOrigin: "http://127.0.0.1:8080"}, false},
		{Config{SecureCookies: true}, true},
		{Config{PublicOrigin: "https://onboard.example.com"}, true},
	} {
		if got := (&Server{cfg: tc.cfg}).strictTransport(); got != tc.want {
			t.Errorf("%+v: strictTransport = %v, want %v", tc.cfg, got, tc.want)
		}
	}
}
