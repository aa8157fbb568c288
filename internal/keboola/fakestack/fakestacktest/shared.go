// Package fakestacktest starts fake Keboola stacks for tests. It is the
// only part of the fake that knows the testing package, so the fake itself
// can be linked into the dev-stack command without it.
package fakestacktest

import (
	"sync"
	"testing"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
)

// NewServer starts a stack on a loopback port and closes it when the test
// ends.
func NewServer(tb testing.TB, opts fakestack.Options) *fakestack.Stack {
	tb.Helper()
	s, err := fakestack.New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Shared is one stack for a whole test binary, started on first use:
// seeding the demo project takes seconds under the race detector, so tests
// that do not need a stack of their own share this one. Close it from
// TestMain after m.Run.
type Shared struct {
	// Options are the options the stack is created with.
	Options fakestack.Options

	once  sync.Once
	stack *fakestack.Stack
	err   error
}

// Get returns the stack, creating and starting it on the first call; it
// fails the test when the stack could not be created.
func (s *Shared) Get(tb testing.TB) *fakestack.Stack {
	tb.Helper()
	s.once.Do(func() {
		s.stack, s.err = fakestack.New(s.Options)
		if s.err == nil {
			s.err = s.stack.Start()
		}
	})
	if s.err != nil {
		tb.Fatal(s.err)
	}
	return s.stack
}

// Close closes the stack if it was started.
func (s *Shared) Close() {
	if s.stack != nil {
		s.stack.Close()
	}
}
