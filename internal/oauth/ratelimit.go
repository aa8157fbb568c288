package oauth

import (
	"net"
	"net/http"
	"sync"

	"golang.org/x/time/rate"
)

// limiter is a per-address token bucket. The table is bounded: when full it
// starts over, which at worst briefly forgives everyone.
type limiter struct {
	mu    sync.Mutex
	every rate.Limit
	burst int
	m     map[string]*rate.Limiter
}

const maxLimiterEntries = 10000

func newLimiter(perMinute, burst int) *limiter {
	return &limiter{every: rate.Limit(float64(perMinute) / 60), burst: burst, m: map[string]*rate.Limiter{}}
}

func (l *limiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.m[key]
	if lim == nil {
		if len(l.m) >= maxLimiterEntries {
			l.m = map[string]*rate.Limiter{}
		}
		lim = rate.NewLimiter(l.every, l.burst)
		l.m[key] = lim
	}
	return lim.Allow()
}

// remoteIP is the peer address. Forwarded headers are not trusted: behind
// a reverse proxy all clients share one bucket, which errs on the safe side.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
