//go:build soak

package soak

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
)

// outcome classifies one tool call.
type outcome int

const (
	outOK             outcome = iota
	outNamedFault             // a tool error naming the Keboola fault behind it
	outUnnamedError           // a tool error that does not (goal 0)
	outHTTP5xx                // an HTTP 5xx from our server (goal 0)
	outHTTPOther              // another non-200 HTTP status (401, 403…: goal 0)
	outRPCError               // a JSON-RPC error instead of a tool result (goal 0)
	outKilledInFlight         // cut off by the SIGKILL of its replica
	outRefusedDown            // refused by the killed replica before its restart (sent on to its sibling)
	outTransport              // any other transport failure (goal 0)
	outcomes
)

// tally counts what the clients saw.
type tally struct {
	mu        sync.Mutex
	byTool    map[string]*[outcomes]int
	byFault   map[string]int
	latencies []time.Duration
	samples   map[string][]string

	refreshes, refreshRetried, refreshFailed, refreshRefused atomic.Int64
}

// maxSamples bounds the example messages kept per kind.
const maxSamples = 3

func (t *tally) add(tool string, o outcome, latency time.Duration, detail string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byTool == nil {
		t.byTool, t.byFault = map[string]*[outcomes]int{}, map[string]int{}
	}
	if t.byTool[tool] == nil {
		t.byTool[tool] = new([outcomes]int)
	}
	t.byTool[tool][o]++
	if latency > 0 {
		t.latencies = append(t.latencies, latency)
	}
	switch o {
	case outNamedFault:
		t.byFault[detail]++
	case outUnnamedError, outHTTP5xx, outHTTPOther, outRPCError, outTransport, outKilledInFlight:
		t.sampleLocked(tool+": "+outcomeNames[o], detail)
	}
}

func (t *tally) sample(kind, detail string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sampleLocked(kind, detail)
}

func (t *tally) sampleLocked(kind, detail string) {
	if t.samples == nil {
		t.samples = map[string][]string{}
	}
	if len(detail) > 400 {
		detail = detail[:400] + "…"
	}
	if len(t.samples[kind]) < maxSamples && !slices.Contains(t.samples[kind], detail) {
		t.samples[kind] = append(t.samples[kind], detail)
	}
}

var outcomeNames = [outcomes]string{
	outOK: "succeeded", outNamedFault: "tool errors naming the Keboola fault", outUnnamedError: "tool errors not naming a fault",
	outHTTP5xx: "MCP-level HTTP 5xx", outHTTPOther: "other HTTP errors (401, 403, …)", outRPCError: "JSON-RPC errors",
	outKilledInFlight: "in flight to the killed replica", outRefusedDown: "refused by the killed replica (sent to its sibling)",
	outTransport: "other transport errors",
}

// total sums one outcome over the tools (all outcomes when o < 0).
func (t *tally) total(o outcome) int {
	n := 0
	for _, counts := range t.byTool {
		for i, c := range counts {
			if o < 0 || outcome(i) == o {
				n += c
			}
		}
	}
	return n
}

// percentile returns the p-th percentile (0..100) of the latencies.
func (t *tally) percentile(p float64) time.Duration {
	if len(t.latencies) == 0 {
		return 0
	}
	s := slices.Clone(t.latencies)
	slices.Sort(s)
	i := int(p / 100 * float64(len(s)-1))
	return s[i]
}

// upstream counts the requests the fake Keboola stack answered, by status,
// reading its request log often enough that the log's cap never drops an
// entry unseen.
type upstream struct {
	lastSeq  uint64
	total    int
	byStatus map[int]int
}

func (u *upstream) poll(stack *fakestack.Stack) {
	if u.byStatus == nil {
		u.byStatus = map[int]int{}
	}
	for _, r := range stack.Requests() {
		if r.Seq <= u.lastSeq || r.Service == fakestack.ServiceFake {
			continue
		}
		u.lastSeq = r.Seq
		u.total++
		if r.Status >= 429 {
			u.byStatus[r.Status]++
		}
	}
}
