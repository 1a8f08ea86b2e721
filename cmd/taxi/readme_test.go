package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// TestReadmeFlagTableMatchesServe keeps the README's configuration table and
// taxi serve's flags in step: every flag the table names exists, with the
// environment variable the table gives, and every flag of taxi serve is in
// the table. Defaults the table states in the flag's own words must match.
func TestReadmeFlagTableMatchesServe(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	ios, _, _ := testIO("")
	flags := newCmdServe(ios, nil).Flags()
	row := regexp.MustCompile("^\\| (`--[^|]+) \\| (`[A-Z_]+`[^|]*) \\| ([^|]+) \\|")
	cell := regexp.MustCompile("`([^`]+)`")
	listed := map[string]bool{}
	for _, line := range strings.Split(string(raw), "\n") {
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		names, envs := cell.FindAllStringSubmatch(m[1], -1), cell.FindAllStringSubmatch(m[2], -1)
		defaults := strings.Split(m[3], ",")
		if len(names) != len(envs) {
			t.Errorf("README row %q: %d flags, %d variables", line, len(names), len(envs))
			continue
		}
		for i, n := range names {
			name := strings.TrimPrefix(n[1], "--")
			listed[name] = true
			fl := flags.Lookup(name)
			if fl == nil {
				t.Errorf("README lists --%s, which taxi serve does not have", name)
				continue
			}
			if got := envName(name); got != envs[i][1] {
				t.Errorf("README gives --%s the variable %s, taxi serve reads %s", name, envs[i][1], got)
			}
			if len(defaults) == len(names) {
				want := strings.Trim(strings.TrimSpace(defaults[i]), "`")
				if want == fl.DefValue || strings.TrimSuffix(want, "/s") == fl.DefValue {
					continue
				}
				if a, err1 := time.ParseDuration(want); err1 == nil {
					if b, err2 := time.ParseDuration(fl.DefValue); err2 == nil && a == b {
						continue
					}
				}
				if strings.ContainsAny(want[:1], "0123456789") && !strings.Contains(want, " ") {
					t.Errorf("README gives --%s the default %q, taxi serve has %q", name, want, fl.DefValue)
				}
			}
		}
	}
	flags.VisitAll(func(fl *pflag.Flag) {
		if !listed[fl.Name] && fl.Name != "help" {
			t.Errorf("taxi serve --%s is not in the README's configuration table", fl.Name)
		}
	})
}
