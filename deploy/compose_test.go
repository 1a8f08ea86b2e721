package deploy

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// loadCompose loads compose.yaml as `docker compose config` does: schema
// validation, interpolation of env, extension and merge keys resolved.
func loadCompose(t *testing.T, env ...string) (*types.Project, error) {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{"compose.yaml"},
		cli.WithName("taxi"), cli.WithEnv(env), cli.WithResolvedPaths(true))
	if err != nil {
		t.Fatalf("compose options: %v", err)
	}
	return opts.LoadProject(context.Background())
}

// TestComposeNeedsSecret checks the compose file refuses to start the
// nodes without an auth secret rather than starting them insecure.
func TestComposeNeedsSecret(t *testing.T) {
	t.Parallel()
	_, err := loadCompose(t)
	if err == nil || !strings.Contains(err.Error(), "TAXI_AUTH_SECRET") {
		t.Fatalf("compose.yaml without TAXI_AUTH_SECRET: err %v, want one naming TAXI_AUTH_SECRET", err)
	}
}

// TestCompose checks the compose file's nodes against the image and taxi
// serve: built from the Dockerfile, run as its user with a read-only root,
// given only variables serve reads, stopped no sooner than their shutdown
// takes, on the Redis service, and reached by nginx with the production
// locations.
func TestCompose(t *testing.T) {
	t.Parallel()
	p, err := loadCompose(t, "TAXI_AUTH_SECRET=0123456789abcdef0123")
	if err != nil {
		t.Fatalf("load compose.yaml: %v", err)
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range p.Services {
			if !yield(n) {
				return
			}
		}
	})
	if want := []string{"nginx", "redis", "taxi-a", "taxi-b"}; !slices.Equal(names, want) {
		t.Fatalf("services %v, want %v", names, want)
	}
	root := repoRoot(t)
	stage, _ := finalStage(t)
	var upstreams []string
	for _, name := range []string{"taxi-a", "taxi-b"} {
		s := p.Services[name]
		env := map[string]string{}
		for k, v := range s.Environment {
			if v != nil {
				env[k] = *v
			}
		}
		checkEnvNames(t, "compose.yaml "+name, env)
		if s.Build == nil || s.Build.Context != root || s.Build.Dockerfile != "Dockerfile" {
			t.Errorf("%s: build %+v, want the Dockerfile at the repository's top", name, s.Build)
		}
		if !s.ReadOnly || !slices.Contains(stage, "USER "+s.User) {
			t.Errorf("%s: read_only %v, user %q: want a read-only root and the image's user", name, s.ReadOnly, s.User)
		}
		drain := duration(t, "TAXI_DRAIN_DELAY", env["TAXI_DRAIN_DELAY"])
		shutdown := duration(t, "TAXI_SHUTDOWN_TIMEOUT", env["TAXI_SHUTDOWN_TIMEOUT"])
		if drain <= 0 || drain >= shutdown {
			t.Errorf("%s: TAXI_DRAIN_DELAY %v must be positive and shorter than TAXI_SHUTDOWN_TIMEOUT %v", name, drain, shutdown)
		}
		if s.StopGracePeriod == nil || time.Duration(*s.StopGracePeriod) < shutdown+2*time.Second {
			t.Errorf("%s: stop_grace_period %v is shorter than TAXI_SHUTDOWN_TIMEOUT %v + 2s", name, s.StopGracePeriod, shutdown)
		}
		if env["TAXI_NODE_ID"] != name {
			t.Errorf("%s: TAXI_NODE_ID %q, want the service name", name, env["TAXI_NODE_ID"])
		}
		_, port, err := net.SplitHostPort(env["TAXI_ADDR"])
		if err != nil {
			t.Fatalf("%s: TAXI_ADDR %q: %v", name, env["TAXI_ADDR"], err)
		}
		if adv := env["TAXI_ADVERTISE_URL"]; adv != fmt.Sprintf("http://%s:%s", name, port) {
			t.Errorf("%s: TAXI_ADVERTISE_URL %q, want http://%s:%s", name, adv, name, port)
		}
		upstreams = append(upstreams, name+":"+port)
		u, err := url.Parse(env["REDIS_URL"])
		if err != nil {
			t.Fatalf("%s: REDIS_URL: %v", name, err)
		}
		redis, ok := p.Services[u.Hostname()]
		if !ok || redis.HealthCheck == nil {
			t.Errorf("%s: REDIS_URL host %q is not a service with a health check", name, u.Hostname())
		}
		if d, ok := s.DependsOn[u.Hostname()]; !ok || d.Condition != types.ServiceConditionHealthy {
			t.Errorf("%s: does not wait for %s to be healthy", name, u.Hostname())
		}
	}

	// nginx: the compose upstreams are the nodes, and the locations file
	// it includes is the production one.
	mounts := map[string]string{}
	for _, v := range p.Services["nginx"].Volumes {
		if _, err := os.Stat(v.Source); err != nil {
			t.Errorf("nginx mounts %s: %v", v.Source, err)
		}
		mounts[v.Target] = v.Source
	}
	site, err := os.ReadFile(mounts["/etc/nginx/conf.d/default.conf"])
	if err != nil {
		t.Fatalf("nginx site: %v", err)
	}
	var servers []string
	for _, m := range regexp.MustCompile(`(?m)^\s*server (\S+?)[ ;]`).FindAllSubmatch(site, -1) {
		servers = append(servers, string(m[1]))
	}
	if !slices.Equal(servers, upstreams) {
		t.Errorf("nginx upstream servers %v, want the nodes %v", servers, upstreams)
	}
	locations := filepath.Join(root, "scripts", "deploy", "taxi-locations.conf")
	for file, b := range map[string][]byte{"deploy/nginx/compose.conf": site, "scripts/deploy/nginx.conf": mustRead(t, filepath.Join(root, "scripts", "deploy", "nginx.conf"))} {
		m := regexp.MustCompile(`include (\S+);`).FindSubmatch(b)
		if m == nil || mounts[string(m[1])] != locations {
			t.Errorf("%s does not include the locations that compose mounts from scripts/deploy/taxi-locations.conf (%q)", file, m)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
