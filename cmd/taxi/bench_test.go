package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/taxi-hub/taxi/internal/hubtest"
	"github.com/taxi-hub/taxi/loadtest"
)

// parseBench runs the bench command's flag parsing only.
func parseBench(t *testing.T, args ...string) (*benchOptions, error) {
	t.Helper()
	var got *benchOptions
	ios, _, _ := testIO("")
	cmd := newCmdBench(ios, func(_ context.Context, o *benchOptions) error {
		got = o
		return nil
	})
	cmd.SetArgs(args)
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	err := cmd.Execute()
	return got, err
}

// execBench runs taxi bench args as the binary would, and returns its exit
// status, stdout and stderr.
func execBench(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ios, out, errOut := testIO("")
	code := run(t.Context(), ios, append([]string{"bench"}, args...))
	return code, out.String(), errOut.String()
}

func TestBenchFlags(t *testing.T) {
	t.Setenv("TAXI_AUTH_SECRET", "")
	o, err := parseBench(t, "accept", "--target", "http://a:1", "--target", "http://b:2", "--drivers", "7",
		"--users", "-1", "--rate", "3", "--racers", "2", "--race-via", "ws", "--duration", "2s", "--warm-up", "0",
		"--slo", "p99<1ms", "--json", "r.json", "--quiet", "--procs", "2", "--source-ips", "127.0.0.1-127.0.0.3")
	if err != nil {
		t.Fatal(err)
	}
	l := o.lib
	// --warm-up 0 skips the warm-up, which loadtest spells as negative.
	if l.Scenario != loadtest.Accept || strings.Join(l.Targets, " ") != "http://a:1 http://b:2" || l.Drivers != 7 ||
		l.Users != -1 || l.Rate != 3 || l.Racers != 2 || l.RaceVia != "ws" || l.Duration != 2*time.Second ||
		l.WarmUp >= 0 || l.Procs != 2 {
		t.Errorf("options %+v", l)
	}
	if o.slo != "p99<1ms" || o.jsonPath != "r.json" || !o.quiet || o.sourceIPs != "127.0.0.1-127.0.0.3" {
		t.Errorf("command options %+v", o)
	}
	if l.Reconnect != nil {
		t.Errorf("reconnect %v without --reconnect, want the scenario's default (nil)", *l.Reconnect)
	}
	for _, tt := range []struct {
		arg  string
		want bool
	}{{"--reconnect", true}, {"--reconnect=false", false}} {
		o, err := parseBench(t, "accept", tt.arg)
		if err != nil || o.lib.Reconnect == nil || *o.lib.Reconnect != tt.want {
			t.Errorf("%s: reconnect %v, err %v; want %t", tt.arg, o.lib.Reconnect, err, tt.want)
		}
	}
}

func TestBenchDefaults(t *testing.T) {
	t.Setenv("TAXI_AUTH_SECRET", "")
	o, err := parseBench(t)
	if err != nil {
		t.Fatal(err)
	}
	// A zero rate, orders or duration is the scenario's default.
	if o.lib.Scenario != "" || len(o.lib.Targets) != 1 || o.lib.Targets[0] != "http://127.0.0.1:8080" ||
		o.lib.Drivers != 200 || o.lib.Rate != 0 || o.lib.Orders != 0 || o.lib.AuthSecret != "" || o.lib.WarmUp != loadtest.DefaultWarmUp {
		t.Errorf("defaults %+v", o.lib)
	}
}

func TestBenchStormFlags(t *testing.T) {
	t.Setenv("TAXI_AUTH_SECRET", "")
	o, err := parseBench(t, "storm", "--drivers", "16000", "--orders", "3000", "--procs", "4")
	if err != nil {
		t.Fatal(err)
	}
	if l := o.lib; l.Scenario != loadtest.Storm || l.Drivers != 16000 || l.Orders != 3000 || l.Procs != 4 {
		t.Errorf("options %+v", l)
	}
	// --orders belongs to the storm.
	if code, _, errOut := execBench(t, "--orders", "10"); code != 2 || !strings.Contains(errOut, "only the storm scenario") {
		t.Errorf("fanout --orders 10: exit %d\n%s", code, errOut)
	}
}

func TestBenchSecretFromEnv(t *testing.T) {
	t.Setenv("TAXI_AUTH_SECRET", "from-the-environment")
	o, err := parseBench(t)
	if err != nil || o.lib.AuthSecret != "from-the-environment" {
		t.Fatalf("secret %q, err %v", o.lib.AuthSecret, err)
	}
}

func TestBenchUsageErrors(t *testing.T) {
	t.Setenv("TAXI_AUTH_SECRET", "")
	for _, args := range [][]string{
		{"sprint"}, // unknown scenario
		{"--insecure", "--auth-secret", "s3cr3t-of-sixteen-bytes"}, // contradiction
	} {
		if _, err := parseBench(t, args...); exitCode(err) != 2 {
			t.Errorf("bench %v: exit %d (%v), want 2", args, exitCode(err), err)
		}
	}
	// These pass flag parsing and fail in benchRun before any connection.
	for _, args := range [][]string{
		{"--slo", "p99<<1ms"},
		{"--slo", "latency<1ms"},
		{"--source-ips", "127.0.0.9-127.0.0.1"},
		{"--drivers", "-5"},
		{"--target", "ftp://example"},
		{"--race-via", "pigeon"},
		{"--auth-secret", "too-short"},
		{"--json", "-", "--markdown", "-"},
	} {
		if code, _, errOut := execBench(t, args...); code != 2 {
			t.Errorf("bench %v: exit %d (%s), want 2", args, code, errOut)
		}
	}
}

func TestBenchAgainstHub(t *testing.T) {
	t.Setenv("TAXI_AUTH_SECRET", "")
	url := hubtest.Start(t).URL
	dir := t.TempDir()
	jsonPath, mdPath := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.md")
	args := []string{"--target", url, "--drivers", "10", "--users", "2", "--rate", "20",
		"--duration", "500ms", "--warm-up", "100ms", "--quiet"}

	code, out, errOut := execBench(t, append(args, "--json", jsonPath, "--markdown", mdPath, "--slo", "p99<5s,loss=0")...)
	if code != 0 {
		t.Fatalf("bench: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"claim", "delivery latency", "p99<5s", "passed"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "run ") {
		t.Errorf("no plain progress lines on stderr:\n%s", errOut)
	}
	var r loadtest.Report
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if r.Deliveries.Expected != 10*10 || r.Deliveries.Received != r.Deliveries.Expected {
		t.Errorf("deliveries %+v, want 100 of 100", r.Deliveries)
	}
	if md, err := os.ReadFile(mdPath); err != nil || !strings.Contains(string(md), "| claim |") {
		t.Errorf("markdown report: %v\n%s", err, md)
	}

	// A breached threshold exits 1.
	code, out, _ = execBench(t, append(args, "--slo", "throughput>1000000000")...)
	if code != 1 || !strings.Contains(out, "BREACHED") {
		t.Errorf("breached SLO: exit %d, want 1 and BREACHED in:\n%s", code, out)
	}
}

// --json - writes the report to stdout, which then carries nothing else;
// --warm-up 0 runs no warm-up at all.
func TestBenchJSONToStdout(t *testing.T) {
	t.Setenv("TAXI_AUTH_SECRET", "")
	url := hubtest.Start(t).URL
	code, out, errOut := execBench(t, "--target", url, "--drivers", "5", "--users", "1", "--rate", "20",
		"--duration", "300ms", "--warm-up", "0", "--quiet", "--json", "-")
	if code != 0 {
		t.Fatalf("bench --json -: exit %d\n%s", code, errOut)
	}
	var r loadtest.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("stdout is not one JSON report: %v\n%s", err, out)
	}
	if _, err := os.Stat("-"); err == nil {
		t.Error("--json - wrote a file named -")
	}
	if !strings.Contains(errOut, "claim") {
		t.Errorf("the summary should move to stderr:\n%s", errOut)
	}
	if r.Options.WarmUp != 0 || r.Orders.Warm != 0 || r.Deliveries.Warm != 0 || r.Deliveries.Received == 0 {
		t.Errorf("--warm-up 0: warm-up %v, %d warm orders, %d warm and %d measured deliveries",
			r.Options.WarmUp, r.Orders.Warm, r.Deliveries.Warm, r.Deliveries.Received)
	}
}

// A run against a hub that is not running fails, with or without --slo.
func TestBenchFailsWhenTheRunFails(t *testing.T) {
	t.Setenv("TAXI_AUTH_SECRET", "")
	dead := "http://" + hubtest.DeadAddr(t)
	for _, slo := range []string{"", "p99<1h"} {
		args := []string{"--target", dead, "--drivers", "5", "--users", "1", "--rate", "10",
			"--duration", "300ms", "--warm-up", "0", "--drain", "100ms", "--timeout", "2s", "--quiet"}
		if slo != "" {
			args = append(args, "--slo", slo)
		}
		code, out, errOut := execBench(t, args...)
		if code != 1 {
			t.Fatalf("bench against nothing (slo %q): exit %d, want 1\n%s\n%s", slo, code, out, errOut)
		}
		for _, want := range []string{"taxi: the run failed: no connection held: 0 of 6 opened", "every order failed"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("stderr lacks %q:\n%s", want, errOut)
			}
		}
	}
}

func TestBenchStormAgainstHub(t *testing.T) {
	t.Setenv("TAXI_AUTH_SECRET", "")
	url := hubtest.Start(t).URL
	code, out, errOut := execBench(t, "storm", "--target", url, "--drivers", "30", "--orders", "40", "--quiet")
	if code != 0 {
		t.Fatalf("bench storm: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"30 drivers at once onto 40 open orders", "30 of 30 drivers greeted with the 40 open orders", "all greeted", "greetings"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}
