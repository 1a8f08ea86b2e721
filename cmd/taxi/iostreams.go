package main

import (
	"io"
	"os"

	"github.com/charmbracelet/x/term"
)

// IOStreams are a command's standard streams and what is known about them:
// which are terminals, and whether output may be coloured. Every command
// gets the same one from run; tests build one over buffers. Nothing else in
// taxi asks whether a stream is a terminal.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	inTTY, outTTY, errTTY bool
	// noColor is the user's wish for plain output: NO_COLOR set, or
	// TERM=dumb.
	noColor bool
}

// systemIO returns the process's standard streams.
func systemIO() *IOStreams {
	return &IOStreams{
		In:      os.Stdin,
		Out:     os.Stdout,
		ErrOut:  os.Stderr,
		inTTY:   isTerminal(os.Stdin),
		outTTY:  isTerminal(os.Stdout),
		errTTY:  isTerminal(os.Stderr),
		noColor: os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb",
	}
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool { return term.IsTerminal(f.Fd()) }

// IsStdinTTY reports whether standard input is a terminal.
func (s *IOStreams) IsStdinTTY() bool { return s.inTTY }

// IsStdoutTTY reports whether standard output is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.outTTY }

// IsStderrTTY reports whether standard error is a terminal: where progress
// bars can redraw in place.
func (s *IOStreams) IsStderrTTY() bool { return s.errTTY }

// CanPrompt reports whether a question can be asked on standard error and
// answered on standard input: both are terminals.
func (s *IOStreams) CanPrompt() bool { return s.inTTY && s.errTTY }

// ColorEnabled reports whether standard output may carry colours: it is a
// terminal and neither NO_COLOR nor TERM=dumb asks for plain text.
func (s *IOStreams) ColorEnabled() bool { return s.outTTY && !s.noColor }
