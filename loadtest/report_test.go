package loadtest

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestJSONFieldsDocumented keeps docs/bench.md in step with the report: every
// JSON field of Report (except the options, named like the flags, and the
// hub's own stats documents, described in docs/api.md) must be named there.
func TestJSONFieldsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/bench.md")
	if err != nil {
		t.Fatal(err)
	}
	skip := map[reflect.Type]bool{reflect.TypeFor[Options](): true, reflect.TypeFor[HubStats](): true}
	var walk func(reflect.Type, string)
	walk = func(typ reflect.Type, path string) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || skip[typ] || typ.PkgPath() != reflect.TypeFor[Report]().PkgPath() {
			return
		}
		for f := range typ.Fields() {
			if f.Anonymous {
				walk(f.Type, path)
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			if !bytes.Contains(doc, []byte(name)) {
				t.Errorf("JSON field %s%s is not described in docs/bench.md", path, name)
			}
			walk(f.Type, path+name+".")
		}
	}
	walk(reflect.TypeFor[Report](), "")
}

func TestReportJSONAndSecret(t *testing.T) {
	hub := newFakeHub(t, nil)
	o := quick(hub.URL())
	o.AuthSecret = "do-not-print-this-secret-anywhere"
	o.Drivers, o.Duration = 5, 200*time.Millisecond
	r := runBench(t, t.Context(), o)
	var out bytes.Buffer
	if err := JSONReporter(r)(&out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), o.AuthSecret) {
		t.Fatal("the JSON report contains the auth secret")
	}
	var m map[string]any
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"scenario", "deliveries", "claims", "server", "bench_cpu", "errors", "file_limits"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON report lacks %q", k)
		}
	}
	if got := m["options"].(map[string]any)["auth_secret"]; got != "(set)" {
		t.Errorf("options.auth_secret = %v, want (set)", got)
	}
	var md bytes.Buffer
	if err := MarkdownReporter(r)(&md); err != nil || !strings.Contains(md.String(), "| delivery latency |") {
		t.Errorf("markdown report: %v\n%s", err, md.String())
	}
}
