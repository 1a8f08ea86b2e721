package apitest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/taxi-hub/taxi/api"
)

// OpenAPI validates HTTP responses against openapi.yaml: the status must be
// documented for the operation, and the body must match its schema.
type OpenAPI struct {
	v validator.Validator
}

// LoadOpenAPI reads openapi.yaml and fails t when it is not a valid
// OpenAPI 3.1 document.
func LoadOpenAPI(t testing.TB) *OpenAPI {
	t.Helper()
	doc, err := libopenapi.NewDocument(api.OpenAPI)
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("openapi.yaml: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("openapi.yaml: %s: %s", e.Message, e.Reason)
		}
		t.FailNow()
	}
	return &OpenAPI{v: v}
}

// Validate checks a response to req whose body was read into body.
func (o *OpenAPI) Validate(req *http.Request, resp *http.Response, body []byte) error {
	cp := *resp
	cp.Body = io.NopCloser(bytes.NewReader(body))
	// Match the route by path alone, whatever host the test hub listens on.
	r := req.Clone(req.Context())
	r.Body = http.NoBody
	if ok, errs := o.v.ValidateHttpResponse(r, &cp); !ok {
		var msgs []string
		for _, e := range errs {
			msg := e.Message + ": " + e.Reason
			for _, se := range e.SchemaValidationErrors {
				msg += " [" + se.FieldPath + ": " + se.Reason + "]"
			}
			msgs = append(msgs, msg)
		}
		return fmt.Errorf("%s %s -> %d %s: %s", req.Method, req.URL.RequestURI(), resp.StatusCode, body, strings.Join(msgs, "; "))
	}
	return nil
}

// Check fails t when the response does not match the document.
func (o *OpenAPI) Check(t testing.TB, req *http.Request, resp *http.Response, body []byte) {
	t.Helper()
	if err := o.Validate(req, resp, body); err != nil {
		t.Error(err)
	}
}
