package main

import (
	"github.com/spf13/cobra"
	"os"
	"strconv"
	"strings"
	"time"
)

// Flag defaults read from the environment, so every flag of a long-running
// command can also be set by its deployment. A malformed value falls back to
// the built-in default; serve logs the effective configuration at start.

func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

func envInt(key string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return n
	}
	return def
}

func envFloat(key string, def float64) float64 {
	if n, err := strconv.ParseFloat(os.Getenv(key), 64); err == nil {
		return n
	}
	return def
}

func envBool(key string, def bool) bool {
	if b, err := strconv.ParseBool(os.Getenv(key)); err == nil {
		return b
	}
	return def
}

func envDuration(key string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(key)); err == nil {
		return d
	}
	return def
}

func envList(key string) []string {
	v := os.Getenv(key)
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// secretFromEnv fills *dst from the environment variable key unless the flag
// was given. Flags that carry secrets use it instead of an environment
// default, which --help would print.
func secretFromEnv(cmd *cobra.Command, flag, key string, dst *string) {
	if cmd.Flags().Changed(flag) {
		return
	}
	if v := os.Getenv(key); v != "" {
		*dst = v
	}
}
