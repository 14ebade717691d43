package web

import (
	"net/http"
	"strings"
)

// contentSecurityPolicy allows scripts, styles, images, fonts and connections (the /live
// WebSocket included) from the app's own origin only; no inline script or style, no plugins,
// no <base>, no framing. The templates carry no inline code (views tests check it).
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// strictTransportSecurity tells browsers to reach the app over HTTPS only, for a year,
// subdomains included. It is sent only when the app is served over HTTPS (strictTransport).
const strictTransportSecurity = "max-age=31536000; includeSubDomains"

// strictTransport reports whether responses carry Strict-Transport-Security: when session
// cookies are Secure or PUBLIC_URL is https, the app is meant to be reached over HTTPS only.
func (s *Server) strictTransport() bool {
	return s.cfg.SecureCookies || strings.HasPrefix(s.cfg.PublicOrigin, "https://")
}

// secureHeaders sets the browser protections on every response, errors included, and HSTS
// when hsts is set.
func secureHeaders(next http.Handler, hsts bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if hsts {
			h.Set("Strict-Transport-Security", strictTransportSecurity)
		}
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}
