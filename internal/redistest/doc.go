// Package redistest starts real redis-server processes for tests: a single
// node (Start) or a three-master Redis Cluster (StartCluster), each on free
// loopback ports, without persistence, in the test's temporary directory, and
// killed when the test ends.
//
// It exists so that every package that talks to Redis is tested against the
// server it runs on in production rather than a mock: scripts, SCAN, streams,
// Pub/Sub and cluster redirections behave exactly as they will in production.
//
// It must never be imported by non-test code, never touch a Redis it did not
// start (in particular the one on 127.0.0.1:6379), and never leave a process
// behind: every server is registered with t.Cleanup, and on Linux it also dies
// with the test binary.
//
// Files: redistest.go (Start, Kill, Stop, Restart: one server and its
// outages); cluster.go (StartCluster); proxy.go (a loopback TCP proxy that
// cuts, delays or stalls the traffic of one client, for fault tests);
// proc_linux.go and proc_other.go (servers die with the test binary).
//
// When redis-server is not installed, tests are skipped, except under CI=true
// where they fail loudly: a CI run that silently skips every Redis test would
// prove nothing.
package redistest
