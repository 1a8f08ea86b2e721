package main

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// docNoise are the parts of taxi lock's output that change from run to run,
// and what both the docs and the real output become for comparison.
var docNoise = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`), "<time>"},
	{regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`), "<time>"},
	{regexp.MustCompile(`\(\w+ ago\)`), "(<ago>)"},
	{regexp.MustCompile(`\d{13}-\d+`), "<id>"},
	{regexp.MustCompile(`alice@\S+`), "alice@<host>"},
	{regexp.MustCompile(`"host":"[^"]*"`), `"host":"<host>"`},
	{regexp.MustCompile(`"ttl_ms":\d+`), `"ttl_ms":<ms>`},
	{regexp.MustCompile(`\b\d+(\.\d+)?s\b`), "<ttl>"},
}

func denoise(s string) string {
	for _, n := range docNoise {
		s = n.re.ReplaceAllString(s, n.with)
	}
	return s
}

// TestLockDocsQuoteRealOutput runs taxi lock on the situation docs/lock.md
// describes and checks that every output the document quotes is what the
// commands print, so that the two cannot drift apart.
func TestLockDocsQuoteRealOutput(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../docs/lock.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	srv, rdb := startLockRedis(t)
	ctx := context.Background()
	var real strings.Builder
	record := func(io lockTestIO, err error) {
		t.Helper()
		if exitCode(err) > 1 {
			t.Fatalf("taxi lock: %v", err)
		}
		real.WriteString(io.out.String() + "\n" + io.errOut.String() + "\n")
	}
	common := func(input string, interactive bool) lockTestIO { return newLockTestIO(srv.URL(), input, interactive) }

	// An accept in progress, then the stuck lock of the runbook.
	rdb.Set(ctx, "order_lock:8121", "driver-7", 3200*time.Millisecond)
	rdb.HSet(ctx, "order:8121", "order_id", "8121", "user_id", "rider-3", "status", "open", "driver_id", "",
		"pickup_lat", "52.52", "pickup_lng", "13.4", "dropoff_lat", "52.5", "dropoff_lng", "13.3",
		"created_at", "2026-11-25T21:50:00Z")
	rdb.SAdd(ctx, "order_viewers:8121", "driver-7", "driver-2")
	io := common("", false)
	record(io, lockShowRun(ctx, &lockShowOptions{lockCommon: io.lockCommon, OrderID: "8121"}))
	rdb.Set(ctx, "order_lock:8121", "driver-7", 0)
	rdb.Set(ctx, "order_lock:8122", "driver-8", 4600*time.Millisecond)

	io = common("", false)
	record(io, lockListRun(ctx, &lockListOptions{lockCommon: io.lockCommon}))
	io = common("", false)
	record(io, lockListRun(ctx, &lockListOptions{lockCommon: io.lockCommon, JSON: true}))
	io = common("", false)
	record(io, lockShowRun(ctx, &lockShowOptions{lockCommon: io.lockCommon, OrderID: "8121"}))
	io = common("", false)
	record(io, lockShowRun(ctx, &lockShowOptions{lockCommon: io.lockCommon, OrderID: "8121", JSON: true}))
	io = common("", false)
	record(io, lockClearRun(ctx, &lockClearOptions{lockCommon: io.lockCommon, OrderID: "8121", DryRun: true}))
	io = common("y\n", true)
	record(io, lockClearRun(ctx, &lockClearOptions{lockCommon: io.lockCommon, OrderID: "8121", Actor: "alice"}))
	rdb.Set(ctx, "order_lock:8121", "driver-7", 0)
	io = common("", false)
	record(io, lockClearRun(ctx, &lockClearOptions{lockCommon: io.lockCommon, OrderID: "8121", Yes: true, JSON: true, Actor: "alice"}))
	for _, asJSON := range []bool{false, true} {
		io = common("", false)
		record(io, lockAuditRun(ctx, &lockAuditOptions{lockCommon: io.lockCommon, N: 5, JSON: asJSON}))
	}
	out := denoise(real.String())
	lines := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		lines[strings.TrimRight(l, " ")] = true
	}

	// Every output block of the command reference, line by line.
	commands := doc[strings.Index(doc, "## Commands"):strings.Index(doc, "## The audit stream")]
	blocks := 0
	for _, l := range strings.Split(commands, "\n") {
		if !strings.HasPrefix(l, "    ") || strings.HasPrefix(strings.TrimSpace(l), "taxi ") {
			continue
		}
		blocks++
		if want := denoise(strings.TrimPrefix(l, "    ")); !lines[want] {
			t.Errorf("docs/lock.md quotes a line taxi lock does not print:\n  %s", want)
		}
	}
	// Every sentence quoted about driver-7's lock, in the reference and the
	// runbook.
	spans := regexp.MustCompile("`([^`\n]*held by driver-7[^`\n]*)`").FindAllStringSubmatch(doc, -1)
	for _, m := range spans {
		if want := denoise(m[1]); !strings.Contains(out, want) {
			t.Errorf("docs/lock.md quotes %q, which taxi lock does not print", m[1])
		}
	}
	if blocks < 10 || len(spans) < 5 {
		t.Fatalf("found %d quoted lines and %d quoted sentences: has docs/lock.md changed shape?", blocks, len(spans))
	}
	if t.Failed() {
		t.Logf("what taxi lock printed:\n%s", out)
	}
}
