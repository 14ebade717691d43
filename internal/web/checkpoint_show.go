package web

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/a-h/templ"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/views"
)

// handleCheckpointShow is GET …/onboarding/{id}/checkpoint: the poll fallback. It returns the
// checkpoint fragment alone for the member's cohort, tagged by rev and cohort, so a poll that
// finds nothing new costs a 304 without a body.
func (s *Server) handleCheckpointShow(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	sn, step, err := s.stepSnapshot(r, m)
	if err != nil {
		s.error(w, r, err)
		return
	}
	cd := sn.checkpointFor(m, step)
	tag := access.Cohort(m.Role)
	if step > 0 {
		tag += "-s" + strconv.Itoa(step)
	}
	s.writeFragment(w, r, fragmentTag(cd.Rev, tag), views.Checkpoint(cd))
}

// fragmentTag is a strong ETag naming what a fragment was rendered from: the rev (which
// moves with every change of the draft and its runs) and the cohort (which decides what the
// fragment offers).
func fragmentTag(rev int64, cohort string) string {
	return `"r` + strconv.FormatInt(rev, 10) + "-" + cohort + `"`
}

// writeFragment answers a poll: 304 when If-None-Match names tag, else the fragment.
func (s *Server) writeFragment(w http.ResponseWriter, r *http.Request, tag string, c templ.Component) {
	w.Header().Set("ETag", tag)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Vary", "Cookie")
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	var buf bytes.Buffer
	if err := c.Render(r.Context(), &buf); err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}
