package monitor

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/taxi-hub/taxi/lockctl"
)

// writeJSON prints the snapshot as one indented JSON document: the
// Snapshot type, documented in docs/monitor.md.
func writeJSON(w io.Writer, s Snapshot) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// writeReport prints the snapshot as plain text for a terminal without a
// TTY, a log or a ticket: the overview's facts, then the nodes, locks and
// viewed orders tables with the same columns as the live views. There are
// no rates: they need two snapshots.
func writeReport(w io.Writer, s Snapshot) error {
	ew := &errWriter{w: w}
	ew.printf("taxi monitor snapshot at %s\n\n", s.Time.UTC().Format(time.RFC3339))
	tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
	field := func(name, format string, a ...any) { fmt.Fprintf(tw, "%s\t%s\n", name, fmt.Sprintf(format, a...)) }
	field("drivers online", "%d", s.DriversOnline())
	field("riders online", "%d", s.UsersOnline())
	field("located", "%d drivers with a position, %d rides tracked", s.LocatedDrivers(), s.Rides())
	field("nodes", "%d up of %d", s.NodesUp(), len(s.Nodes))
	switch r := s.Redis; {
	case r == nil:
		field("redis", "not watched (--no-redis)")
	case r.Error != "":
		field("redis", "UNREACHABLE at %s: %s", r.URL, r.Error)
	default:
		si := r.Server
		field("redis", "%s ok: %s, ping %.2f ms, %s used, %d clients, %d ops/s",
			r.URL, orDash(si.Version), r.LatencyMs, formatBytes(si.UsedMemoryBytes), si.ConnectedClients, si.OpsPerSec)
		var ch []string
		for _, c := range r.Channels {
			ch = append(ch, fmt.Sprintf("%s %d", c.Name, c.Subscribers))
		}
		field("subscribers", "%s", strings.Join(ch, ", "))
		field("locks", "%d, %d without expiry", r.Locks.Total, r.Locks.Stale)
		field("viewed orders", "%d, %d viewers", r.Viewed.Orders, r.Viewed.Viewers)
		for _, warn := range r.Warnings {
			field("warning", "%s", warn)
		}
	}
	t := s.Totals()
	field("node totals", "orders %d, accepted %d, cancelled %d, frames sent %d, dropped %d, slow clients cut %d",
		t.OrdersCreated, t.OrdersAccepted, t.OrdersCancelled, t.FramesSent, t.FramesDropped, t.SlowClientsDisconnected)
	_ = tw.Flush()

	table := func(title string, cols []column, rows []row) {
		ew.printf("\n%s\n", title)
		if len(rows) == 0 {
			ew.printf("  (none)\n")
			return
		}
		tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
		titles := make([]string, len(cols))
		for i, c := range cols {
			titles[i] = c.title
		}
		fmt.Fprintln(tw, strings.Join(titles, "\t"))
		for _, r := range rows {
			fmt.Fprintln(tw, strings.Join(r.cells, "\t"))
		}
		_ = tw.Flush()
	}
	table("NODES", nodeColumns, nodeRows(s, newHistory(), 0))
	if s.RedisOK() {
		table("LOCKS", lockColumns, lockRows(s, 0, func(l lockctl.Lock) string {
			return fmt.Sprintf("taxi lock clear %s --owner %s", l.OrderID, l.Owner)
		}))
		table("MOST VIEWED ORDERS", orderColumns, orderRows(s, 0))
	}
	return ew.err
}

// errWriter keeps the first write error so a report is checked once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, a ...any) { fmt.Fprintf(e, format, a...) }
