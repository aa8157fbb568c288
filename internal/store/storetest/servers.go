package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// RequireEnv, set to 1, turns a missing database server binary from a
// skipped test into a failed one (CI sets it).
const RequireEnv = "KEBOOLA_MCP_REQUIRE_STORES"

// Servers starts throwaway PostgreSQL and Redis servers on loopback, each
// at most once and only when a test asks for it, and stops them in Stop
// (call it from TestMain after m.Run). The zero value is ready to use.
type Servers struct {
	pgOnce, redisOnce sync.Once
	pg, redis         *server
	pgErr, redisErr   error
	schemas           atomic.Int64
}

// server is one running database process and its scratch directory.
type server struct {
	cmd  *exec.Cmd
	done chan struct{}
	dir  string
	addr string
	log  *bytes.Buffer
}

// PostgresDSN returns the DSN of a new empty schema on the shared
// throwaway PostgreSQL server (its search_path names the schema, which is
// quicker to make than a database); the schema is dropped when t ends.
// When PostgreSQL is not installed the test is skipped (failed under
// RequireEnv).
func (s *Servers) PostgresDSN(t testing.TB) string {
	t.Helper()
	s.pgOnce.Do(func() { s.pg, s.pgErr = startPostgres() })
	if s.pgErr != nil {
		unavailable(t, "PostgreSQL", s.pgErr)
	}
	name := fmt.Sprintf("kmcp_test_%d", s.schemas.Add(1))
	dsn := "postgres://postgres@" + s.pg.addr + "/postgres?sslmode=disable"
	if err := pgExec(dsn, "CREATE SCHEMA "+name); err != nil {
		t.Fatalf("creating test schema: %v", err)
	}
	t.Cleanup(func() {
		if err := pgExec(dsn, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Errorf("dropping test schema: %v", err)
		}
	})
	return dsn + "&search_path=" + name
}

// RedisURL returns the URL of the shared throwaway Redis server. Tests
// share its keyspace: give each store its own key prefix.
func (s *Servers) RedisURL(t testing.TB) string {
	t.Helper()
	s.redisOnce.Do(func() { s.redis, s.redisErr = startRedis() })
	if s.redisErr != nil {
		unavailable(t, "Redis", s.redisErr)
	}
	return "redis://" + s.redis.addr + "/0"
}

// Stop stops the servers that were started and removes their files.
func (s *Servers) Stop() {
	for _, srv := range []*server{s.pg, s.redis} {
		if srv != nil {
			srv.stop()
		}
	}
}

// errMissing marks a server whose binaries are not installed.
var errMissing = errors.New("not installed")

func unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if errors.Is(err, errMissing) && os.Getenv(RequireEnv) != "1" {
		t.Skipf("%s tests skipped: %v (install the Debian packages postgresql and redis-server, or set %s=1 to fail instead)", what, err, RequireEnv)
	}
	t.Fatalf("%s test server: %v", what, err)
}

func pgExec(dsn, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, sql)
	return err
}

// postgresBin finds initdb and postgres on PATH or in Debian's versioned
// directories, newest version first.
func postgresBin() (initdb, postgres string, err error) {
	if i, err1 := exec.LookPath("initdb"); err1 == nil {
		if p, err2 := exec.LookPath("postgres"); err2 == nil {
			return i, p, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		i, p := filepath.Join(d, "initdb"), filepath.Join(d, "postgres")
		if isFile(i) && isFile(p) {
			return i, p, nil
		}
	}
	return "", "", fmt.Errorf("initdb and postgres: %w", errMissing)
}

func pgVersion(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func startPostgres() (*server, error) {
	initdb, postgres, err := postgresBin()
	if err != nil {
		return nil, err
	}
	dir, err := scratchDir("kmcp-postgres-")
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	var out bytes.Buffer
	cmd := exec.Command(initdb, "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.Stdout, cmd.Stderr = &out, &out
	unprivileged(cmd)
	if err := cmd.Run(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out.String())
	}
	return start(dir, func(port int) *exec.Cmd {
		return exec.Command(postgres, "-D", data, "-p", strconv.Itoa(port),
			"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
			// A throwaway server: durability buys nothing.
			"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}, func(ctx context.Context, addr string) error {
		c, err := pgx.Connect(ctx, "postgres://postgres@"+addr+"/postgres?sslmode=disable")
		if err != nil {
			return err
		}
		return c.Close(ctx)
	})
}

func startRedis() (*server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server: %w", errMissing)
	}
	dir, err := scratchDir("kmcp-redis-")
	if err != nil {
		return nil, err
	}
	return start(dir, func(port int) *exec.Cmd {
		return exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	}, func(ctx context.Context, addr string) error {
		c := redis.NewClient(&redis.Options{Addr: addr})
		defer c.Close()
		return c.Ping(ctx).Err()
	})
}

// start runs the server on a free loopback port and waits until ready
// answers, retrying on another port if the chosen one was taken meanwhile.
func start(dir string, command func(port int) *exec.Cmd, ready func(ctx context.Context, addr string) error) (*server, error) {
	var lastErr error
	for range 3 {
		port, err := freePort()
		if err != nil {
			lastErr = err
			continue
		}
		srv := &server{cmd: command(port), done: make(chan struct{}), dir: dir, addr: fmt.Sprintf("127.0.0.1:%d", port), log: &bytes.Buffer{}}
		srv.cmd.Stdout, srv.cmd.Stderr = srv.log, srv.log
		unprivileged(srv.cmd)
		if err := srv.cmd.Start(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		go func() { srv.cmd.Wait(); close(srv.done) }()
		if lastErr = srv.await(ready); lastErr == nil {
			return srv, nil
		}
		srv.kill()
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

// await polls ready for at most 30 seconds.
func (s *server) await(ready func(ctx context.Context, addr string) error) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-s.done:
			return fmt.Errorf("%s exited while starting: %s", filepath.Base(s.cmd.Path), s.log.String())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := ready(ctx, s.addr)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after 30s: %v", filepath.Base(s.cmd.Path), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *server) kill() {
	s.cmd.Process.Kill()
	<-s.done
}

// stop asks for a fast shutdown, kills after ten seconds, and removes the
// scratch directory.
func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.kill()
	}
	os.RemoveAll(s.dir)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
