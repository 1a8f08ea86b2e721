package main

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// envAnnotation marks a flag that an environment variable sets when the
// command line does not.
const envAnnotation = "taxi_env"

// envName is the variable that sets flag: TAXI_ and the flag's name in
// capitals (--max-conns is TAXI_MAX_CONNS), except --redis-url, which is
// REDIS_URL as everywhere else.
func envName(flag string) string {
	if flag == "redis-url" {
		return "REDIS_URL"
	}
	return "TAXI_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// bindEnv lets the environment set the named flags of f (see envName) and
// says so in their help. The values are read when the command runs, by
// applyEnv, so --help never prints them: some hold secrets.
func bindEnv(f *pflag.FlagSet, names ...string) {
	for _, name := range names {
		fl := f.Lookup(name)
		if fl == nil {
			panic("bindEnv: no flag --" + name)
		}
		key := envName(name)
		fl.Usage += " (env " + key + ")"
		_ = f.SetAnnotation(name, envAnnotation, []string{key})
	}
}

// envSources maps the name of each flag the environment set to the
// variable that set it.
type envSources map[string]string

// name is how messages call the setting behind flag: the variable when the
// environment set it, else --flag.
func (s envSources) name(flag string) string {
	if key, ok := s[flag]; ok {
		return key
	}
	return "--" + flag
}

// applyEnv sets each flag of cmd bound with bindEnv, and not given on the
// command line, from its non-empty environment variable, parsed as the flag
// parses its argument. A malformed value is a usage error naming the
// variable and what a valid value looks like; every malformed variable is
// reported at once.
func applyEnv(cmd *cobra.Command) (envSources, error) {
	src := envSources{}
	var errs []error
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		keys := fl.Annotations[envAnnotation]
		if len(keys) == 0 || fl.Changed {
			return
		}
		v, ok := os.LookupEnv(keys[0])
		if !ok || v == "" {
			return
		}
		if err := fl.Value.Set(v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %s", keys[0], v, wantValue(fl.Value.Type())))
			return
		}
		src[fl.Name] = keys[0]
	})
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	if err := errors.Join(errs...); err != nil {
		return nil, usageError(err)
	}
	return src, nil
}

// wantValue describes a valid value of a flag type.
func wantValue(typ string) string {
	switch typ {
	case "int", "int64":
		return "want a whole number"
	case "float64":
		return "want a number"
	case "bool":
		return "want true or false"
	case "duration":
		return "want a duration with a unit, such as 25s, 500ms or 1m30s"
	}
	return "want a " + typ
}
