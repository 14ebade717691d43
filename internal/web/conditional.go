package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/fault"
)

// This file is the API's conditional requests: a draft's version as its ETag, If-Match
// for writes (428 without, 412 when stale) and If-None-Match for reads (304).

func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// ifMatch reads the expected version from If-Match ("3", W/"3" or 3). present is false
// when the header is absent.
func ifMatch(r *http.Request) (version int64, present bool, err error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" {
		return 0, false, nil
	}
	v := strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
	n, perr := strconv.ParseInt(v, 10, 64)
	if perr != nil || n < 1 {
		return 0, true, badRequest(`If-Match must be the draft version as an ETag, e.g. "3".`)
	}
	return n, true, nil
}

// expected resolves If-Match for a write on draft id needing capability c, keeping the
// precedence 404 → 403 → 428/412: without If-Match, existence and the capability are checked
// before the 428.
func (s *Server) expected(r *http.Request, m access.Member, id string, c access.Capability) (int64, error) {
	v, present, err := ifMatch(r)
	if err != nil {
		return 0, err
	}
	if present {
		return v, nil
	}
	if _, err := s.deps.Service.Get(r.Context(), m, id); err != nil {
		return 0, err
	}
	if !m.Can(c) {
		return 0, errForbidden
	}
	return 0, fault.ErrPreconditionRequired
}

// etagMatches reports whether an If-None-Match list names tag (weak comparison).
func etagMatches(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == tag || t == "*" {
			return true
		}
	}
	return false
}
