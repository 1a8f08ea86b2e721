package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/taxi-hub/taxi/server"
)

// claimsOf decodes a JWT's payload without checking it.
func claimsOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(strings.TrimSpace(tok), ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a JWT", tok)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTokenRun(t *testing.T) {
	t.Parallel()
	ios, out, _ := testIO("")
	opts := &tokenOptions{IO: ios, secret: "a-secret-of-16-bytes!", role: "driver", sub: "d42", ttl: time.Minute}
	if err := tokenRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if c := claimsOf(t, out.String()); c["role"] != "driver" || c["sub"] != "d42" {
		t.Fatalf("claims %v", c)
	}
	opts.role = "admin"
	if err := tokenRun(context.Background(), opts); exitCode(err) != 2 || !strings.Contains(err.Error(), "rider") {
		t.Fatalf("role admin: %v, want exit 2 naming the roles", err)
	}
}

// rider and user are one role, in every command that takes a role.
func TestRoleVocabulary(t *testing.T) {
	for _, word := range []string{"rider", "user"} {
		if r, err := parseRole(word); err != nil || r != server.RoleUser {
			t.Errorf("parseRole(%q) = %q, %v; want the rider role %q", word, r, err, server.RoleUser)
		}
		t.Setenv("TAXI_AUTH_SECRET", "a-secret-of-16-bytes!")
		ios, out, errOut := testIO("")
		if code := run(context.Background(), ios, []string{"token", "--role", word, "--sub", "u7"}); code != 0 {
			t.Fatalf("token --role %s: exit %d: %s", word, code, errOut)
		}
		if c := claimsOf(t, out.String()); c["role"] != string(server.RoleUser) {
			t.Errorf("token --role %s carries role %v", word, c["role"])
		}
		var got *feedOptions
		cmd := newCmdFeed(ios, func(_ context.Context, o *feedOptions) error { got = o; return nil })
		cmd.SetArgs([]string{word, "u7"})
		if err := cmd.Execute(); err != nil || got.role != server.RoleUser {
			t.Errorf("feed %s: %v, role %v", word, err, got)
		}
	}
	if _, err := parseRole("passenger"); err == nil {
		t.Error("passenger accepted as a role")
	}
}

// A dispatcher gets a token, and no feed.
func TestDispatcherRole(t *testing.T) {
	t.Setenv("TAXI_AUTH_SECRET", "a-secret-of-16-bytes!")
	ios, out, errOut := testIO("")
	if code := run(context.Background(), ios, []string{"token", "--role", "dispatcher", "--sub", "ops1"}); code != 0 {
		t.Fatalf("token --role dispatcher: exit %d: %s", code, errOut)
	}
	if c := claimsOf(t, out.String()); c["role"] != string(server.RoleDispatcher) || c["sub"] != "ops1" {
		t.Errorf("a dispatcher's token carries %v", c)
	}
	cmd := newCmdFeed(ios, func(context.Context, *feedOptions) error { return nil })
	cmd.SetArgs([]string{"dispatcher", "ops1"})
	if err := cmd.Execute(); exitCode(err) != 2 || !strings.Contains(err.Error(), "no feed") {
		t.Errorf("feed dispatcher: %v, want a usage error", err)
	}
}

// taxi token refuses the secrets taxi serve refuses, and mints with the
// shortest one it accepts.
func TestSecretFloorMatchesServe(t *testing.T) {
	short, enough := strings.Repeat("s", minSecretLen-1), strings.Repeat("s", minSecretLen)
	if _, err := server.New(server.Config{AuthSecret: short}); err == nil {
		t.Fatalf("taxi serve accepts a %d-byte secret: minSecretLen is out of date", len(short))
	}
	if _, err := server.New(server.Config{AuthSecret: enough}); err != nil {
		t.Fatalf("taxi serve refuses a %d-byte secret (%v): minSecretLen is out of date", len(enough), err)
	}

	t.Setenv("TAXI_AUTH_SECRET", short)
	ios, out, errOut := testIO("")
	code := run(context.Background(), ios, []string{"token", "--role", "driver", "--sub", "d1"})
	if code != 2 || out.String() != "" || !strings.Contains(errOut.String(), "TAXI_AUTH_SECRET: auth secret is 15 bytes; taxi serve needs at least 16") {
		t.Fatalf("short secret: exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
	ios, _, errOut = testIO("")
	if code := run(context.Background(), ios, []string{"token", "--role", "driver", "--sub", "d1", "--auth-secret", enough}); code != 0 {
		t.Fatalf("%d-byte secret: exit %d: %s", len(enough), code, errOut)
	}
}
