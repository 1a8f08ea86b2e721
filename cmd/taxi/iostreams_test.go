package main

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is an output stream that a command's goroutines write while
// the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testIO returns streams over memory: stdin reads input, and no stream is a
// terminal (set inTTY and errTTY to test prompts).
func testIO(input string) (ios *IOStreams, stdout, stderr *syncBuffer) {
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	return &IOStreams{In: strings.NewReader(input), Out: stdout, ErrOut: stderr}, stdout, stderr
}

func TestIOStreams(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                    string
		ios                     IOStreams
		canPrompt, colorEnabled bool
	}{
		{"nothing a terminal", IOStreams{}, false, false},
		{"all terminals", IOStreams{inTTY: true, outTTY: true, errTTY: true}, true, true},
		{"NO_COLOR", IOStreams{inTTY: true, outTTY: true, errTTY: true, noColor: true}, true, false},
		// A pipe on stdout takes no colour, and prompts still work.
		{"piped stdout", IOStreams{inTTY: true, errTTY: true}, true, false},
		// Answers cannot be typed into a pipe.
		{"piped stdin", IOStreams{outTTY: true, errTTY: true}, false, true},
	} {
		if got := tc.ios.CanPrompt(); got != tc.canPrompt {
			t.Errorf("%s: CanPrompt %v, want %v", tc.name, got, tc.canPrompt)
		}
		if got := tc.ios.ColorEnabled(); got != tc.colorEnabled {
			t.Errorf("%s: ColorEnabled %v, want %v", tc.name, got, tc.colorEnabled)
		}
	}
}

// Under go test no standard stream is a terminal, and a regular file never
// is.
func TestSystemIOIsNoTerminalUnderTest(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Error("a regular file is a terminal")
	}
	t.Setenv("NO_COLOR", "1")
	if s := systemIO(); !s.noColor || s.ColorEnabled() {
		t.Errorf("NO_COLOR ignored: %+v", s)
	}
}
