package monitor

import (
	"os"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"go.uber.org/goleak"

	"github.com/taxi-hub/taxi/internal/taxibuild"
)

// TestMain makes screens comparable and fails the package when a test
// leaves a goroutine behind: every fetch, tick and program must end with
// its context. It removes the binary the smoke test built.
func TestMain(m *testing.M) {
	// Golden screens are plain text, whatever terminal runs the tests, and
	// show times in UTC.
	lipgloss.SetColorProfile(termenv.Ascii)
	time.Local = time.UTC
	// The screens test keyboard handling, not bracketed paste.
	os.Setenv("TERM", "dumb")
	goleak.VerifyTestMain(m,
		// teatest waits for SIGINT for the whole process, by design.
		goleak.IgnoreAnyFunction("github.com/charmbracelet/x/exp/teatest.NewTestModel.func2"),
		goleak.Cleanup(func(code int) {
			taxibuild.Remove()
			os.Exit(code)
		}),
	)
}
