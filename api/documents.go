package api

import (
	_ "embed"
	"net/http"
)

// The documents, as in the repository.
var (
	//go:embed openapi.yaml
	OpenAPI []byte
	//go:embed asyncapi.yaml
	AsyncAPI []byte
)

// yamlType is the media type of YAML (RFC 9512).
const yamlType = "application/yaml; charset=utf-8"

// Handler serves GET /openapi.yaml and GET /asyncapi.yaml. Any other path is
// a 404.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /openapi.yaml", serve(OpenAPI))
	mux.Handle("GET /asyncapi.yaml", serve(AsyncAPI))
	return mux
}

func serve(doc []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", yamlType)
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(doc)
	})
}
