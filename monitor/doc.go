// Package monitor is taxi monitor: the live terminal view an on-call
// engineer opens to see at once whether the hub is healthy — how many
// drivers are online, whether orders flow, which node is down or degraded,
// which order locks are stuck — and a one-shot snapshot of the same for
// scripts (Options.Once, as text or JSON).
//
// It reads two sources, either or both: Redis (the presence sets, the
// nodes' heartbeats, order locks through lockctl, the most viewed orders,
// the Pub/Sub channels' subscribers, INFO and a PING round trip) and each
// node's GET /ws/stats, found through the heartbeats or given as URLs; when
// nothing names a node, Options.LocalHubURL (taxi serve's default address)
// is tried, so that a local memory-mode hub shows up by itself. Redis names
// and the heartbeat's shape come from package contract, as the hub writes
// them (contract_test.go proves it against a real hub).
//
// The files follow the program's parts: options.go and run.go start it
// (Run is the one entry point); collect.go, redis.go and nodes.go gather a
// Snapshot (snapshot.go, also the --once --json document); history.go
// turns successive snapshots into rates, sparkline.go draws them; model.go,
// keys.go and effects.go are the bubbletea model, its keys and its I/O
// commands; view.go and view_*.go draw the screen with table.go, styles.go
// and format.go; report.go prints --once as text. The tests read live
// clusters: env_test.go builds one from a redis-server (internal/redistest)
// and a hub (internal/hubtest), screen_test.go drives the program under
// teatest against golden screens, and smoke_test.go runs the binary that
// internal/taxibuild builds in a real terminal (tmux).
//
// What it must never do:
//   - block the UI goroutine on I/O: every fetch and every lock clear runs as
//     a bubbletea command on its own goroutine, bounded by a timeout and by
//     the run's context, and returns one message; Update schedules the next
//     fetch when a snapshot arrives, so fetches never pile up;
//   - write to Redis, except clearing one lock the user selected and
//     confirmed, through lockctl (which checks the owner atomically and
//     writes the audit record, as taxi lock clear does);
//   - walk the keyspace with KEYS or hold all of it in memory: it SCANs and
//     keeps a bounded number of locks and orders;
//   - write to the terminal while the program runs, other than through the
//     view: logs go to Options.Logger, go-redis's own logger included;
//   - leave the terminal in raw mode or the alternate screen, on exit, on a
//     signal or on a panic;
//   - print a Redis password: URLs are shown redacted.
package monitor
