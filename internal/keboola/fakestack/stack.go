// Package fakestack is an in-memory fake of a Keboola stack served over real
// HTTP, with a seeded demo project. Every Keboola-facing package is tested
// against it, and `keboola-dev-stack` serves it for demos.
//
// # Layout
//
// All services share one listener. GET /v2/storage advertises them with URLs
// on that listener, so a client that discovers services from the index (as it
// must: the host-rewriting fallback cannot work on 127.0.0.1) reaches them:
//
//	/v2/storage/...          Storage API (also /v2/storage/branch/{id|default}/...)
//	/oauth/authorize, /token Keboola OAuth (login form, code and refresh grants)
//	/queue/...               Jobs Queue        (service id "queue")
//	/query/api/v1/...        Query Service     (service id "query")
//	/ai/...                  AI Service        (service id "ai")
//	/encryption/...          Encryption        (service id "encryption")
//	/scheduler/...           Scheduler         (service id "scheduler")
//	/sync-actions/...        Sync Actions      (service id "sync-actions")
//	/data-science/...        Data Science      (service id "data-science": data apps)
//	/metastore/api/v1/...    Metastore         (service id "metastore": semantic layer)
//	/_fake/...               test controls: faults, request log (master token only)
//
// Storage, Query Service, Scheduler, Data Science and Metastore accept X-StorageApi-Token or
// Authorization: Bearer with a Keboola OAuth access token; Queue, AI Service
// and Sync Actions accept only X-StorageApi-Token; Encryption needs nothing.
// The Scheduler and Data Science's git credentials also need an admin
// context: a master token of an admin or share member, or that member's
// OAuth session; a token minted with POST tokens is refused (tokens.go).
//
// # Real-project models
//
// Development branches in both models, with or without the
// storage-branches feature (branches.go); Storage events of flow task jobs
// found by job id only with forceUuid=true (events.go); the organisation-wide
// global search with its project and branch filters; BigQuery projects
// (Options.Backend); a generated large project (Options.LargeProject).
//
// # Time
//
// Asynchronous work (Storage jobs, queue jobs, query jobs) does not run on
// goroutines: its state is derived from its creation time, Options.Clock and
// Options.JobStepDelay whenever it is read. A test that controls the clock
// controls every lifecycle exactly.
//
// # SQL
//
// Table rows live in DuckDB, one in-memory database per stack (db.go): each
// bucket is a schema named after its id, and the Snowflake database
// qualifier ("KEBOOLA_<project>") is dropped, so the names the tools build
// from backendPath work unchanged. A dialect layer (snowsql.go, sqlrun.go)
// makes DuckDB answer like Snowflake: identifier case folding, Snowflake
// functions and casts, SHOW/DESCRIBE, Snowflake-worded errors. On a
// BigQuery project the Query Service runs GoogleSQL instead (bigsql.go):
// datasets named by backendPath (in_c_crm), backquoted names, BigQuery's
// functions and its serialized job errors. Query Service
// workspaces have read-only storage access; SQL transformation jobs of the
// project's backend (Snowflake SQL, or GoogleSQL in a workspace dataset on
// BigQuery) run their SQL and write their output tables, the other
// backend's fail, and flows run their tasks as child jobs (jobrun.go).
//
// # Not modelled
//
// BigQuery's own printing of result values (they print as on Snowflake),
// BigQuery transformations' UPDATE, DELETE, MERGE and other statements
// beyond CREATE TABLE, INSERT INTO, DROP TABLE and queries (refused),
// SQL on the generated large project's tables,
// legacy branch copies of buckets (c-<branch>-name) on projects without
// storage-branches, file uploads and table imports, writes from Query
// Service SQL (workspaces are read-only), incremental output mapping,
// transformations on development branches (they read and write
// production), and running data apps (their state and logs are simulated;
// repository hosts are made-up .invalid names).
package fakestack

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configure a Stack. The zero value is a working stack with the demo
// project and a random master token.
type Options struct {
	// MasterToken is the project's master Storage token; random when empty.
	MasterToken string
	// NoDemo leaves the project empty (no buckets, tables, components, jobs).
	NoDemo bool
	// ProjectID and ProjectName name the project; defaults 1234 and "Demo Retail Analytics".
	ProjectID   int
	ProjectName string
	// Backend is the project's default backend: "snowflake" (the default) or
	// "bigquery". On BigQuery a bucket is a dataset (backendPath
	// ["in_c_crm"]) and alias tables are not materialised; SQL over the
	// Query Service is modelled for Snowflake only.
	Backend string
	// Clock returns the current time; time.Now when nil.
	Clock func() time.Time
	// JobStepDelay is how long an asynchronous job stays in each state before
	// moving on; default 50ms.
	JobStepDelay time.Duration
	// OAuthClients are the Keboola OAuth clients this stack accepts: client id → secret.
	OAuthClients map[string]string
	// ExtraFeatures are project features reported besides the demo ones, e.g.
	// "hide-conditional-flows" to turn conditional flows off, or
	// "storage-branches" for development branches with storage of their own.
	ExtraFeatures []string
	// LargeProject adds a generated project of 5,000 tables and 20,000
	// configurations (see large.go) for benchmarks.
	LargeProject bool
	// WithoutFeatures are features of the demo set to leave out, e.g.
	// "global-search" for a project whose search lists everything.
	WithoutFeatures []string
	// MemberRole is the project role of the member behind the master token
	// and Keboola OAuth sessions (RoleAdmin, the default, RoleShare,
	// RoleReadOnly or RoleGuest).
	MemberRole string
}

// Stack is a running fake Keboola stack. Its methods are safe for concurrent use.
type Stack struct {
	opts    Options
	now     func() time.Time
	step    time.Duration
	handler http.Handler
	server  *http.Server
	url     string

	mu    sync.Mutex
	state *state

	db *stackDB // table rows (see db.go)

	faults   faultSet
	requests requestLog
}

// New builds a stack (with the demo project unless opts.NoDemo). Serve it
// with Start, or serve Handler on a listener of your own after SetURL.
func New(opts Options) (*Stack, error) {
	if opts.ProjectID == 0 {
		opts.ProjectID = 1234
	}
	if opts.ProjectName == "" {
		opts.ProjectName = "Demo Retail Analytics"
	}
	if opts.Backend == "" {
		opts.Backend = "snowflake"
	}
	if opts.Backend != "snowflake" && opts.Backend != "bigquery" {
		return nil, fmt.Errorf("fakestack: backend %q is not modelled; use snowflake or bigquery", opts.Backend)
	}
	if opts.MasterToken == "" {
		opts.MasterToken = fmt.Sprintf("%d-%d-%s", opts.ProjectID, 100, randomHex(20))
	}
	if opts.MemberRole == "" {
		opts.MemberRole = RoleAdmin
	}
	if opts.JobStepDelay <= 0 {
		opts.JobStepDelay = 50 * time.Millisecond
	}
	s := &Stack{opts: opts, now: opts.Clock, step: opts.JobStepDelay}
	if s.now == nil {
		s.now = time.Now
	}
	s.state = newState(s)
	if opts.NoDemo {
		db, err := openDB()
		if err != nil {
			return nil, err
		}
		s.db = db
		// The component catalogue is the stack's, not the project's: an
		// empty project still has every component to configure.
		seedCatalogue(s.state)
	} else {
		db, stats, err := seedDemoDatabase()
		if err != nil {
			return nil, fmt.Errorf("fakestack: seeding demo project: %w", err)
		}
		s.db = db
		seedDemo(s, stats)
	}
	if opts.LargeProject {
		seedLargeProject(s.state, s.state.tokens[opts.MasterToken])
	}
	s.handler = s.routes()
	return s, nil
}

// Start serves the stack on a random loopback port until Close.
func (s *Stack) Start() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("fakestack: %w", err)
	}
	s.server = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.server.Serve(ln) }() // ends with ErrServerClosed at Close
	s.SetURL("http://" + ln.Addr().String())
	return nil
}

// SetURL sets the base URL the stack advertises (service index, OAuth forms,
// job URLs). Call it before serving requests.
func (s *Stack) SetURL(u string) { s.url = strings.TrimRight(u, "/") }

// Handler returns the stack's HTTP handler.
func (s *Stack) Handler() http.Handler { return s.handler }

// Close stops the server started by Start and releases the database.
func (s *Stack) Close() {
	if s.server != nil {
		_ = s.server.Close()
	}
	s.db.Close()
}

// URL is the Storage API base URL (the listener root), e.g. http://127.0.0.1:PORT.
func (s *Stack) URL() string { return s.url }

// MasterToken is the project's master Storage token.
func (s *Stack) MasterToken() string { return s.opts.MasterToken }

// ProjectID is the project's numeric id.
func (s *Stack) ProjectID() int { return s.opts.ProjectID }

// DefaultBranchID is the numeric id of the default (production) branch.
func (s *Stack) DefaultBranchID() int { return defaultBranchID }

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

// keboolaTime is the timestamp format the Storage API uses (2019-08-12T14:36:08+0200).
const keboolaTime = "2006-01-02T15:04:05-0700"

func fmtTime(t time.Time) string { return t.Format(keboolaTime) }

func fmtTimePtr(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return fmtTime(t)
}
