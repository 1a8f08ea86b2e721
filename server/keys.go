package server

import "github.com/taxi-hub/taxi/contract"

// Redis key and channel names, all from package contract, which documents
// each one (and docs/redis.md): the hub spells none of them itself.
const (
	keyOpenOrders          = contract.KeyOpenOrders
	keyNodes               = contract.KeyNodes
	keyDriverLocations     = contract.KeyDriverLocations
	keyDriverLocationTimes = contract.KeyDriverLocationTimes
	keyRidingOrders        = contract.KeyRidingOrders
)

func lockKey(orderID string) string                   { return contract.LockKey(orderID) }
func viewersKey(orderID string) string                { return contract.ViewersKey(orderID) }
func orderKey(orderID string) string                  { return contract.OrderKey(orderID) }
func nodeKey(nodeID string) string                    { return contract.NodeKey(nodeID) }
func userOrdersKey(userID string) string              { return contract.UserOrdersKey(userID) }
func driverOrderKey(driverID string) string           { return contract.DriverOrderKey(driverID) }
func idempotencyKey(userID, key string) string        { return contract.IdempotencyKey(userID, key) }
func activeKey(role Role) string                      { return contract.ActiveKey(role) }
func nodePresenceKey(role Role, nodeID string) string { return contract.NodePresenceKey(role, nodeID) }
func presenceNodesKey(role Role) string               { return contract.PresenceNodesKey(role) }
func probeChannel(nodeID string) string               { return string(contract.ProbeChannel(nodeID)) }
func eventsKey(ch Channel) string                     { return contract.EventsKey(ch) }
func epochKey(ch Channel) string                      { return contract.EpochKey(ch) }
func trackingKey(orderID string) string               { return contract.TrackingKey(orderID) }
