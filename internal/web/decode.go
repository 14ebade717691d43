package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxJSONBody bounds every JSON request body.
const maxJSONBody = 64 << 10

// decodeJSON reads exactly one JSON object into dst, refusing unknown fields, trailing data,
// wrong content types and bodies over the limit, each with a clear 4xx error.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "application/merge-patch+json") {
		return &httpError{Status: http.StatusUnsupportedMediaType, Title: "Unsupported media type", Detail: "Send application/json."}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var tooBig *http.MaxBytesError
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooBig):
			return &httpError{Status: http.StatusRequestEntityTooLarge, Title: "Request body too large", Detail: fmt.Sprintf("The body must be at most %d bytes.", maxJSONBody)}
		case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
			return badRequest("The body is not valid JSON.")
		case errors.As(err, &typ):
			return badRequest(fmt.Sprintf("Field %q has the wrong type.", typ.Field))
		case errors.Is(err, io.EOF):
			return badRequest("The body is empty; send a JSON object.")
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return badRequest("Unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ") + ".")
		default:
			return badRequest("The body could not be read as JSON.")
		}
	}
	if dec.More() {
		return badRequest("The body must hold a single JSON object.")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("The body must hold a single JSON object.")
	}
	return nil
}
