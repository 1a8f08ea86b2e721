// Package hubtest starts real hub nodes for the tests of the packages that
// use one (cmd/taxi, monitor, deploy, examples/web): a *server.Server served
// with Server.Serve, as taxi serve runs it, on a free loopback port, in
// memory or Redis mode, and shut down when the test ends. It also gives the
// clients such tests need: order API calls with the node's own tokens, and
// a WebSocket client that records every frame and waits for frames with a
// deadline.
//
// It is modelled on nats-server's RunServer (one call with defaults fit for
// tests, options changed through a function) and coder/websocket's
// internal/test (small helpers over real connections).
//
// Files:
//   - hub.go: Hub, Start and its options, WaitRedis, Stats, Token, Call,
//     CreateOrder;
//   - client.go: Client, Dial and Hub.Feed: a driver's or rider's feed;
//   - addr.go, hold_linux.go, hold_other.go: FreeAddr, DeadAddr and Ready,
//     for tests that run the taxi binary as a process or need an address
//     nothing answers on;
//   - hubtest_test.go: its own tests.
//
// It must never be imported by non-test code, never mock Redis or the hub
// (the Redis a hub uses comes from internal/redistest), never wait by
// sleeping (every wait has a deadline and fails the test with what it last
// saw), and never leave a goroutine or a connection behind after the test's
// cleanup. The server package's own tests cannot use it (it imports server)
// and keep their own helpers in server/helpers_test.go.
package hubtest
