package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/taxi-hub/taxi/contract"
	"time"

	"github.com/spf13/cobra"
)

// tokenOptions is what taxi token's flags fill in.
type tokenOptions struct {
	IO     *IOStreams
	secret string
	role   string
	sub    string
	ttl    time.Duration
	// sources names the settings the environment gave, for messages.
	sources envSources
}

func newCmdToken(io *IOStreams, runF func(context.Context, *tokenOptions) error) *cobra.Command {
	opts := &tokenOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "token --role driver|rider|dispatcher --sub ID [--ttl 1h]",
		Short: "Print a client token signed with the hub's secret",
		Long: `Print an HS256 JWT for a driver, a rider or a dispatcher, signed with the
same secret as taxi serve (--auth-secret or TAXI_AUTH_SECRET). Clients send it
as "Authorization: Bearer <token>", or as ?token= on WebSocket URLs.

--role takes driver, rider (user is the same role: the feed of a rider is
/ws/user/{id}), or dispatcher (no feed; it may list drivers near a point with
GET /drivers/nearby). A secret taxi serve would refuse (shorter than 16 bytes)
is refused here too.`,
		Example: `  export TAXI_AUTH_SECRET=change-me-to-32-random-bytes
  taxi token --role driver --sub d42
  taxi token --role rider --sub u7 --ttl 15m
  taxi token --role dispatcher --sub ops1`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, err := applyEnv(cmd)
			if err != nil {
				return err
			}
			opts.sources = src
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return tokenRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.secret, "auth-secret", "", "HS256 secret shared with taxi serve")
	f.StringVar(&opts.role, "role", "", roleWords)
	f.StringVar(&opts.sub, "sub", "", "the driver, rider or dispatcher id the token is for")
	f.DurationVar(&opts.ttl, "ttl", time.Hour, "how long the token stays valid")
	bindEnv(f, "auth-secret")
	return cmd
}

// tokenRun prints one token on IO.Out.
func tokenRun(_ context.Context, opts *tokenOptions) error {
	if opts.secret == "" {
		return usageError(errors.New("no secret: set --auth-secret or TAXI_AUTH_SECRET"))
	}
	if err := checkSecret(opts.secret); err != nil {
		return usageError(fmt.Errorf("%s: %w", opts.sources.name("auth-secret"), err))
	}
	role, err := parseRole(opts.role)
	if err != nil {
		return usageError(fmt.Errorf("--role: %w", err))
	}
	if opts.ttl <= 0 {
		return usageError(errors.New("--ttl must be positive"))
	}
	tok, err := contract.NewToken(opts.secret, role, opts.sub, opts.ttl)
	if err != nil {
		return usageError(err)
	}
	_, err = fmt.Fprintln(opts.IO.Out, tok)
	return err
}
