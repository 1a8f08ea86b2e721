package deploy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/taxi-hub/taxi/internal/hubtest"
	"sigs.k8s.io/yaml"
)

// TestAlertRules runs promtool on the alerting rules and their unit tests.
func TestAlertRules(t *testing.T) {
	t.Parallel()
	promtool := requireTool(t, "promtool", true)
	for _, args := range [][]string{
		{"check", "rules", "alerts.yaml"},
		{"test", "rules", "alerts_test.yaml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "prometheus"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// dashboard is the part of a Grafana dashboard the tests read.
type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID      int    `json:"id"`
	Type    string `json:"type"`
	Title   string `json:"title"`
	GridPos struct {
		X, Y, W, H int
	} `json:"gridPos"`
	Targets []struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	} `json:"targets"`
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	var d dashboard
	if err := json.Unmarshal(mustRead(t, filepath.Join("grafana", "taxi.json")), &d); err != nil {
		t.Fatalf("grafana/taxi.json: %v", err)
	}
	return d
}

// grafanaVars stand for the dashboard's variables when its queries are
// checked as plain PromQL.
var grafanaVars = strings.NewReplacer("$__rate_interval", "1m", "$__interval", "1m", "$job", "taxi", "$instance", ".*")

// dashboardExprs returns every query of the dashboard, variables replaced,
// keyed by where it is.
func dashboardExprs(t *testing.T, d dashboard) map[string]string {
	t.Helper()
	exprs := map[string]string{}
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			exprs[fmt.Sprintf("panel %d %q query %s", p.ID, p.Title, tg.RefID)] = grafanaVars.Replace(tg.Expr)
		}
	}
	for _, v := range d.Templating.List {
		if v.Definition != "" {
			exprs["variable "+v.Name] = grafanaVars.Replace(v.Definition)
		}
	}
	return exprs
}

// TestDashboard checks the dashboard's layout and that every panel query is
// valid PromQL: promtool checks them as recording rules.
func TestDashboard(t *testing.T) {
	t.Parallel()
	d := loadDashboard(t)
	if d.UID == "" || d.Title == "" || len(d.Panels) == 0 {
		t.Fatalf("dashboard uid %q, title %q, %d panels", d.UID, d.Title, len(d.Panels))
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d is used twice", p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.W <= 0 || p.GridPos.X+p.GridPos.W > 24 || p.GridPos.H <= 0 {
			t.Errorf("panel %d %q: gridPos %+v outside the 24 columns", p.ID, p.Title, p.GridPos)
		}
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %d %q has no query", p.ID, p.Title)
		}
	}

	promtool := requireTool(t, "promtool", true)
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			q, _ := json.Marshal(grafanaVars.Replace(tg.Expr))
			fmt.Fprintf(&rules, "      - record: dashboard:panel_%d_%s\n        expr: %s\n", p.ID, tg.RefID, q)
		}
	}
	file := filepath.Join(t.TempDir(), "dashboard-queries.yaml")
	if err := os.WriteFile(file, []byte(rules.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", file).CombinedOutput(); err != nil {
		t.Errorf("the dashboard's queries are not valid PromQL: %v\n%s", err, out)
	}
}

// ruleExprs returns the expression of every alerting rule, keyed by alert.
func ruleExprs(t *testing.T) map[string]string {
	t.Helper()
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert string `json:"alert"`
				Expr  string `json:"expr"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := yaml.Unmarshal(mustRead(t, filepath.Join("prometheus", "alerts.yaml")), &f); err != nil {
		t.Fatalf("prometheus/alerts.yaml: %v", err)
	}
	exprs := map[string]string{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			exprs["alert "+r.Alert] = r.Expr
		}
	}
	if len(exprs) < 5 {
		t.Fatalf("prometheus/alerts.yaml has %d alerts", len(exprs))
	}
	return exprs
}

// scrapeHub starts a hub in memory mode, served as taxi serve serves it,
// makes it create and accept an order (latency histograms have series only
// after a first observation), and returns its /metrics.
func scrapeHub(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	hub := hubtest.Start(t, hubtest.NodeID("deploy-test"))
	order := hub.CreateOrder(t, "u1")
	hub.Call(t, http.MethodPost, "/orders/"+order.OrderID+"/accept", "", `{"driver_id":"d1"}`, http.StatusOK)
	hub.Call(t, http.MethodPost, "/orders/"+order.OrderID+"/accept", "", `{"driver_id":"d2"}`, http.StatusConflict)

	resp, err := http.Get(hub.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return families
}

// selector matches a metric name with its label matchers, if any.
var (
	selector = regexp.MustCompile(`\b((?:taxi|go|process)_[a-z_]+|up)\b(\{[^}]*\})?`)
	matcher  = regexp.MustCompile(`([a-z_]+)\s*(=~|!=|!~|=)\s*"([^"]*)"`)
)

// scrapeLabels are added by Prometheus when it scrapes, not by the hub.
var scrapeLabels = map[string]bool{"job": true, "instance": true}

// TestMetricsExported checks that every metric the dashboard and the alert
// rules name is exported by a running hub, with the label names they
// match on and, for counters and gauges (whose series all exist from the
// start), the label values they match.
func TestMetricsExported(t *testing.T) {
	t.Parallel()
	families := scrapeHub(t)
	if f := families["taxi_build_info"]; f == nil || f.Metric[0].GetGauge().GetValue() != 1 {
		t.Fatalf("taxi_build_info is missing or not 1: %v", f)
	}
	exprs := ruleExprs(t)
	for k, v := range dashboardExprs(t, loadDashboard(t)) {
		exprs[k] = v
	}
	for where, expr := range exprs {
		found := selector.FindAllStringSubmatch(expr, -1)
		if len(found) == 0 {
			t.Errorf("%s names no metric: %s", where, expr)
		}
		for _, m := range found {
			name, matchers := m[1], m[2]
			if name == "up" {
				continue // Prometheus' own, one per target
			}
			f := family(families, name)
			if f == nil {
				t.Errorf("%s: the hub does not export %s", where, name)
				continue
			}
			for _, mm := range matcher.FindAllStringSubmatch(matchers, -1) {
				label, op, value := mm[1], mm[2], mm[3]
				if scrapeLabels[label] {
					continue
				}
				values := labelValues(f, label)
				if values == nil {
					t.Errorf("%s: %s has no label %q", where, name, label)
					continue
				}
				if f.GetType() == dto.MetricType_HISTOGRAM || op == "!=" || op == "!~" {
					continue
				}
				for _, v := range strings.Split(value, "|") {
					if !slices.Contains(values, v) {
						t.Errorf("%s: %s has no series with %s=%q (it has %v)", where, name, label, v, values)
					}
				}
			}
		}
	}
}

// family finds a metric family by a name a query uses, which for a
// histogram may carry the _bucket, _sum or _count suffix.
func family(families map[string]*dto.MetricFamily, name string) *dto.MetricFamily {
	if f := families[name]; f != nil {
		return f
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if f := families[base]; f != nil && f.GetType() == dto.MetricType_HISTOGRAM {
				return f
			}
		}
	}
	return nil
}

// labelValues lists the values label takes in f, or nil when f has no
// such label (a histogram's le counts as one).
func labelValues(f *dto.MetricFamily, label string) []string {
	if label == "le" && f.GetType() == dto.MetricType_HISTOGRAM {
		return []string{}
	}
	var values []string
	for _, m := range f.Metric {
		for _, l := range m.Label {
			if l.GetName() == label && !slices.Contains(values, l.GetValue()) {
				values = append(values, l.GetValue())
			}
		}
	}
	return values
}
