// Command taxi is the real-time layer of a ride-hailing backend: the hub
// (serve) and the tools that operate it (bench, monitor, lock, token, feed).
//
// Every command has the same shape: newCmdX(io, runF) builds the cobra
// command, whose flags fill an options struct; RunE reads the environment
// (applyEnv), then calls xRun(ctx, opts), a plain function that tests call
// without cobra, or runF in tests of the flag parsing. The work itself is
// in a library package (server, loadtest, monitor, lockctl).
//
// The files:
//   - main.go: signals and the exit status, nothing else;
//   - exit.go: run, the one place that prints a command's error and turns
//     it into an exit code, and the exit-code errors commands return;
//   - iostreams.go: IOStreams, the standard streams every command shares,
//     the only terminal detection and the colour decision;
//   - env.go: flags that environment variables set (TAXI_*, REDIS_URL),
//     read at run time and refused loudly when malformed;
//   - auth.go: the role vocabulary (driver; rider or user; dispatcher) and
//     the secret length every token-signing command shares with serve;
//   - root.go: the command tree, --version and the default Redis URL;
//   - serve.go, serve_log.go: taxi serve, its configuration checks, its
//     logger and the configuration it logs at start;
//   - bench.go, monitor.go, token.go, feed.go, version.go: one command each;
//     bench_geo.go: the flags and the run of taxi bench geo;
//   - lock.go: taxi lock and what its subcommands share; lock_list.go,
//     lock_show.go, lock_clear.go, lock_audit.go: one subcommand each;
//   - *_test.go: the tests, over in-memory streams (testIO), with hubs from
//     internal/hubtest and Redis from internal/redistest; kill_test.go's
//     TestMain lets the test binary run as taxi, to kill a node process.
//
// What a command must never do: print a secret (flag defaults never come
// from the environment, so --help cannot show one; URLs are redacted), ask
// whether a stream is a terminal other than through IOStreams, or choose an
// exit code other than through exitError.
package main
