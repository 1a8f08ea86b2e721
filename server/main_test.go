package server

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when any test leaves a goroutine behind: every
// goroutine of a node must end with Shutdown.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
