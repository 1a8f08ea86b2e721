package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/taxi-hub/taxi/server"
)

type tokenOptions struct {
	secret string
	role   string
	sub    string
	ttl    time.Duration
	out    io.Writer
}

func newTokenCmd() *cobra.Command {
	opts := &tokenOptions{}
	cmd := &cobra.Command{
		Use:   "token --role driver|user --sub ID [--ttl 1h]",
		Short: "Print a client token signed with the hub's secret",
		Long: `Print an HS256 JWT for a driver or a rider, signed with the same secret as
taxi serve (--auth-secret or TAXI_AUTH_SECRET). Clients send it as
"Authorization: Bearer <token>", or as ?token= on WebSocket URLs.`,
		Example: `  export TAXI_AUTH_SECRET=change-me-to-32-random-bytes
  taxi token --role driver --sub d42
  taxi token --role user --sub u7 --ttl 15m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.out = cmd.OutOrStdout()
			secretFromEnv(cmd, "auth-secret", "TAXI_AUTH_SECRET", &opts.secret)
			return tokenRun(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.secret, "auth-secret", "", "HS256 secret shared with taxi serve (env TAXI_AUTH_SECRET)")
	f.StringVar(&opts.role, "role", "", "driver or user")
	f.StringVar(&opts.sub, "sub", "", "the driver or rider id the token is for")
	f.DurationVar(&opts.ttl, "ttl", time.Hour, "how long the token stays valid")
	return cmd
}

func tokenRun(opts *tokenOptions) error {
	if opts.secret == "" {
		return usageError(errors.New("no secret: set --auth-secret or TAXI_AUTH_SECRET"))
	}
	if opts.ttl <= 0 {
		return usageError(errors.New("--ttl must be positive"))
	}
	tok, err := server.NewToken(opts.secret, server.Role(opts.role), opts.sub, opts.ttl)
	if err != nil {
		return usageError(err)
	}
	_, err = fmt.Fprintln(opts.out, tok)
	return err
}
