package monitor

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// The orders view: the orders drivers are looking at, most viewed first,
// with their state and lock — an order many drivers view but nobody can
// accept is the symptom of a stuck lock.

var orderColumns = []column{
	{title: "ORDER", width: 24},
	{title: "VIEWERS", width: 7, right: true},
	{title: "STATUS", width: 9},
	{title: "RIDER", width: 16},
	{title: "LOCKED BY", width: 16},
	{title: "DRIVER", width: 10},
}

var orderSorts = []string{"viewers", "order", "status"}

func orderRows(s Snapshot, sortBy int) []row {
	if s.Redis == nil {
		return nil
	}
	orders := slices.Clone(s.Redis.Viewed.Top)
	slices.SortStableFunc(orders, func(a, b ViewedOrder) int {
		switch orderSorts[sortBy] {
		case "viewers":
			if c := cmp.Compare(b.Viewers, a.Viewers); c != 0 {
				return c
			}
		case "status":
			if c := strings.Compare(a.Status, b.Status); c != 0 {
				return c
			}
		}
		return strings.Compare(a.OrderID, b.OrderID)
	})
	rows := make([]row, 0, len(orders))
	for _, o := range orders {
		status := o.Status
		if status == "" {
			status = "gone"
		}
		r := row{key: o.OrderID, cells: []string{
			o.OrderID, strconv.FormatInt(o.Viewers, 10), status, orDash(o.UserID), orDash(o.LockOwner), orDash(o.DriverID),
		}}
		if o.Status == "" {
			r.tone = toneDim
		}
		rows = append(rows, r)
	}
	return rows
}
