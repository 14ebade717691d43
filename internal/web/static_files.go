package web

import (
	"net/http"

	"github.com/tenantops/onboard/static"
)

// staticFiles serves the embedded CSS, scripts and vendored libraries. They change only with
// a new binary, so browsers may cache them briefly and revalidate.
func staticFiles() http.Handler {
	fs := http.FileServerFS(static.FS)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		fs.ServeHTTP(w, r)
	})
}
