// Package server is the taxi hub: WebSocket feeds for drivers and riders, the
// order HTTP API, fan-out of order events, and the one-winner acceptance of an
// order.
//
// Everything that crosses nodes sits behind a small interface with an
// in-memory implementation (the default, for one node) and a Redis one (for a
// cluster): OrderStore, LockStore, ViewerStore, Presence, LocationStore and
// Broker. The hub
// itself only keeps the connections of its own node. Every event is logged
// with an id where it is published, so a node that missed events and a
// client that reconnects get them again, in order, once.
//
// The fan-out path is the product: a frame is encoded once per event and the
// same bytes are queued to every local connection without blocking on any of
// them. Code in this package must never write to a socket while holding a
// lock that another connection needs, never block a fan-out on a slow client,
// and never start a goroutine that Shutdown does not wait for.
//
// Files, by concern:
//
//   - server.go: Server, New, Start, Serve, Shutdown. config.go: Config and
//     its defaults. doc.go: this.
//   - The node's choice of stores: backend.go (a set of stores, the
//     backends interface, Server.do, which switches mid-request in one
//     place); cluster.go (Redis mode's clients and parts); failover.go
//     (health check, degrade, rejoin, write-back); membership.go
//     (heartbeat, presence re-assertion, reaping); presence_writer.go
//     (joins and leaves in order per id).
//   - Events: event.go (Event, EventID, frames with ids, events for some
//     drivers only); broker.go (the
//     Broker interface); broker_memory.go (the in-process log);
//     broker_redis.go (the Redis streams and publish.lua); sequencer.go (a
//     node's position in a log, in-order once delivery, replies that wait);
//     subscription.go (the Redis delivery loop, catch-up after gaps, probe).
//   - Orders: flow.go (create, dispatch by radius, cancel, view, publish,
//     deliver); accept.go (the one-winner accept, only by an offered
//     driver); complete.go (the assigned driver ends the ride); settle.go
//     (the events of a change whose reply from Redis was lost); order.go,
//     orders.go, orders_memory.go,
//     orders_redis.go (types and the order hash from package contract);
//     locks*.go; viewers*.go; presence*.go; role.go; keys.go (Redis names,
//     all from package contract); scripts.go and lua/ (scripts).
//   - Positions: locations.go (LocationStore, great-circle distance);
//     locations_memory.go; locations_redis.go (the GEO set, locate.lua,
//     nearby.lua, trim_locations.lua); tracking.go (positions in, what
//     order each driver serves, driver_location to the rider at most once
//     a second); dispatch_api.go (POST /drivers/{id}/location, GET
//     /drivers/nearby).
//   - Clients: api.go (HTTP routes and handlers); decode.go (strict request
//     and frame decoding); cors.go (CORS from --allowed-origins);
//     refusal.go (handshake refusals a browser can tell apart);
//     orders_list.go (a rider's orders, a driver's order); idempotency.go,
//     idempotency_memory.go, idempotency_redis.go (Idempotency-Key); ws.go (feed handshake,
//     reader, driver frames); greet.go (first frames: resume or snapshot,
//     shared snapshot reads, admission); hub.go (the registry and local
//     fan-out); client.go (one connection: queue, writer, ping, end);
//     gate.go (counts every client goroutine); close_reason.go (why a
//     connection ended, its close code, counts); upgrade.go (small buffers,
//     the socket writer); frame.go (frame types from package contract,
//     inbound frames); auth.go (verifying contract's tokens); limits.go (rate limits).
//   - Errors: errors.go (domain errors and what a Redis error means);
//     errcodes.go (the one table from errors to HTTP statuses and frame
//     codes).
//   - Operations: stats.go (/ws/stats); metrics.go (/metrics); counters.go.
package server
