package web

import (
	"net/http"

	"github.com/tenantops/onboard/internal/web/apidoc"
)

// handleOpenAPI is GET /api/v1/openapi.yaml.
func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(apidoc.OpenAPI)
}
