package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	t.Parallel()
	ios, out, _ := testIO("")
	if err := versionRun(context.Background(), &versionOptions{IO: ios}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"taxi ", "commit ", "go1."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("version output %q lacks %q", out.String(), want)
		}
	}

	// taxi --version prints the same as taxi version.
	ios, flagOut, _ := testIO("")
	if code := run(context.Background(), ios, []string{"--version"}); code != 0 || flagOut.String() != out.String() {
		t.Errorf("taxi --version: exit %d, output %q, want 0 and %q", code, flagOut.String(), out.String())
	}

	ios, out, _ = testIO("")
	if code := run(context.Background(), ios, []string{"version", "--json"}); code != 0 {
		t.Fatalf("taxi version --json: exit %d", code)
	}
	var v versionInfo
	if err := json.Unmarshal([]byte(out.String()), &v); err != nil || v.Version == "" || v.Commit == "" || !strings.HasPrefix(v.Go, "go1.") || v.OS == "" || v.Arch == "" {
		t.Errorf("taxi version --json: %q (%v)", out.String(), err)
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"--help"}, 0},
		{[]string{"version"}, 0},
		{[]string{"completion", "bash"}, 0},
		{[]string{"nonsense"}, 2},
		{[]string{"serve", "--bogus-flag"}, 2},
		{[]string{"version", "extra"}, 2},
		{[]string{"token", "--role", "driver", "--sub", "d1"}, 2}, // no secret
		{[]string{"serve", "--memory"}, 2},                        // no secret, not --insecure
		{[]string{"feed", "driver"}, 2},
		{[]string{"lock", "show"}, 2},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Setenv("TAXI_AUTH_SECRET", "")
			ios, _, errOut := testIO("")
			if got := run(context.Background(), ios, tt.args); got != tt.want {
				t.Fatalf("exit %d, want %d; stderr:\n%s", got, tt.want, errOut)
			}
		})
	}
}

// Errors are one line on stderr, prefixed taxi:, and a silent exit code
// prints nothing.
func TestRunPrintsErrorsOnce(t *testing.T) {
	t.Parallel()
	ios, out, errOut := testIO("")
	if code := run(context.Background(), ios, []string{"nonsense"}); code != 2 {
		t.Fatalf("exit %d", code)
	}
	if got := errOut.String(); !strings.HasPrefix(got, "taxi: unknown command") || strings.Count(got, "\n") != 1 || out.String() != "" {
		t.Errorf("stderr %q, stdout %q", got, out.String())
	}
	if err := withExitCode(1, nil); exitCode(err) != 1 || exitCode(nil) != 0 {
		t.Errorf("exit codes %d and %d", exitCode(err), exitCode(nil))
	}
}

func TestCompletionIsOffered(t *testing.T) {
	t.Parallel()
	ios, out, _ := testIO("")
	if code := run(context.Background(), ios, []string{"completion", "zsh"}); code != 0 || !strings.Contains(out.String(), "compdef") {
		t.Fatalf("completion zsh: exit %d\n%.200s", code, out.String())
	}
}
