package web

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/tenantops/onboard/static"
)

// staticFiles serves the embedded CSS, scripts and vendored libraries. They change only with
// a new binary, so browsers may cache them briefly and revalidate. Files only: a directory is
// the same 404 as a missing file, never a listing.
func (s *Server) staticFiles() http.Handler {
	files := http.FileServerFS(static.FS)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		if st, err := fs.Stat(static.FS, name); err != nil || st.IsDir() {
			s.error(w, r, errNotFound)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(w, r)
	})
}
