package server

import "github.com/taxi-hub/taxi/contract"

// Redis key and channel names. The names in the first group are a contract
// with existing deployments, dashboards and scripts (docs/redis.md); the rest
// are this hub's own and documented there too.
const (
	keyActiveDrivers = "active_drivers"
	keyActiveUsers   = "active_users"
	keyLockPrefix    = "order_lock:"
	keyViewersPrefix = "order_viewers:"

	keyOrderPrefix = "order:"
	keyOpenOrders  = "orders:open"
	// keyUserOrdersPrefix+user_id indexes a rider's orders by creation
	// time; keyDriverOrderPrefix+driver_id holds the id of the order the
	// driver accepted last.
	keyUserOrdersPrefix  = "orders:user:"
	keyDriverOrderPrefix = "orders:driver:"
	// keyIdempotencyPrefix+user_id+":"+key is what a rider's
	// Idempotency-Key was first used for.
	keyIdempotencyPrefix = "idempotency:"
	// keyNodes lists node ids for taxi monitor; keyNodePrefix+id is each
	// node's heartbeat, which expires when the node stops beating.
	keyNodes      = "taxi:nodes"
	keyNodePrefix = "taxi:node:"
	// Per-node presence sets and each role's node registry carry the active
	// set's name as a hash tag, so that on Redis Cluster they share its slot
	// and one script can update them together.
	probeChannelPrefix = "taxi_probe:"
)

func lockKey(orderID string) string    { return keyLockPrefix + orderID }
func viewersKey(orderID string) string { return keyViewersPrefix + orderID }
func orderKey(orderID string) string   { return keyOrderPrefix + orderID }
func nodeKey(nodeID string) string     { return keyNodePrefix + nodeID }

func userOrdersKey(userID string) string    { return keyUserOrdersPrefix + userID }
func driverOrderKey(driverID string) string { return keyDriverOrderPrefix + driverID }

// idempotencyKey is unambiguous: user ids never contain ':'.
func idempotencyKey(userID, key string) string { return keyIdempotencyPrefix + userID + ":" + key }

// activeKey is the contract set of ids of role connected anywhere.
func activeKey(role Role) string {
	if role == RoleDriver {
		return keyActiveDrivers
	}
	return keyActiveUsers
}

// nodePresenceKey is the set of ids of role connected to nodeID.
func nodePresenceKey(role Role, nodeID string) string {
	return "{" + activeKey(role) + "}:node:" + nodeID
}

// presenceNodesKey is the set of node ids that have a presence set for role.
func presenceNodesKey(role Role) string {
	return "{" + activeKey(role) + "}:nodes"
}

// eventsKey is the stream that logs ch's events; epochKey names the log's
// life, so that a restart that lost it is told apart from a quiet log. Both
// carry the channel's name as a hash tag: on Redis Cluster they share the
// sharded channel's slot, and publish.lua touches them together.
func eventsKey(ch Channel) string { return contract.EventsKey(contract.Channel(ch)) }
func epochKey(ch Channel) string  { return contract.EpochKey(contract.Channel(ch)) }
