package oauth

import (
	"net/http"
	"net/netip"
	"sync"
	"time"

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

// allow takes one token from key's bucket at time now (the server clock,
// so tests can move it).
func (l *limiter) allow(key string, now time.Time) bool {
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
	return lim.AllowN(now, 1)
}

// remoteIP is the rate-limit key of the peer: its IPv4 address, or the /64
// of its IPv6 address, since one IPv6 host usually holds a whole /64 and
// could otherwise use a fresh address for every request. Forwarded headers
// are not trusted: behind a reverse proxy all clients share one bucket,
// which errs on the safe side.
func remoteIP(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	a := ap.Addr().Unmap()
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a.WithZone(""), 64).Masked().String()
}
