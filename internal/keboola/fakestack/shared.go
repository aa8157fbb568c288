package fakestack

import (
	"sync"
	"testing"
)

// Shared is one stack for a whole test binary, started on first use:
// seeding the demo project takes seconds under the race detector, so tests
// that do not need a stack of their own share this one. Close it from
// TestMain after m.Run.
type Shared struct {
	// Options are the options the stack is created with.
	Options Options

	once  sync.Once
	stack *Stack
	err   error
}

// Get returns the stack, creating and starting it on the first call; it
// fails the test when the stack could not be created.
func (s *Shared) Get(tb testing.TB) *Stack {
	tb.Helper()
	s.once.Do(func() {
		s.stack, s.err = New(s.Options)
		if s.err == nil {
			s.stack.Start()
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
