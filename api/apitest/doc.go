// Package apitest checks real traffic against the documents of package
// api, for tests: HTTP responses against openapi.yaml with
// libopenapi-validator, WebSocket frames against the JSON Schemas of
// asyncapi.yaml with santhosh-tekuri/jsonschema. It is imported by tests
// only and never by the binary.
//
// Files:
//   - doc.go: this description
//   - frames.go: Frames, the frame schemas of asyncapi.yaml
//   - http.go: OpenAPI, responses against openapi.yaml
//
// The tests of package api check these checkers on the documents' own
// examples and on frames the documents refuse.
package apitest
