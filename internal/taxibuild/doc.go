// Package taxibuild builds the taxi binary for tests that run it as a
// process (the container image, the scripts), the way the Dockerfile's build
// stage does: its `RUN CGO_ENABLED=0 ... make build` line, run with sh in a
// copy of the build context that .dockerignore leaves, so the tests
// exercise the image's build too. It
// builds once per test binary into a temporary directory that Remove
// deletes. It must never be imported by non-test code.
//
// Files: doc.go, taxibuild.go.
package taxibuild
