//go:build !linux

package redistest

import "syscall"

// sysProcAttr has nothing to add outside Linux; t.Cleanup still kills the
// server when the test ends normally.
func sysProcAttr() *syscall.SysProcAttr { return nil }
