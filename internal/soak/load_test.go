//go:build soak

package soak

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// toolMix is what the clients call, picked uniformly: the read tools a
// model uses most, each touching other Keboola services (Storage, Query
// Service, Queue).
var toolMix = []struct {
	name string
	args map[string]any
}{
	{"get_buckets", map[string]any{}},
	{"get_tables", map[string]any{"bucket_ids": []string{"in.c-crm"}}},
	{"query_data", map[string]any{"sql_query": `SELECT "status", COUNT(*) AS "orders" FROM "in.c-crm"."orders" GROUP BY "status"`}},
	{"search", map[string]any{"patterns": []string{"customer"}}},
	{"get_jobs", map[string]any{"limit": 5}},
}

// client is one worker: one grant, calls spread over its group's replicas.
type client struct {
	group *group
	home  *replica // where it logged in
	rng   *rand.Rand

	tokens tokens
	// lostAt says why the grant stopped working during the run ("" while it works).
	lostAt string
}

// run calls tools until stopAt, rotating the refresh token every
// refreshEvery (the first time after offset, so rotations do not come in
// lockstep).
func (c *client) run(ctx context.Context, tl *tally, stopAt time.Time, offset time.Duration) {
	nextRefresh := time.Now().Add(offset)
	for time.Now().Before(stopAt) && ctx.Err() == nil {
		if time.Now().After(nextRefresh) {
			if !c.rotate(ctx, tl) {
				return
			}
			nextRefresh = time.Now().Add(refreshEvery)
		}
		tool := toolMix[c.rng.IntN(len(toolMix))]
		r := c.group.replicas[c.rng.IntN(len(c.group.replicas))]
		c.call(ctx, tl, r, tool.name, tool.args)
	}
}

// call makes one tool call at r. A replica that refuses connections while
// it is down is skipped for its sibling, as a load balancer would.
func (c *client) call(ctx context.Context, tl *tally, r *replica, name string, args map[string]any) {
	kills, wasDown := r.kills.Load(), r.down.Load()
	t0 := time.Now()
	a, err := callTool(ctx, r, c.tokens.access, name, args)
	elapsed := time.Since(t0)
	if err != nil {
		// A connection may still reach the listener of a replica that is
		// being killed, and be reset by its death: that call was in flight
		// to the killed replica too.
		killed := wasDown || r.down.Load() || r.kills.Load() != kills
		switch {
		case killed && errors.Is(err, syscall.ECONNREFUSED):
			tl.add(name, outRefusedDown, 0, "")
			c.call(ctx, tl, c.group.sibling(r), name, args)
		case killed:
			tl.add(name, outKilledInFlight, 0, r.name+": "+err.Error())
		default:
			tl.add(name, outTransport, 0, r.name+": "+err.Error())
		}
		return
	}
	switch {
	case a.status >= 500:
		tl.add(name, outHTTP5xx, elapsed, r.name+": "+a.text)
	case a.status != http.StatusOK:
		tl.add(name, outHTTPOther, elapsed, r.name+": HTTP "+http.StatusText(a.status)+": "+a.text)
	case a.rpcError != "":
		tl.add(name, outRPCError, elapsed, a.rpcError)
	case !a.isError:
		tl.add(name, outOK, elapsed, "")
	default:
		if f := faultNamed(a.text); f != "" {
			tl.add(name, outNamedFault, elapsed, f)
			tl.sample(name+": tool error naming "+f, a.text)
		} else {
			tl.add(name, outUnnamedError, elapsed, a.text)
		}
	}
}

// rotate swaps the refresh token at a random replica of the group; when the
// replica dies under the request, the same token is sent to its sibling at
// once (the store's retry grace answers it). It returns false when the
// grant is lost.
func (c *client) rotate(ctx context.Context, tl *tally) bool {
	r := c.group.replicas[c.rng.IntN(len(c.group.replicas))]
	kills := r.kills.Load()
	next, status, err := refresh(ctx, r, c.tokens)
	if err != nil && status == 0 && (r.kills.Load() != kills || r.down.Load()) {
		tl.refreshRetried.Add(1)
		next, status, err = refresh(ctx, c.group.sibling(r), c.tokens)
	}
	tl.refreshes.Add(1)
	switch {
	case err == nil:
		c.tokens = next
		return true
	case status >= 500 || status == 0:
		// Not a refusal (a goal miss all the same): keep the grant and try
		// again at the next rotation.
		tl.refreshFailed.Add(1)
		tl.sample("refresh failed", r.name+": "+err.Error())
		return true
	default:
		tl.refreshRefused.Add(1)
		c.lostAt = r.name + ": " + err.Error()
		return false
	}
}

// faultNamed returns which Keboola fault a tool error names: its HTTP
// status (5xx, 429) or the maintenance window; "" when it names none.
func faultNamed(text string) string {
	if strings.Contains(strings.ToLower(text), "maintenance") {
		return "maintenance"
	}
	if m := statusRE.FindStringSubmatch(text); m != nil {
		return "HTTP " + m[1]
	}
	return ""
}

var statusRE = regexp.MustCompile(`HTTP (5\d\d|429)\b`)
