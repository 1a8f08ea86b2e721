// Command taxi is the real-time layer of a ride-hailing backend: the hub
// (serve) and the tools that operate it (bench, monitor, lock).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
