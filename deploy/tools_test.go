package deploy

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/taxi-hub/taxi/internal/taxibuild"
	"go.uber.org/goleak"
)

// repoRoot is the repository's top directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	return taxibuild.Root(t)
}

// requireTool returns the path of an external tool. Without it the test is
// skipped, except under CI (CI set) when required: CI installs it with
// scripts/install-test-deps.sh, so a missing one there is a failure.
func requireTool(t testing.TB, name string, required bool) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if required && os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed; scripts/install-test-deps.sh installs it", name)
	}
	t.Skipf("%s is not installed (scripts/install-test-deps.sh installs it)", name)
	return ""
}

// TestMain removes the built binary and, after passing tests, fails on
// goroutines left running (the in-process hub's, the image's hub waiter).
func TestMain(m *testing.M) {
	code := m.Run()
	taxibuild.Remove()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goroutines left running: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// TestBinaryIsStatic checks that the Dockerfile's build gives a binary that
// needs no C library, as distroless/static and scratch images require, and
// carries the version and commit it was given.
func TestBinaryIsStatic(t *testing.T) {
	t.Parallel()
	bin := taxibuild.Binary(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("open %s: %v", bin, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the binary has a program interpreter: it is dynamically linked")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Fatalf("the binary needs shared libraries %v", libs)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("taxi version: %v\n%s", err, out)
	}
	for _, want := range []string{taxibuild.Version, taxibuild.Commit} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("taxi version does not show %q:\n%s", want, out)
		}
	}
}

// serveEnv returns the environment variables `taxi serve --help` names as
// "(env NAME", one for each flag.
func serveEnv(t testing.TB) map[string]bool {
	t.Helper()
	out, err := exec.Command(taxibuild.Binary(t), "serve", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("taxi serve --help: %v\n%s", err, out)
	}
	names := map[string]bool{}
	for _, m := range regexp.MustCompile(`\(env ([A-Z0-9_]+)`).FindAllSubmatch(out, -1) {
		names[string(m[1])] = true
	}
	if len(names) < 10 || !names["TAXI_ADDR"] || !names["REDIS_URL"] {
		t.Fatalf("taxi serve --help names too few environment variables (%v):\n%s", names, out)
	}
	return names
}

// runtimeEnv are variables the Go runtime reads rather than a flag.
var runtimeEnv = map[string]bool{"GOMEMLIMIT": true, "GOGC": true, "GOMAXPROCS": true, "GODEBUG": true}

// checkEnvNames fails for every variable in env that neither `taxi serve`
// nor the Go runtime reads, unless another value refers to it as $(NAME)
// (Kubernetes' dependent variables).
func checkEnvNames(t *testing.T, where string, env map[string]string) {
	t.Helper()
	known := serveEnv(t)
	var refs strings.Builder
	for _, v := range env {
		refs.WriteString(v)
	}
	for name := range env {
		switch {
		case known[name], runtimeEnv[name]:
		case strings.Contains(refs.String(), "$("+name+")"):
		default:
			t.Errorf("%s sets %s, which taxi serve does not read (taxi serve --help names its variables)", where, name)
		}
	}
}
