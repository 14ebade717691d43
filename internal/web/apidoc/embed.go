// Package apidoc embeds the OpenAPI 3.1 document served at /api/v1/openapi.yaml.
package apidoc

import _ "embed"

// OpenAPI is the document's bytes.
//
//go:embed openapi.yaml
var OpenAPI []byte
