package loadtest

import (
	"context"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind, and doubles as a
// worker process: the --procs tests start this test binary with
// LOADTEST_WORKER=1.
func TestMain(m *testing.M) {
	if os.Getenv("LOADTEST_WORKER") == "1" {
		if err := RunWorker(context.Background(), os.Stdin, os.Stdout, nil); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}
