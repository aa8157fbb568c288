package keboola

import (
	"errors"
	"math/rand/v2"
	"net"
	"syscall"
	"time"
)

// backoff returns the wait before attempt+1: MinBackoff doubling per attempt,
// capped at MaxBackoff, with "equal jitter" (half fixed, half random) so that
// many clients hit by the same outage do not retry in lockstep.
func backoff(p RetryPolicy, attempt int) time.Duration {
	d := p.MinBackoff
	for i := 1; i < attempt && d < p.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.MaxBackoff)
	half := d / 2
	return half + rand.N(half+1)
}

// isDialError reports whether err happened before any byte of the request
// left this process (DNS failure, refused connection), which makes even a
// non-idempotent request safe to send again.
func isDialError(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}
