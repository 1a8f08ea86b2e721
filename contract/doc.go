// Package contract is what taxi serve nodes, their clients and the
// operations tools (taxi lock, taxi monitor, taxi bench, taxi token) agree
// on: the names and formats of everything in Redis, the JSON of every frame
// and of the order, and client tokens. A writer and its readers import the
// same names from here, so what one writes the others read.
//
// Files, one concept each:
//   - keys.go: Redis key and channel names and their builders, each with its
//     type, writer and readers (docs/redis.md lists the same);
//   - role.go: Role: driver, user (both with a feed) or dispatcher;
//   - id.go: ValidID, the one rule for driver, rider, order and node ids;
//   - order.go: Status, Point and its validation, Order (the JSON order);
//   - geo.go: the great-circle distance by which the hub decides who is
//     within a dispatch radius, and the latitudes positions can have;
//   - orderhash.go: the order's Redis hash, OrderFields and DecodeOrder,
//     with ErrOrderNotFound and ErrCorruptOrder;
//   - frames.go: frame type names, Envelope and every frame's message;
//   - heartbeat.go: NodeHeartbeat, the node record taxi monitor reads;
//   - token.go: Claims, NewToken, Verifier and the secret rule
//     (MinSecretLen).
//
// What it must never do: import another package of this module (server,
// lockctl, monitor, loadtest and cmd all import it), talk to Redis or the
// network (it names and encodes; callers do the I/O), or change a name or a
// JSON shape: deployed nodes, dashboards and scripts read them.
package contract
