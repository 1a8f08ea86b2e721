// Package api is the hub's machine-readable contract, and serves it.
//
// openapi.yaml (OpenAPI 3.1) describes the HTTP API: orders, the feeds'
// handshakes and the operational endpoints. asyncapi.yaml (AsyncAPI 3)
// describes the WebSocket feeds, with a JSON Schema for every frame. Both
// are embedded in the binary and served by every hub at /openapi.yaml and
// /asyncapi.yaml (Handler), so a client generator or a contract test can
// read them from a running node.
//
// Tests in package server check real responses and real frames against
// these documents: a change to the API that is not made here too fails
// them. This package must never import server.
//
// Files:
//   - doc.go: this description
//   - documents.go: the embedded documents and Handler
//   - documents_test.go: each document is valid for its standard, its
//     examples match its schemas, and Handler serves both
//   - openapi.yaml, asyncapi.yaml: the documents
//   - testdata/: the AsyncAPI 3.0.0 JSON Schema the tests check against
//   - apitest/: checkers of real traffic against the documents, for tests
package api
