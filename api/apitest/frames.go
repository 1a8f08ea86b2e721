package apitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"

	"github.com/taxi-hub/taxi/api"
)

// asyncAPIURL is where the compiler finds asyncapi.yaml (as JSON); nothing
// is fetched from it.
const asyncAPIURL = "file:///api/asyncapi.json"

// Frames validates frames against the schemas of asyncapi.yaml, by schema
// name under components/schemas: DriverFrame, RiderFrame and ClientFrame
// take any frame of their feed or direction.
type Frames struct {
	compiler *jsonschema.Compiler
	mu       sync.Mutex
	schemas  map[string]*jsonschema.Schema
}

// AsyncAPIDocument returns asyncapi.yaml decoded from JSON, as schema
// validators take it.
func AsyncAPIDocument() (any, error) {
	return yamlDocument(api.AsyncAPI)
}

func yamlDocument(doc []byte) (any, error) {
	raw, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, fmt.Errorf("yaml to json: %w", err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("decode json: %w", err)
	}
	return v, nil
}

// LoadFrames reads asyncapi.yaml. Its schemas are AsyncAPI schemas, a
// superset of JSON Schema draft 07, and are compiled as draft 07 with
// formats asserted.
func LoadFrames(t testing.TB) *Frames {
	t.Helper()
	doc, err := AsyncAPIDocument()
	if err != nil {
		t.Fatalf("asyncapi.yaml: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.AssertFormat()
	if err := c.AddResource(asyncAPIURL, doc); err != nil {
		t.Fatalf("asyncapi.yaml: %v", err)
	}
	return &Frames{compiler: c, schemas: make(map[string]*jsonschema.Schema)}
}

// Schema compiles (once) the schema name of components/schemas.
func (f *Frames) Schema(name string) (*jsonschema.Schema, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.schemas[name]; ok {
		return s, nil
	}
	s, err := f.compiler.Compile(asyncAPIURL + "#/components/schemas/" + name)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	f.schemas[name] = s
	return s, nil
}

// Validate checks one frame, as raw JSON, against the schema name.
func (f *Frames) Validate(name string, frame []byte) error {
	s, err := f.Schema(name)
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(frame))
	if err != nil {
		return fmt.Errorf("frame %s is not JSON: %w", frame, err)
	}
	if err := s.Validate(v); err != nil {
		return fmt.Errorf("frame %s does not match %s: %w", frame, name, err)
	}
	return nil
}

// Check fails t when frame does not match the schema name.
func (f *Frames) Check(t testing.TB, name string, frame []byte) {
	t.Helper()
	if err := f.Validate(name, frame); err != nil {
		t.Error(err)
	}
}

// CheckValue is Check for a frame given as a Go value, marshalled first.
func (f *Frames) CheckValue(t testing.TB, name string, frame any) {
	t.Helper()
	raw, err := json.Marshal(frame)
	if err != nil {
		t.Fatal(err)
	}
	f.Check(t, name, raw)
}
