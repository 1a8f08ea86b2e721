package contract

// Redis key and channel names. Each says its Redis type, who writes it and
// who reads it; docs/redis.md is the same list for people.
//
// The first group is a contract with existing deployments, dashboards and
// scripts: names and formats never change.
const (
	// KeyActiveDrivers is a set of the ids of drivers connected to any node.
	// Written by every node (join, leave, reaping); read by the nodes
	// (presence counts) and taxi monitor.
	KeyActiveDrivers = "active_drivers"
	// KeyActiveUsers is KeyActiveDrivers for riders.
	KeyActiveUsers = "active_users"

	// LockKeyPrefix starts the string key LockKey(orderID): the acceptance
	// lock, whose value is the id of the driver accepting the order, set
	// with NX and an expiry. Written and released by the node handling the
	// accept; read and cleared by taxi lock and taxi monitor.
	LockKeyPrefix = "order_lock:"
	// ViewersKeyPrefix starts the set ViewersKey(orderID) of the ids of the
	// drivers viewing the order; it expires after the last view. Written by
	// the viewing drivers' nodes; read by the nodes and by taxi lock and
	// taxi monitor.
	ViewersKeyPrefix = "order_viewers:"
)

// Channel names a Pub/Sub channel, and so a fan-out stream. Every message on
// it is a frame (see Envelope), except on a probe channel.
type Channel string

// The fan-out channels, part of the contract with existing deployments.
// Published to by the node that changed an order; subscribed to by every
// node; their subscribers are counted by taxi monitor.
const (
	// ChannelDrivers carries every frame for drivers: new_order,
	// order_accepted, order_cancelled, order_completed. A frame for some
	// drivers only (those offered a radius-limited order) carries their
	// ids in a top-level field "to" (TargetsField), comma-separated, which
	// nodes remove before they send the frame on.
	ChannelDrivers Channel = "drivers_channel"
	// ChannelUsers carries frames for riders, whose message.user_id names
	// the rider: order_accepted, order_cancelled, order_viewers,
	// order_completed, driver_location.
	ChannelUsers Channel = "users_channel"
)

// TargetsField is the top-level field of a drivers_channel frame, and the
// field of its event log entry, that lists the drivers the frame is for,
// comma-separated; absent when it is for every driver.
const TargetsField = "to"

// The hub's own keys.
const (
	// OrderKeyPrefix starts the hash OrderKey(orderID): the order, encoded
	// by OrderFields and decoded by DecodeOrder, kept for the order
	// retention. Written by the node that creates, accepts or cancels it
	// (and by a node writing back orders made during an outage); read by
	// the nodes and by taxi lock.
	OrderKeyPrefix = "order:"
	// KeyOpenOrders is a sorted set of the ids of open orders, scored by
	// creation time in Unix milliseconds. An index trimmed lazily: the
	// order hash's status is the truth. Written by the creating node and
	// trimmed by accepts, cancels and readers; read by the nodes.
	KeyOpenOrders = "orders:open"

	// KeyNodes is a set of node ids; a member whose NodeKey is gone is down.
	// Written by each node's heartbeat and cleared of dead nodes by the
	// others; read by the nodes (reaping) and taxi monitor.
	KeyNodes = "taxi:nodes"
	// NodeKeyPrefix starts the string NodeKey(nodeID): the node's
	// NodeHeartbeat as JSON, expiring after three heartbeat intervals.
	// Written by the node; read by taxi monitor and, for its existence, by
	// the reaping nodes.
	NodeKeyPrefix = "taxi:node:"

	// ProbeChannelPrefix starts the Pub/Sub channel ProbeChannel(nodeID),
	// on which a node publishes a counter to itself to prove that its
	// subscription still delivers. Written and read by that node only.
	ProbeChannelPrefix = "taxi_probe:"

	// KeyLockAudit is a capped stream with one entry per lock clear: who,
	// from which host, when, which key, what it held and what happened.
	// Written by taxi lock and taxi monitor (through package lockctl); read
	// by taxi lock audit.
	KeyLockAudit = "taxi:lock_audit"
)

// LockKey returns the key of orderID's acceptance lock, order_lock:{id}.
func LockKey(orderID string) string { return LockKeyPrefix + orderID }

// ViewersKey returns the key of orderID's viewer set, order_viewers:{id}.
func ViewersKey(orderID string) string { return ViewersKeyPrefix + orderID }

// OrderKey returns the key of orderID's hash, order:{id}.
func OrderKey(orderID string) string { return OrderKeyPrefix + orderID }

// NodeKey returns the key of nodeID's heartbeat, taxi:node:{id}.
func NodeKey(nodeID string) string { return NodeKeyPrefix + nodeID }

// ProbeChannel returns nodeID's probe channel, taxi_probe:{id}.
func ProbeChannel(nodeID string) Channel { return Channel(ProbeChannelPrefix + nodeID) }

// ActiveKey returns the set of ids of role connected anywhere:
// KeyActiveDrivers for drivers, KeyActiveUsers otherwise.
func ActiveKey(role Role) string {
	if role == RoleDriver {
		return KeyActiveDrivers
	}
	return KeyActiveUsers
}

// NodePresenceKey returns the set of ids of role connected to nodeID,
// {active_drivers}:node:{id} or {active_users}:node:{id}. The active set's
// name is its hash tag, so on Redis Cluster it shares the active set's slot
// and one script can update both. Written by that node and deleted by
// whoever reaps it; read by the scripts of every node.
func NodePresenceKey(role Role, nodeID string) string {
	return NodePresencePrefix(role) + nodeID
}

// NodePresencePrefix is NodePresenceKey without the node id: the prefix the
// presence scripts add node ids to.
func NodePresencePrefix(role Role) string {
	return "{" + ActiveKey(role) + "}:node:"
}

// PresenceNodesKey returns the set of ids of the nodes that keep a presence
// set for role, {active_drivers}:nodes or {active_users}:nodes, in the
// active set's slot. Written by each node's heartbeat and presence; members
// removed by reapers.
func PresenceNodesKey(role Role) string {
	return "{" + ActiveKey(role) + "}:nodes"
}

// UserOrdersKeyPrefix starts the sorted set UserOrdersKey(userID) of a
// rider's order ids scored by creation time in Unix milliseconds. The hub
// writes it with each order; it lives as long as the rider's newest order.
const UserOrdersKeyPrefix = "orders:user:"

// UserOrdersKey returns the key of a rider's order index.
func UserOrdersKey(userID string) string { return UserOrdersKeyPrefix + userID }

// EventsKey returns the stream that logs ch's events, {<channel>}:events:
// entries with fields t (frame type), m (message JSON), u (the rider of a
// users_channel event) and, on a drivers_channel event for some drivers
// only, to (TargetsField: their ids, comma-separated), capped by
// --event-retention. The hub appends to it
// and publishes on ch in one script; nodes and resuming clients read it.
// The hash tag puts it in the sharded channel's Cluster slot.
func EventsKey(ch Channel) string { return "{" + string(ch) + "}:events" }

// EpochKey returns the string naming the life of ch's event log,
// {<channel>}:epoch: a restart of Redis that lost the log starts a new one.
func EpochKey(ch Channel) string { return "{" + string(ch) + "}:epoch" }

// DriverOrderKeyPrefix starts the string DriverOrderKey(driverID): the id of
// the order the driver accepted last, the one it serves. The hub writes it
// on accept, with the order's retention.
const DriverOrderKeyPrefix = "orders:driver:"

// DriverOrderKey returns the key of a driver's current order.
func DriverOrderKey(driverID string) string { return DriverOrderKeyPrefix + driverID }

// Driver positions. The GEO set and the sorted set of update times are
// written together by one script (the times set carries the GEO set's name
// as its hash tag, so on Redis Cluster they share a slot) and trimmed
// together of positions older than --location-ttl.
const (
	// KeyDriverLocations is a GEO set (GEOADD) of driver ids at their last
	// position. Written by the node that receives a position (location
	// frame or POST /drivers/{id}/location) and trimmed by every node;
	// read by the nodes (dispatch, GET /drivers/nearby).
	KeyDriverLocations = "driver_locations"
	// KeyDriverLocationTimes is a sorted set of the same driver ids scored
	// by the time of their last position in Unix milliseconds: a position
	// older than --location-ttl no longer counts, and is trimmed. Written
	// and read as KeyDriverLocations; counted by taxi monitor.
	KeyDriverLocationTimes = "{driver_locations}:updated"
	// KeyRidingOrders is a sorted set of the ids of accepted orders not yet
	// completed, scored by acceptance time in Unix milliseconds: the rides
	// whose driver's positions reach the rider. Written by the nodes that
	// accept and complete orders, trimmed of entries older than the order
	// retention; counted by taxi monitor.
	KeyRidingOrders = "orders:riding"
	// TrackingKeyPrefix starts the string TrackingKey(orderID), set with NX
	// for one second by the node that sends a driver_location for the
	// order: whichever node a position arrives at, at most one frame a
	// second reaches the rider.
	TrackingKeyPrefix = "tracking:"
)

// TrackingKey returns the key of orderID's tracking gate, tracking:{id}.
func TrackingKey(orderID string) string { return TrackingKeyPrefix + orderID }

// IdempotencyKeyPrefix starts the string IdempotencyKey(userID, key): what a
// rider's Idempotency-Key on POST /orders was first used for (a JSON record:
// request hash, order id, response), kept 24 hours. The hub writes and reads
// it.
const IdempotencyKeyPrefix = "idempotency:"

// IdempotencyKey returns the record key of a rider's Idempotency-Key. It is
// unambiguous: user ids never contain ':'.
func IdempotencyKey(userID, key string) string { return IdempotencyKeyPrefix + userID + ":" + key }
