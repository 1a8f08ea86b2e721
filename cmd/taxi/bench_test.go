package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/taxi-hub/taxi/loadtest"
	"github.com/taxi-hub/taxi/server"
)

// parseBench runs the bench command's flag parsing only.
func parseBench(t *testing.T, args ...string) (*benchOptions, error) {
	t.Helper()
	var got *benchOptions
	cmd := newBenchCmdWith(func(_ context.Context, o *benchOptions) error {
		got = o
		return nil
	})
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	err := cmd.Execute()
	return got, err
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
	if l.Scenario != loadtest.Accept || strings.Join(l.Targets, " ") != "http://a:1 http://b:2" || l.Drivers != 7 ||
		l.Users != -1 || l.Rate != 3 || l.Racers != 2 || l.RaceVia != "ws" || l.Duration != 2*time.Second ||
		l.WarmUp != 0 || l.Procs != 2 {
		t.Errorf("options %+v", l)
	}
	if o.slo != "p99<1ms" || o.jsonPath != "r.json" || !o.quiet || o.sourceIPs != "127.0.0.1-127.0.0.3" {
		t.Errorf("command options %+v", o)
	}
}

func TestBenchDefaults(t *testing.T) {
	t.Setenv("TAXI_AUTH_SECRET", "")
	o, err := parseBench(t)
	if err != nil {
		t.Fatal(err)
	}
	if o.lib.Scenario != "" || len(o.lib.Targets) != 1 || o.lib.Targets[0] != "http://127.0.0.1:8080" ||
		o.lib.Drivers != 200 || o.lib.Rate != 50 || o.lib.AuthSecret != "" {
		t.Errorf("defaults %+v", o.lib)
	}
}

func TestBenchSecretFromEnv(t *testing.T) {
	t.Setenv("TAXI_AUTH_SECRET", "from-the-environment")
	o, err := parseBench(t)
	if err != nil || o.lib.AuthSecret != "from-the-environment" {
		t.Fatalf("secret %q, err %v", o.lib.AuthSecret, err)
	}
}

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if err != nil {
		return 1
	}
	return 0
}

func TestBenchUsageErrors(t *testing.T) {
	t.Setenv("TAXI_AUTH_SECRET", "")
	for _, args := range [][]string{
		{"sprint"}, // unknown scenario
		{"--insecure", "--auth-secret", "s3cr3t"}, // contradiction
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
	} {
		cmd := newBenchCmd()
		cmd.SetArgs(args)
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		if err := cmd.Execute(); exitCode(err) != 2 {
			t.Errorf("bench %v: exit %d (%v), want 2", args, exitCode(err), err)
		}
	}
}

// startHub serves a real in-memory hub on a loopback port.
func startHub(t *testing.T) string {
	t.Helper()
	srv, err := server.New(server.Config{NodeID: "n1", Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
		ts.Close()
		cancel()
	})
	return ts.URL
}

func TestBenchAgainstHub(t *testing.T) {
	t.Setenv("TAXI_AUTH_SECRET", "")
	url := startHub(t)
	dir := t.TempDir()
	jsonPath, mdPath := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.md")
	args := []string{"--target", url, "--drivers", "10", "--users", "2", "--rate", "20",
		"--duration", "500ms", "--warm-up", "100ms", "--quiet", "--json", jsonPath, "--markdown", mdPath}

	var out, errOut bytes.Buffer
	cmd := newBenchCmd()
	cmd.SetArgs(append(args, "--slo", "p99<5s,loss=0"))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	if err := cmd.ExecuteContext(t.Context()); err != nil {
		t.Fatalf("bench: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	for _, want := range []string{"claim", "delivery latency", "p99<5s", "passed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(errOut.String(), "run ") {
		t.Errorf("no plain progress lines on stderr:\n%s", errOut.String())
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
	cmd = newBenchCmd()
	cmd.SetArgs(append(args, "--slo", "throughput>1000000000"))
	out.Reset()
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	err = cmd.ExecuteContext(t.Context())
	if exitCode(err) != 1 || !strings.Contains(out.String(), "BREACHED") {
		t.Errorf("breached SLO: exit %d (%v), want 1 and BREACHED in:\n%s", exitCode(err), err, out.String())
	}
}
