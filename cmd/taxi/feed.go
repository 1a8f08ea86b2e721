package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/taxi-hub/taxi/contract"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/spf13/cobra"
	"github.com/taxi-hub/taxi/server"
)

// defaultFeedLinger is how long taxi feed keeps printing after its input
// ends: long enough for the hub's answers to the frames just sent.
const defaultFeedLinger = time.Second

// feedOptions is what taxi feed's arguments and flags fill in.
type feedOptions struct {
	IO     *IOStreams
	url    string
	role   server.Role
	id     string
	token  string
	secret string
	// linger is how long frames are still printed after the input ends,
	// before the feed closes.
	linger time.Duration
	// sources names the settings the environment gave, for messages.
	sources envSources
}

func newCmdFeed(io *IOStreams, runF func(context.Context, *feedOptions) error) *cobra.Command {
	opts := &feedOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "feed driver|rider ID",
		Short: "Open a driver's or rider's feed and print its frames",
		Long: `Open the WebSocket feed of one driver or rider on a hub, print every frame
it receives as one line of JSON, and send every line read on standard input
as a frame. A quick way to watch a hub or to accept an order by hand.

The role is driver, or rider (user is the same role). When standard input
ends (a pipe or file is used up, or Ctrl-D), taxi feed keeps printing frames
for --linger (1s by default: the hub's answers to what was just sent), then
closes the feed with a normal close and exits 0. It also exits when the hub
closes the feed (printing "closed: CODE REASON") or on Ctrl-C. To watch a
feed from a script without sending anything, keep its input open, e.g.
"sleep infinity | taxi feed driver d42".`,
		Example: `  taxi feed driver d42
  echo '{"type":"accept_order","message":{"order_id":"9f1c..."}}' | taxi feed driver d42
  taxi feed rider u7 --url http://hub.internal:8080 --auth-secret "$TAXI_AUTH_SECRET"`,
		Args: usageArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			role, err := parseRole(args[0])
			if err == nil && !role.HasFeed() {
				err = fmt.Errorf("a %s has no feed: want driver, or rider (also: user)", role)
			}
			if err != nil {
				return usageError(fmt.Errorf("feed: %w", err))
			}
			opts.role = role
			if !server.ValidID(args[1]) {
				return usageError(fmt.Errorf("id %q must be 1 to 64 characters of [A-Za-z0-9_-]", args[1]))
			}
			opts.id = args[1]
			if opts.sources, err = applyEnv(cmd); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return feedRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.url, "url", "http://"+server.DefaultAddr, "the hub's base URL")
	f.StringVar(&opts.token, "token", "", "client token to send; minted from --auth-secret when empty")
	f.StringVar(&opts.secret, "auth-secret", "", "the hub's HS256 secret, to mint a token")
	f.DurationVar(&opts.linger, "linger", defaultFeedLinger, "after standard input ends, keep printing frames this long, then close; 0 closes at once")
	bindEnv(f, "auth-secret")
	return cmd
}

// feedRun prints the feed's frames while sending each input line as a
// frame, until the hub closes the feed, ctx ends, or the input ends and
// opts.linger has passed.
func feedRun(ctx context.Context, opts *feedOptions) error {
	if opts.linger < 0 {
		return usageError(errors.New("--linger must not be negative"))
	}
	hdr := http.Header{}
	tok := opts.token
	if tok == "" && opts.secret != "" {
		if err := checkSecret(opts.secret); err != nil {
			return usageError(fmt.Errorf("%s: %w", opts.sources.name("auth-secret"), err))
		}
		var err error
		if tok, err = contract.NewToken(opts.secret, opts.role, opts.id, time.Hour); err != nil {
			return usageError(err)
		}
	}
	if tok != "" {
		hdr.Set("Authorization", "Bearer "+tok)
	}
	url := fmt.Sprintf("%s/ws/%s/%s", wsBase(opts.url), opts.role, opts.id)
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

	// The sender goroutine exits when a write fails (the connection closed)
	// or, once the input has ended, after it closed the connection itself,
	// or when feedRun returns first. A read of a terminal cannot be
	// interrupted: on Ctrl-C it is left to end with the process.
	var closing atomic.Bool
	sent, stop := make(chan struct{}), make(chan struct{})
	defer close(stop)
	go func() {
		defer close(sent)
		sc := bufio.NewScanner(opts.IO.In)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" {
				continue
			}
			if err := conn.Write(ctx, websocket.MessageText, []byte(line)); err != nil {
				return
			}
		}
		t := time.NewTimer(opts.linger)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		case <-stop:
			return
		}
		closing.Store(true)
		_ = conn.Close(websocket.StatusNormalClosure, "input ended")
	}()
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			switch {
			case closing.Load():
				<-sent
				return nil
			case ctx.Err() != nil:
				_ = conn.Close(websocket.StatusNormalClosure, "")
				return nil
			}
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				fmt.Fprintf(opts.IO.Out, "closed: %d %s\n", ce.Code, ce.Reason)
				return nil
			}
			return fmt.Errorf("read %s: %w", url, err)
		}
		fmt.Fprintln(opts.IO.Out, string(data))
	}
}

// wsBase turns a hub's http(s) base URL into its ws(s) one.
func wsBase(base string) string {
	base = strings.TrimSuffix(base, "/")
	switch {
	case strings.HasPrefix(base, "http://"):
		return "ws://" + strings.TrimPrefix(base, "http://")
	case strings.HasPrefix(base, "https://"):
		return "wss://" + strings.TrimPrefix(base, "https://")
	}
	return base
}
