// Package lockctl inspects and clears the order acceptance locks that taxi
// serve nodes take in Redis, for the on-call engineer (taxi lock) and for the
// live view (taxi monitor).
//
// A lock is the string key order_lock:<order_id> whose value is the id of the
// driver accepting the order, set with a 5 s expiry. A lock without expiry
// never frees itself: it is "stale", and the order can no longer be accepted
// by anyone. The order itself is the hash order:<order_id> and the drivers
// looking at it are the set order_viewers:<order_id>.
//
// Every clear (not a dry run) is recorded in the capped stream
// taxi:lock_audit: who, from which host, when, which key, what it held and
// what happened.
//
// The key names and the decoding of the order hash come from package
// contract, the same ones taxi serve writes with. Files: lockctl.go (the Controller, Lock, the
// errors), list.go (walking the locks), show.go (one order's lock, order and
// viewers), clear.go and clear.lua (the checked clear), audit.go (the audit
// stream); lockctl_test.go runs every operation against real Redis, a node
// and a Cluster from internal/redistest, each test on its own.
//
// This package must never use KEYS or load the whole keyspace into memory
// (it walks it with SCAN, one batch at a time, on every Cluster master),
// never delete a lock without checking atomically, in one Lua script, that it
// is still the lock that was examined, never touch any key other than the
// lock being cleared and the audit stream, and never send a malformed order
// id to Redis.
package lockctl
