package monitor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"github.com/redis/go-redis/v9"
)

// Run starts the monitor: the live terminal view until the user quits or
// ctx ends, or with opts.Once one snapshot printed to opts.Out. Without
// Once, opts.Out must be a terminal; the caller checks (taxi monitor
// refuses a live view on anything else).
//
// Errors wrap ErrInvalidOptions for options that cannot work, and
// ErrUnreachable for a --once snapshot taken while Redis (or, without
// Redis, every node) did not answer; an unreachable Redis is no error when
// every node that answered runs without Redis. A live view that cannot reach Redis
// does not fail: it says so on screen and keeps retrying.
func Run(ctx context.Context, opts Options) error {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return err
	}
	out := opts.Out
	if out == nil {
		out = os.Stdout
	}
	// go-redis prints failed dials on stderr by default, which would smear
	// the screen while Redis is down: its messages go to the logger.
	redis.SetLogger(redisLog{opts.Logger})

	c, err := newCollector(opts)
	if err != nil {
		return err
	}
	defer func() {
		if err := c.Close(); err != nil {
			opts.Logger.Warn("close monitor sources", "err", err)
		}
	}()
	if opts.Once {
		return runOnce(ctx, c, out, opts.JSON)
	}
	if opts.NoColor {
		lipgloss.SetColorProfile(termenv.Ascii)
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := newModel(opts, newEffects(runCtx, c, c.clearer(), opts.Actor, opts.Timeout))
	_, err = newProgram(runCtx, m, opts.In, out).Run()
	return programError(ctx, err)
}

// newProgram builds the bubbletea program on the alternate screen, so the
// terminal comes back as it was. bubbletea restores the terminal on exit,
// when ctx ends, and on a panic in Update, View or a command (its panic
// recovery stays on): the monitor's own goroutines turn panics into errors
// (see recovered) so that no panic escapes the recovery.
func newProgram(ctx context.Context, m tea.Model, in io.Reader, out io.Writer) *tea.Program {
	opts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithAltScreen(), tea.WithOutput(out)}
	if in != nil {
		opts = append(opts, tea.WithInput(in))
	}
	return tea.NewProgram(m, opts...)
}

// programError turns the program's end into Run's result: quitting and
// being stopped by a signal are both a normal exit. A signal reaches the
// program twice, through ctx (the command's signal.NotifyContext) and
// through bubbletea's own handler (SIGINT), whichever comes first.
func programError(ctx context.Context, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, tea.ErrProgramPanic):
		return fmt.Errorf("monitor: the display crashed (terminal restored): %w", err)
	case errors.Is(err, tea.ErrInterrupted):
		return nil
	case errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil:
		return nil
	}
	return fmt.Errorf("monitor: %w", err)
}

// runOnce prints one snapshot.
func runOnce(ctx context.Context, src source, out io.Writer, asJSON bool) error {
	snap := src.Collect(ctx)
	var err error
	if asJSON {
		err = writeJSON(out, snap)
	} else {
		err = writeReport(out, snap)
	}
	if err != nil {
		return fmt.Errorf("print snapshot: %w", err)
	}
	switch {
	case snap.Redis != nil && snap.Redis.Error != "" && !servesWithoutRedis(snap):
		return fmt.Errorf("%w: redis at %s: %s", ErrUnreachable, snap.Redis.URL, snap.Redis.Error)
	case snap.Redis == nil && snap.NodesUp() == 0:
		return fmt.Errorf("%w: no node's stats answered", ErrUnreachable)
	}
	return nil
}

// servesWithoutRedis reports whether some node answered and every node
// that did runs in memory mode by choice (no Redis link at all): then an
// unreachable Redis is not part of what the snapshot watches.
func servesWithoutRedis(snap Snapshot) bool {
	for _, n := range snap.Nodes {
		if n.Up && (n.Stats == nil || n.Stats.Redis != nil) {
			return false
		}
	}
	return snap.NodesUp() > 0
}

// redisLog sends go-redis's own messages to the logger at debug level.
type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis client: "+fmt.Sprintf(format, v...))
}
