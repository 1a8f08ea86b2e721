package taxibuild

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// The version and commit the binary is stamped with, as the Dockerfile's
// VERSION and COMMIT build arguments.
const (
	Version = "v0.0.0-taxibuild"
	Commit  = "taxibuild0"
)

var (
	once sync.Once
	dir  string
	err  error
	out  []byte
)

// dockerfileBuild matches the build stage's RUN line that compiles taxi,
// continued over two lines.
var dockerfileBuild = regexp.MustCompile(`(?m)^RUN (CGO_ENABLED=0 [^\n]*?)\\\n\s+(make build [^\n]+)$`)

// Root returns the repository's top directory: the nearest parent of the
// working directory with a go.mod.
func Root(t testing.TB) string {
	t.Helper()
	d, err := os.Getwd()
	if err != nil {
		t.Fatalf("working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			t.Fatal("no go.mod above the working directory")
		}
		d = parent
	}
}

// Binary returns the path of a taxi binary built as the Dockerfile builds
// it, building it on the first call. The test fails when the build does.
func Binary(t testing.TB) string {
	t.Helper()
	root := Root(t)
	once.Do(func() { err = build(root) })
	if err != nil {
		t.Fatalf("build taxi as the Dockerfile does: %v\n%s", err, out)
	}
	return filepath.Join(dir, "taxi")
}

func build(root string) error {
	df, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		return err
	}
	m := dockerfileBuild.FindSubmatch(df)
	if m == nil {
		return errors.New("no `RUN CGO_ENABLED=0 ... make build` line in the Dockerfile")
	}
	if dir, err = os.MkdirTemp("", "taxibuild-"); err != nil {
		return err
	}
	context := filepath.Join(dir, "context")
	if err := copyContext(root, context); err != nil {
		return fmt.Errorf("build context: %w", err)
	}
	line := strings.ReplaceAll(string(m[1])+string(m[2]), "/out/taxi", filepath.Join(dir, "taxi"))
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir = context
	cmd.Env = append(os.Environ(), "VERSION="+Version, "COMMIT="+Commit)
	if out, err = cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w", line, err)
	}
	return nil
}

// copyContext copies the repository at root to dst as a container build
// would send it: without what .dockerignore leaves out (with the same
// pattern matcher as Docker), so a build that needs an ignored file fails
// here too.
func copyContext(root, dst string) error {
	f, err := os.Open(filepath.Join(root, ".dockerignore"))
	if err != nil {
		return err
	}
	patterns, err := ignorefile.ReadAll(f)
	_ = f.Close()
	if err != nil {
		return fmt.Errorf("read .dockerignore: %w", err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return fmt.Errorf(".dockerignore: %w", err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || rel == "." {
			return err
		}
		ignored, err := pm.MatchesOrParentMatches(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		switch {
		case ignored && d.IsDir() && !pm.Exclusions():
			return filepath.SkipDir
		case ignored:
			return nil
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		case !d.Type().IsRegular():
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, info.Mode().Perm())
	})
}

// Remove deletes the built binary; TestMain calls it after the tests.
func Remove() {
	if dir != "" {
		_ = os.RemoveAll(dir)
	}
}
