package loadtest

import (
	"fmt"
	"syscall"
)

// FileLimit is the process's open-file limit after [raiseFileLimit].
type FileLimit struct {
	Soft uint64 `json:"soft"`
	Hard uint64 `json:"hard"`
	// Needed is the number of descriptors the run expects to hold in this
	// process: one per connection plus a margin for HTTP and the runtime.
	Needed uint64 `json:"needed"`
	// Warning is set when Soft is below Needed: the run will see
	// "too many open files" failures, and says how to avoid them.
	Warning string `json:"warning,omitempty"`
}

// fdMargin is the descriptors kept for HTTP requests, the runtime and logs.
const fdMargin = 256

// raiseFileLimit raises the soft RLIMIT_NOFILE as far as the hard limit
// allows (only as far as needed) and reports whether it is enough for conns
// connections. It never lowers the limit.
func raiseFileLimit(conns int) (FileLimit, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return FileLimit{}, fmt.Errorf("read open-file limit: %w", err)
	}
	need := uint64(conns) + fdMargin
	fl := FileLimit{Soft: lim.Cur, Hard: lim.Max, Needed: need}
	if lim.Cur < need {
		want := min(need, lim.Max)
		nl := syscall.Rlimit{Cur: want, Max: lim.Max}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &nl); err == nil {
			fl.Soft = want
		}
	}
	if fl.Soft < need {
		fl.Warning = fmt.Sprintf("open-file limit %d is below the %d this process needs (hard limit %d): "+
			"raise it (ulimit -n), or spread clients over processes with --procs %d",
			fl.Soft, need, fl.Hard, int(need/max(fl.Hard, fdMargin+1))+1)
	}
	return fl, nil
}
