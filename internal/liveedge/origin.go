package liveedge

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// ParsePublicURL checks a PUBLIC_URL: http or https, a host, nothing after it but "/". It
// returns the origin ("https://host:port" with the port only when not the scheme's default).
func ParsePublicURL(s string) (string, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "", errors.New("not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return "", errors.New("want an http or https URL")
	case u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return "", errors.New("want scheme://host[:port] and nothing more")
	}
	o, ok := normalOrigin(u.Scheme, u.Host)
	if !ok {
		return "", errors.New("bad host or port")
	}
	return o, nil
}

// normalOrigin is scheme://host[:port] in lower case, the port left out when it is the
// scheme's default, so that equal origins compare equal as strings.
func normalOrigin(scheme, hostport string) (string, bool) {
	scheme, hostport = strings.ToLower(scheme), strings.ToLower(hostport)
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]"), ""
	}
	if host == "" || strings.ContainsAny(host, "/?#@ ") {
		return "", false
	}
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		return scheme + "://" + net.JoinHostPort(host, port), true
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host, true
}

// sameOrigin reports whether a browser request's Origin is one the app is served at
// (Edge.Origins), by scheme, host and port. No Origin header is a non-browser client,
// which the contract lets through.
func (s *Endpoint) sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.Path != "" {
		return false
	}
	got, ok := normalOrigin(u.Scheme, u.Host)
	return ok && slices.Contains(s.edge.Origins, got)
}
