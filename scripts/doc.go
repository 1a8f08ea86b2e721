// Package scripts holds the shell scripts that start taxi on this machine,
// and the tests that run them. It has no Go code of its own.
//
//   - cluster-local.sh: a redis-server and two or more nodes sharing it, for
//     trying taxi across nodes.
//   - bench-local.sh: the README's bench table, measured here.
//   - perf.sh: the performance table of docs/performance.md (make perf).
//   - bench-geo.sh: a redis-server, NODES nodes (6) and taxi bench geo
//     against all of them: the dispatch figures of docs/performance.md.
//   - install-test-deps.sh: what the tests need beyond Go.
//   - lib/local.sh: sourced by the first four: starts a redis-server and
//     nodes on free ports, checks each answers as the process it started,
//     and stops everything on exit.
//   - deploy/: the systemd unit, the production nginx block and the
//     locations it shares with deploy/compose.yaml.
//
// scripts_test.go runs cluster-local.sh against taken ports, a foreign
// Redis, a missing redis-server and a node that fails, and checks it either
// works on other ports or stops with an error naming the problem, never
// touching what it did not start and leaving no process behind.
package scripts
