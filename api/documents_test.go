package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/taxi-hub/taxi/api"
	"github.com/taxi-hub/taxi/api/apitest"
)

// TestOpenAPIIsValid: openapi.yaml is a valid OpenAPI 3.1 document
// (LoadOpenAPI fails the test otherwise).
func TestOpenAPIIsValid(t *testing.T) {
	apitest.LoadOpenAPI(t)
	if !strings.HasPrefix(string(api.OpenAPI), "openapi: 3.1.") {
		t.Fatal("openapi.yaml does not declare OpenAPI 3.1")
	}
}

// TestAsyncAPIIsValid checks asyncapi.yaml against the AsyncAPI 3.0.0
// schema, and every message example against its message's payload schema.
func TestAsyncAPIIsValid(t *testing.T) {
	f, err := os.Open("testdata/asyncapi-3.0.0.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	spec, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	const specURL = "http://asyncapi.com/definitions/3.0.0/asyncapi.json"
	if err := c.AddResource(specURL, spec); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile(specURL)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := apitest.AsyncAPIDocument()
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(doc); err != nil {
		t.Fatalf("asyncapi.yaml is not a valid AsyncAPI 3.0.0 document: %v", err)
	}

	frames := apitest.LoadFrames(t)
	messages := doc.(map[string]any)["components"].(map[string]any)["messages"].(map[string]any)
	if len(messages) < 12 {
		t.Fatalf("%d messages", len(messages))
	}
	for name, m := range messages {
		m := m.(map[string]any)
		ref := m["payload"].(map[string]any)["$ref"].(string)
		schemaName := strings.TrimPrefix(ref, "#/components/schemas/")
		examples, _ := m["examples"].([]any)
		if len(examples) == 0 {
			t.Errorf("message %s has no example", name)
		}
		for _, ex := range examples {
			raw, _ := json.Marshal(ex.(map[string]any)["payload"])
			frames.Check(t, schemaName, raw)
			feed := "DriverFrame"
			switch name {
			case "view_order", "unview_order", "accept_order", "location":
				feed = "ClientFrame"
			case "order_viewers", "rider_orders", "driver_location":
				feed = "RiderFrame"
			}
			frames.Check(t, feed, raw)
		}
	}
}

// TestFramesRefuseWhatIsNotDocumented: the frame checker is not a rubber
// stamp.
func TestFramesRefuseWhatIsNotDocumented(t *testing.T) {
	frames := apitest.LoadFrames(t)
	for _, tt := range []struct{ schema, frame string }{
		{"DriverFrame", `{"type":"new_order","message":{"order_id":"o1"}}`},
		{"DriverFrame", `{"type":"order_accepted","message":{"order_id":"o1","driver_id":"d1","user_id":"u1","extra":1}}`},
		{"DriverFrame", `{"type":"order_viewers","message":{"order_id":"o1","user_id":"u1","count":1}}`},
		{"DriverFrame", `{"type":"error","message":{"code":"teapot","reason":"x"}}`},
		{"RiderFrame", `{"type":"new_order","message":{}}`},
		{"ClientFrame", `{"type":"view_order","message":{"order_id":7}}`},
		{"ClientFrame", `{"type":"fly","message":{"order_id":"o1"}}`},
		{"ClientFrame", `{"type":"location","message":{"lat":52.5}}`},
		{"ClientFrame", `{"type":"location","message":{"lat":52.5,"lng":13.4,"heading":360}}`},
		{"DriverFrame", `{"type":"driver_location","message":{"order_id":"o1","driver_id":"d1","user_id":"u1","lat":1,"lng":2,"updated_at":"2026-01-01T00:00:00Z"}}`},
	} {
		if err := frames.Validate(tt.schema, []byte(tt.frame)); err == nil {
			t.Errorf("%s accepted %s", tt.schema, tt.frame)
		}
	}
}

func TestHandlerServesTheDocuments(t *testing.T) {
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	for path, want := range map[string][]byte{"/openapi.yaml": api.OpenAPI, "/asyncapi.yaml": api.AsyncAPI} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, want) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/yaml") {
			t.Errorf("GET %s: %d %s, %d bytes, %v", path, resp.StatusCode, resp.Header.Get("Content-Type"), len(got), err)
		}
	}
}
