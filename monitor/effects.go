package monitor

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/taxi-hub/taxi/lockctl"
)

// Messages the model's commands send back.
type (
	// snapshotMsg carries one collection.
	snapshotMsg struct{ snap Snapshot }
	// tickMsg says the refresh interval has passed. gen ties it to the
	// snapshot that scheduled it, so a tick made stale by a manual refresh
	// is ignored instead of starting a second fetch.
	tickMsg struct{ gen int }
	// clearedMsg is the outcome of a confirmed lock clear.
	clearedMsg struct {
		lock lockctl.Lock
		res  lockctl.Result
		err  error
	}
)

// effects are the model's I/O, each a bubbletea command: it runs on a
// goroutine of its own and returns one message, so the UI never waits.
//
// They close over the run's context rather than keeping it in the model:
// bubbletea does not wait for command goroutines when it exits, and the
// context is what ends them (a pending tick, a fetch in flight) when the
// monitor stops.
type effects struct {
	fetch func() tea.Cmd
	tick  func(d time.Duration, gen int) tea.Cmd
	// clear is nil without Redis.
	clear func(l lockctl.Lock) tea.Cmd
}

func newEffects(ctx context.Context, src source, clr lockClearer, actor string, timeout time.Duration) effects {
	fx := effects{
		fetch: func() tea.Cmd {
			return func() tea.Msg { return snapshotMsg{snap: src.Collect(ctx)} }
		},
		tick: func(d time.Duration, gen int) tea.Cmd {
			return func() tea.Msg {
				t := time.NewTimer(d)
				defer t.Stop()
				select {
				case <-ctx.Done():
					return nil
				case <-t.C:
					return tickMsg{gen: gen}
				}
			}
		},
	}
	if clr != nil {
		fx.clear = func(l lockctl.Lock) tea.Cmd {
			return func() tea.Msg {
				// A script and an audit append: two round trips.
				cctx, cancel := context.WithTimeout(ctx, 2*timeout)
				defer cancel()
				// Delete only the lock that was shown and confirmed: if it
				// changed hands meanwhile, the user confirmed something else.
				res, err := clr.Clear(cctx, l.OrderID, lockctl.ClearOptions{Owner: l.Owner, Actor: actor})
				return clearedMsg{lock: l, res: res, err: err}
			}
		}
	}
	return fx
}
