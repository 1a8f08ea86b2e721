package monitor

import (
	"cmp"
	"slices"
	"strings"

	"github.com/taxi-hub/taxi/lockctl"
)

// The locks view: the order acceptance locks, to find the stuck ones (no
// expiry: the order can never be accepted) and clear them.

var lockColumns = []column{
	{title: "ORDER", width: 24},
	{title: "OWNER", width: 20},
	{title: "TTL", width: 10, right: true},
	{title: "NOTE", width: 10},
}

var lockSorts = []string{"stale first", "order", "owner", "ttl"}

// lockRows are the locks as rows. hint tells how to clear a stuck lock
// from where the rows are shown.
func lockRows(s Snapshot, sortBy int, hint func(lockctl.Lock) string) []row {
	if s.Redis == nil {
		return nil
	}
	locks := slices.Clone(s.Redis.Locks.Items)
	slices.SortStableFunc(locks, func(a, b lockctl.Lock) int {
		switch lockSorts[sortBy] {
		case "stale first":
			if a.Stale() != b.Stale() {
				if a.Stale() {
					return -1
				}
				return 1
			}
		case "owner":
			if c := strings.Compare(a.Owner, b.Owner); c != 0 {
				return c
			}
		case "ttl":
			if c := cmp.Compare(ttlOrder(a), ttlOrder(b)); c != 0 {
				return c
			}
		}
		return strings.Compare(a.OrderID, b.OrderID)
	})
	rows := make([]row, 0, len(locks))
	for _, l := range locks {
		r := row{key: l.OrderID, cells: []string{l.OrderID, l.Owner, formatTTL(l.TTL), ""}}
		if l.Stale() {
			r.tone = toneAlert
			r.cells[3] = "stuck: never expires"
			if h := hint(l); h != "" {
				r.cells[3] += " — " + h
			}
		}
		rows = append(rows, r)
	}
	return rows
}

// ttlOrder sorts by time left, locks without expiry last.
func ttlOrder(l lockctl.Lock) int64 {
	if l.Stale() {
		return 1 << 62
	}
	return int64(l.TTL)
}

// selectedLock returns the lock under the cursor of the locks view.
func (m *model) selectedLock() (lockctl.Lock, bool) {
	st := m.tables[viewLocks]
	if m.snap.Redis == nil || st.key == "" {
		return lockctl.Lock{}, false
	}
	for _, l := range m.snap.Redis.Locks.Items {
		if l.OrderID == st.key {
			return l, true
		}
	}
	return lockctl.Lock{}, false
}
