//go:build soak

package soak

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack/fakestacktest"
	"github.com/keboola-mcp/keboola-mcp/internal/store/storetest"
)

// Settings, from the environment (make soak passes its variables through).
const (
	durationEnv = "KEBOOLA_MCP_SOAK_DURATION" // how long the load runs [60s]
	workersEnv  = "KEBOOLA_MCP_SOAK_WORKERS"  // concurrent clients, one grant each [16]
	binEnv      = "KEBOOLA_MCP_BIN"           // the keboola-mcp binary [built into a temporary directory]
)

// The fault schedule, relative to the start of the load (D = duration).
const (
	addedLatency  = 200 * time.Millisecond // every Keboola request
	fail5xxEvery  = 20                     // 5% of Keboola requests answer 500
	burstEvery    = 5 * time.Second        // a burst of 429 with Retry-After…
	burst429      = 5                      // …this many requests long
	refreshEvery  = 5 * time.Second        // each client rotates its refresh token this often
	maxDuration   = 20 * time.Minute       // the Makefile's go test -timeout is above this
	killFraction  = 0.3                    // one replica is SIGKILLed at 0.3 D…
	downFor       = 2 * time.Second        // …and restarted this much later
	maintFraction = 0.5                    // maintenance starts at 0.5 D…
	maintLength   = 0.1                    // …and lasts 0.1 D
)

// TestSoak runs the soak benchmark: see the package doc and
// docs/self-hosting.md. It fails when a goal is missed: an HTTP 5xx from
// our server, a tool error that does not name the Keboola fault behind it,
// a failed call to a live replica, or a lost grant.
func TestSoak(t *testing.T) {
	duration, workers, bin := settings(t)
	var servers storetest.Servers
	t.Cleanup(servers.Stop)
	pgDSN := servers.PostgresDSN(t)
	redisURL := servers.RedisURL(t)

	stack := fakestacktest.NewServer(t, fakestack.Options{})
	groups := []*group{
		startGroup(t, bin, "postgres", pgDSN, stack.URL()),
		startGroup(t, bin, "redis", redisURL, stack.URL()),
	}

	ctx, cancel := context.WithTimeout(context.Background(), duration+5*time.Minute)
	defer cancel()
	clients := make([]*client, workers)
	for i := range clients {
		g := groups[i%len(groups)]
		home := g.replicas[(i/len(groups))%len(g.replicas)]
		tok, err := login(ctx, home, stack.URL(), stack.MasterToken())
		if err != nil {
			t.Fatalf("login %d at %s: %v", i, home.name, err)
		}
		clients[i] = &client{group: g, home: home, tokens: tok, rng: rand.New(rand.NewPCG(uint64(i), 1))}
	}

	var tl tally
	start := time.Now()
	stopAt := start.Add(duration)
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() { c.run(ctx, &tl, stopAt, time.Duration(i)*refreshEvery/time.Duration(workers)) })
	}
	victim := groups[0].replicas[1]
	var up upstream
	events := runSchedule(ctx, t, stack, &up, victim, start, duration)
	wg.Wait()
	stack.ClearFaults()
	up.poll(stack)

	lost := checkGrants(ctx, clients)
	for _, g := range groups {
		for _, r := range g.replicas {
			r.stop()
		}
	}
	report(t, &tl, &up, clients, groups, events, lost, duration, workers)
}

func settings(t *testing.T) (time.Duration, int, string) {
	duration, workers := 60*time.Second, 16
	if v := os.Getenv(durationEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 10*time.Second || d > maxDuration {
			t.Fatalf("%s=%q: want a duration from 10s to %v", durationEnv, v, maxDuration)
		}
		duration = d
	}
	if v := os.Getenv(workersEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 4 || n > 256 {
			t.Fatalf("%s=%q: want 4 to 256 workers", workersEnv, v)
		}
		workers = n
	}
	bin := os.Getenv(binEnv)
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "keboola-mcp")
		out, err := exec.Command("go", "build", "-o", bin, "../../cmd/keboola-mcp").CombinedOutput()
		if err != nil {
			t.Fatalf("building keboola-mcp: %v\n%s", err, out)
		}
	} else if abs, err := filepath.Abs(bin); err == nil {
		bin = abs
	}
	return duration, workers, bin
}

// startGroup starts two replicas on one store. They share the secret and
// the public URL (the issuer), as replicas behind one load balancer do; the
// soak's clients are that load balancer.
func startGroup(t *testing.T, bin, name, storeURL, stackURL string) *group {
	t.Helper()
	g := &group{store: name}
	secret := newSecret()
	for i := range 2 {
		addr, err := freeAddr()
		if err != nil {
			t.Fatal(err)
		}
		if g.publicURL == "" {
			g.publicURL = "http://" + addr
		}
		r := &replica{name: fmt.Sprintf("%s-%c", name, 'a'+i), addr: addr, group: g, env: serveEnv(secret),
			args: []string{bin, "serve", "--addr", addr, "--public-url", g.publicURL, "--store", storeURL,
				"--stack", stackURL, "--log-level", "warn"}}
		if err := r.start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.stop)
		g.replicas = append(g.replicas, r)
	}
	return g
}

// runSchedule injects the faults and kills the victim on schedule, until
// the duration is over, and counts what the fake answered meanwhile. It
// returns what it did, with times, for the report.
func runSchedule(ctx context.Context, t *testing.T, stack *fakestack.Stack, up *upstream, victim *replica, start time.Time, duration time.Duration) []string {
	t.Helper()
	var events []string
	at := func(format string, args ...any) {
		events = append(events, fmt.Sprintf("%5.1fs  ", time.Since(start).Seconds())+fmt.Sprintf(format, args...))
	}
	inject := func(f fakestack.Fault) {
		if err := stack.InjectFault(f); err != nil {
			t.Fatal(err)
		}
	}
	steady := func() {
		inject(fakestack.Fault{Latency: addedLatency})
		inject(fakestack.Fault{Fail5xxEvery: fail5xxEvery, Status5xx: 500})
	}
	steady()
	at("faults on: +%v on every Keboola request, every %dth answers 500, every %v the next %d answer 429 + Retry-After: 1",
		addedLatency, fail5xxEvery, burstEvery, burst429)

	killAt := time.Duration(float64(duration) * killFraction)
	maintFrom := time.Duration(float64(duration) * maintFraction)
	maintTo := maintFrom + time.Duration(float64(duration)*maintLength)
	killed, restarted, maintOn, maintOff := false, false, false, false
	nextBurst, nextPoll := burstEvery, time.Second
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		now := time.Since(start)
		if now >= nextPoll {
			nextPoll += time.Second
			up.poll(stack)
		}
		if now >= duration {
			return events
		}
		switch {
		case !killed && now >= killAt:
			killed = true
			victim.kill()
			at("%s SIGKILLed (peak RSS %d KiB)", victim.name, victim.peakKiB[len(victim.peakKiB)-1])
		case killed && !restarted && now >= killAt+downFor:
			restarted = true
			if err := victim.start(); err != nil {
				t.Fatal(err)
			}
			at("%s restarted and healthy", victim.name)
		case !maintOn && now >= maintFrom:
			maintOn = true
			inject(fakestack.Fault{Maintenance: true, RetryAfter: 1})
			at("maintenance window opens: every Keboola request answers 503 + Retry-After: 1 + {\"status\":\"maintenance\"}")
		case maintOn && !maintOff && now >= maintTo:
			maintOff = true
			stack.ClearFaults()
			steady()
			at("maintenance window closes")
		case now >= nextBurst:
			nextBurst += burstEvery
			if !maintOn || maintOff {
				inject(fakestack.Fault{Fail429: burst429, RetryAfter: 1})
			}
		}
		select {
		case <-ctx.Done():
			return events
		case <-tick.C:
		}
	}
}

// checkGrants proves every grant still works after the run, across the
// replicas of its store: the latest access token calls a tool on one
// replica, the latest refresh token rotates on the other, and the new
// access token calls a tool on the first. It returns what failed, per grant.
func checkGrants(ctx context.Context, clients []*client) []string {
	var lost []string
	works := func(r *replica, access string) error {
		a, err := callTool(ctx, r, access, "get_buckets", map[string]any{})
		switch {
		case err != nil:
			return err
		case a.status != 200 || a.rpcError != "" || a.isError:
			return fmt.Errorf("%s: HTTP %d %s%s", r.name, a.status, a.rpcError, a.text)
		}
		return nil
	}
	for i, c := range clients {
		if c.lostAt != "" {
			lost = append(lost, fmt.Sprintf("grant %d: refresh refused during the run at %s", i, c.lostAt))
			continue
		}
		one, other := c.home, c.group.sibling(c.home)
		if err := works(one, c.tokens.access); err != nil {
			lost = append(lost, fmt.Sprintf("grant %d: latest access token: %v", i, err))
			continue
		}
		next, _, err := refresh(ctx, other, c.tokens)
		if err == nil {
			err = works(one, next.access)
		}
		if err != nil {
			lost = append(lost, fmt.Sprintf("grant %d: latest refresh token: %v", i, err))
		}
	}
	return lost
}

// report prints the figures and fails the test on a missed goal.
func report(t *testing.T, tl *tally, up *upstream, clients []*client, groups []*group, events []string, lost []string, duration time.Duration, workers int) {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("soak: %v, %d workers (one grant each), replicas: %s", duration, workers, replicaNames(groups))
	for _, e := range events {
		p("  %s", e)
	}
	var served []string
	for _, st := range slices.Sorted(maps.Keys(up.byStatus)) {
		served = append(served, fmt.Sprintf("%d: %d", st, up.byStatus[st]))
	}
	p("Keboola requests (fake stack)                  %6d  (answered %s)", up.total, strings.Join(served, ", "))
	calls := tl.total(-1) - tl.total(outRefusedDown)
	p("calls                                          %6d  (%.1f/s)", calls, float64(calls)/duration.Seconds())
	for o := outOK; o < outcomes; o++ {
		line := fmt.Sprintf("  %-45s%6d", outcomeNames[o], tl.total(o))
		switch o {
		case outUnnamedError, outHTTP5xx, outHTTPOther, outRPCError, outTransport:
			line += "  (goal 0)"
		case outNamedFault:
			var parts []string
			for _, f := range sortedKeys(tl.byFault) {
				parts = append(parts, fmt.Sprintf("%s: %d", f, tl.byFault[f]))
			}
			if len(parts) > 0 {
				line += "  (" + strings.Join(parts, ", ") + ")"
			}
		}
		p("%s", line)
	}
	p("per tool        calls     ok  named  killed  other")
	for _, name := range sortedKeys(tl.byTool) {
		c := tl.byTool[name]
		n := 0
		for _, v := range c {
			n += v
		}
		n -= c[outRefusedDown]
		p("  %-13s %6d %6d %6d %7d %6d", name, n, c[outOK], c[outNamedFault], c[outKilledInFlight], n-c[outOK]-c[outNamedFault]-c[outKilledInFlight])
	}
	p("latency of answered calls                      p50 %v  p99 %v  max %v (n=%d)",
		tl.percentile(50).Round(time.Millisecond), tl.percentile(99).Round(time.Millisecond), tl.percentile(100).Round(time.Millisecond), len(tl.latencies))
	p("refresh rotations                              %6d  (retried on the sibling after a kill: %d, failed: %d, refused: %d; goal 0 and 0)",
		tl.refreshes.Load(), tl.refreshRetried.Load(), tl.refreshFailed.Load(), tl.refreshRefused.Load())
	p("grants                                         %6d  lost %d (goal 0)", len(clients), len(lost))
	for _, l := range lost {
		p("  %s", l)
	}
	p("peak RSS (VmHWM) per replica, per life:")
	for _, g := range groups {
		for _, r := range g.replicas {
			var lives []string
			for _, k := range r.peakKiB {
				lives = append(lives, fmt.Sprintf("%.1f MiB", float64(k)/1024))
			}
			p("  %-10s %s", r.name, strings.Join(lives, ", then "))
		}
	}
	for _, kind := range sortedKeys(tl.samples) {
		p("examples of %s:", kind)
		for _, s := range tl.samples[kind] {
			p("  %s", s)
		}
	}
	fmt.Print(b.String())
	for _, o := range []outcome{outUnnamedError, outHTTP5xx, outHTTPOther, outRPCError, outTransport} {
		if n := tl.total(o); n > 0 {
			t.Errorf("goal missed: %d %s", n, outcomeNames[o])
		}
	}
	if n := tl.refreshFailed.Load(); n > 0 {
		t.Errorf("goal missed: %d refreshes failed at a live replica without an OAuth answer", n)
	}
	if len(lost) > 0 {
		t.Errorf("goal missed: %d grants lost", len(lost))
	}
	if tl.total(outOK) == 0 {
		t.Error("no call succeeded")
	}
}

func replicaNames(groups []*group) string {
	var parts []string
	for _, g := range groups {
		var names []string
		for _, r := range g.replicas {
			names = append(names, r.name+" "+r.addr)
		}
		parts = append(parts, g.store+" ("+strings.Join(names, ", ")+")")
	}
	return strings.Join(parts, "; ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
