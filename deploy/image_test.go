package deploy

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taxi-hub/taxi/internal/eventually"
	"github.com/taxi-hub/taxi/internal/hubtest"
	"github.com/taxi-hub/taxi/internal/taxibuild"
)

// finalStage returns the lines of the Dockerfile's last stage, from its
// FROM line on, and the whole file.
func finalStage(t *testing.T) (stage []string, dockerfile string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "Dockerfile"))
	if err != nil {
		t.Fatalf("read Dockerfile: %v", err)
	}
	lines := strings.Split(string(b), "\n")
	last := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "FROM ") {
			last = i
		}
	}
	if last < 0 {
		t.Fatal("Dockerfile has no FROM")
	}
	return lines[last:], string(b)
}

// TestDockerfile checks what the image promises without building it: a
// distroless static base by default, a non-root user, the hub's port, no
// HEALTHCHECK (Kubernetes probes /healthz and /readyz).
func TestDockerfile(t *testing.T) {
	t.Parallel()
	stage, df := finalStage(t)
	if m := regexp.MustCompile(`(?m)^ARG BASE_IMAGE=(\S+)$`).FindStringSubmatch(df); m == nil ||
		!strings.Contains(m[1], "distroless/static") || !strings.HasSuffix(m[1], ":nonroot") {
		t.Errorf("the default final image is not distroless/static:nonroot: %v", m)
	}
	if stage[0] != "FROM ${BASE_IMAGE}" {
		t.Errorf("the final stage starts %q, want FROM ${BASE_IMAGE}", stage[0])
	}
	if regexp.MustCompile(`(?m)^HEALTHCHECK`).MatchString(df) {
		t.Error("the Dockerfile has a HEALTHCHECK; the probes belong to the orchestrator")
	}
	if !strings.Contains(df, "make build") || !strings.Contains(df, "CGO_ENABLED=0") {
		t.Error("the build stage does not run `make build` with CGO_ENABLED=0")
	}
}

// TestImage builds the Dockerfile's final stage with buildah on an empty
// base (FROM scratch, the statically built binary in place of the build
// stage's), so nothing is pulled, then checks the image's configuration
// and runs the hub inside it: it must become ready and export the version
// and commit it was built with.
func TestImage(t *testing.T) {
	t.Parallel()
	buildah := requireTool(t, "buildah", false)
	if os.Geteuid() != 0 {
		t.Skip("buildah runs here as root only")
	}
	bin := taxibuild.Binary(t)
	stage, _ := finalStage(t)

	ctx := t.TempDir()
	var cf strings.Builder
	cf.WriteString("FROM scratch\n")
	for _, l := range stage[1:] {
		if rest, ok := strings.CutPrefix(l, "COPY --from=build /out/taxi "); ok {
			l = "COPY taxi " + rest
		} else if strings.HasPrefix(l, "COPY") || strings.HasPrefix(l, "RUN") {
			t.Fatalf("the final stage has %q, which an empty base cannot reproduce", l)
		}
		cf.WriteString(l + "\n")
	}
	if err := os.WriteFile(filepath.Join(ctx, "Containerfile"), []byte(cf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := copyFile(bin, filepath.Join(ctx, "taxi")); err != nil {
		t.Fatal(err)
	}

	store := t.TempDir()
	bh := func(args ...string) *exec.Cmd {
		all := append([]string{"--root", filepath.Join(store, "root"), "--runroot", filepath.Join(store, "run"), "--storage-driver", "vfs"}, args...)
		return exec.Command(buildah, all...)
	}
	run := func(args ...string) string {
		t.Helper()
		out, err := bh(args...).CombinedOutput()
		if err != nil {
			t.Fatalf("buildah %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	const image = "localhost/taxi:deploytest"
	run("bud", "--isolation", "chroot", "--quiet", "-t", image, "-f", filepath.Join(ctx, "Containerfile"), ctx)
	t.Cleanup(func() { _ = bh("rmi", "--all", "--force").Run() })

	var inspect struct {
		OCIv1 struct {
			Config struct {
				User         string
				ExposedPorts map[string]struct{}
				Env          []string
				Entrypoint   []string
				Cmd          []string
			} `json:"config"`
		}
	}
	if err := json.Unmarshal([]byte(run("inspect", "--type", "image", image)), &inspect); err != nil {
		t.Fatalf("decode buildah inspect: %v", err)
	}
	c := inspect.OCIv1.Config
	if uid, _, _ := strings.Cut(c.User, ":"); uid == "" || uid == "0" || uid == "root" {
		t.Errorf("image user %q: want a non-root numeric user", c.User)
	}
	if _, ok := c.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("image exposes %v, want 8080/tcp", c.ExposedPorts)
	}
	if !slices.Contains(c.Env, "TAXI_ADDR=0.0.0.0:8080") {
		t.Errorf("image environment %v: want TAXI_ADDR=0.0.0.0:8080, the exposed port on every interface", c.Env)
	}
	if strings.Join(c.Entrypoint, " ") != "/usr/local/bin/taxi" || strings.Join(c.Cmd, " ") != "serve" {
		t.Errorf("image runs %v %v, want /usr/local/bin/taxi serve", c.Entrypoint, c.Cmd)
	}

	ctr := run("from", "--quiet", image)
	t.Cleanup(func() { _ = bh("rm", ctr).Run() })
	addr := hubtest.FreeAddr(t)
	hub := bh("run", "--isolation", "chroot", ctr, "--", "/usr/local/bin/taxi", "serve", "--insecure", "--memory", "--addr", addr)
	var log strings.Builder
	hub.Stdout, hub.Stderr = &log, &log
	if err := hub.Start(); err != nil {
		t.Fatalf("buildah run: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- hub.Wait() }()
	t.Cleanup(func() {
		_ = hub.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = hub.Process.Kill()
			<-exited
		}
	})

	base := "http://" + addr
	eventually.Check(t, 30*time.Second, func() error {
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("the hub in the image exited: %v\n%s", err, log.String())
		default:
		}
		return hubtest.Ready(base)
	})
	metrics, err := get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`taxi_build_info{commit=%q,goversion=`, taxibuild.Commit)
	if !strings.Contains(metrics, want) || !strings.Contains(metrics, fmt.Sprintf(`version=%q} 1`, taxibuild.Version)) {
		t.Errorf("the image's hub does not export its build (%s ... version=%q):\n%s", want, taxibuild.Version, grepLines(metrics, "taxi_build_info"))
	}
}

// get returns the body of a 200 answer to GET url.
func get(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(b), nil
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o755)
}

func grepLines(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
