package contract

import "testing"

// The names are a contract with deployed nodes, dashboards and scripts:
// each row pins one exactly.
func TestKeyNames(t *testing.T) {
	tests := []struct{ got, want string }{
		{KeyActiveDrivers, "active_drivers"},
		{KeyActiveUsers, "active_users"},
		{string(ChannelDrivers), "drivers_channel"},
		{string(ChannelUsers), "users_channel"},
		{LockKey("o1"), "order_lock:o1"},
		{ViewersKey("o1"), "order_viewers:o1"},
		{OrderKey("o1"), "order:o1"},
		{KeyOpenOrders, "orders:open"},
		{KeyNodes, "taxi:nodes"},
		{NodeKey("n1"), "taxi:node:n1"},
		{string(ProbeChannel("n1")), "taxi_probe:n1"},
		{KeyLockAudit, "taxi:lock_audit"},
		{ActiveKey(RoleDriver), "active_drivers"},
		{ActiveKey(RoleUser), "active_users"},
		{NodePresenceKey(RoleDriver, "n1"), "{active_drivers}:node:n1"},
		{NodePresenceKey(RoleUser, "n1"), "{active_users}:node:n1"},
		{NodePresencePrefix(RoleDriver), "{active_drivers}:node:"},
		{PresenceNodesKey(RoleDriver), "{active_drivers}:nodes"},
		{PresenceNodesKey(RoleUser), "{active_users}:nodes"},
		{KeyDriverLocations, "driver_locations"},
		{KeyDriverLocationTimes, "{driver_locations}:updated"},
		{KeyRidingOrders, "orders:riding"},
		{TrackingKey("o1"), "tracking:o1"},
		{TargetsField, "to"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
