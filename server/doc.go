// Package server is the taxi hub: WebSocket feeds for drivers and riders, the
// order HTTP API, fan-out of order events, and the one-winner acceptance of an
// order.
//
// Everything that crosses nodes sits behind a small interface with an
// in-memory implementation (the default, for one node) and a Redis one (for a
// cluster): OrderStore, LockStore, ViewerStore, Presence and Broker. The hub
// itself only keeps the connections of its own node.
//
// The fan-out path is the product: a frame is encoded once per event and the
// same bytes are queued to every local connection without blocking on any of
// them. Code in this package must never write to a socket while holding a
// lock that another connection needs, never block a fan-out on a slow client,
// and never start a goroutine that Shutdown does not wait for.
package server
