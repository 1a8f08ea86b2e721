package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/spf13/cobra"
	"github.com/taxi-hub/taxi/server"
)

type feedOptions struct {
	url    string
	role   server.Role
	id     string
	token  string
	secret string
	in     io.Reader
	out    io.Writer
}

func newFeedCmd() *cobra.Command {
	opts := &feedOptions{}
	cmd := &cobra.Command{
		Use:   "feed driver|user ID",
		Short: "Open a driver's or rider's feed and print its frames",
		Long: `Open the WebSocket feed of one driver or rider on a hub, print every frame
it receives as one line of JSON, and send every line typed on standard input
as a frame. A quick way to watch a hub or to accept an order by hand.`,
		Example: `  taxi feed driver d42
  echo '{"type":"accept_order","message":{"order_id":"9f1c..."}}' | taxi feed driver d42
  taxi feed user u7 --url http://hub.internal:8080 --auth-secret "$TAXI_AUTH_SECRET"`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch args[0] {
			case "driver":
				opts.role = server.RoleDriver
			case "user", "rider":
				opts.role = server.RoleUser
			default:
				return usageError(fmt.Errorf("feed %q: want driver or user", args[0]))
			}
			if !server.ValidID(args[1]) {
				return usageError(fmt.Errorf("id %q must be 1 to 64 characters of [A-Za-z0-9_-]", args[1]))
			}
			opts.id = args[1]
			opts.in, opts.out = cmd.InOrStdin(), cmd.OutOrStdout()
			secretFromEnv(cmd, "auth-secret", "TAXI_AUTH_SECRET", &opts.secret)
			return feedRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.url, "url", "http://127.0.0.1:8080", "the hub's base URL")
	f.StringVar(&opts.token, "token", "", "client token to send; minted from --auth-secret when empty")
	f.StringVar(&opts.secret, "auth-secret", "", "the hub's HS256 secret, to mint a token (env TAXI_AUTH_SECRET)")
	return cmd
}

// feedRun prints the feed's frames until the hub closes it or ctx ends, while
// sending each input line as a frame.
func feedRun(ctx context.Context, opts *feedOptions) error {
	base := strings.TrimSuffix(opts.url, "/")
	switch {
	case strings.HasPrefix(base, "http://"):
		base = "ws://" + strings.TrimPrefix(base, "http://")
	case strings.HasPrefix(base, "https://"):
		base = "wss://" + strings.TrimPrefix(base, "https://")
	}
	hdr := http.Header{}
	tok := opts.token
	if tok == "" && opts.secret != "" {
		var err error
		if tok, err = server.NewToken(opts.secret, opts.role, opts.id, time.Hour); err != nil {
			return usageError(err)
		}
	}
	if tok != "" {
		hdr.Set("Authorization", "Bearer "+tok)
	}
	url := fmt.Sprintf("%s/ws/%s/%s", base, opts.role, opts.id)
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, resp, err := websocket.Dial(dctx, url, &websocket.DialOptions{HTTPHeader: hdr})
	cancel()
	if err != nil {
		if resp != nil {
			return fmt.Errorf("open %s: %s: %w", url, resp.Status, err)
		}
		return fmt.Errorf("open %s: %w", url, err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(64 << 20)

	// The sender goroutine exits when input ends or a write fails; a closed
	// connection fails its next write.
	go func() {
		sc := bufio.NewScanner(opts.in)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" {
				continue
			}
			if err := conn.Write(ctx, websocket.MessageText, []byte(line)); err != nil {
				return
			}
		}
	}()
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				_ = conn.Close(websocket.StatusNormalClosure, "")
				return nil
			}
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				fmt.Fprintf(opts.out, "closed: %d %s\n", ce.Code, ce.Reason)
				return nil
			}
			return fmt.Errorf("read %s: %w", url, err)
		}
		fmt.Fprintln(opts.out, string(data))
	}
}
