//go:build soak

package soak

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// replica is one `keboola-mcp serve` process. It keeps its address across
// restarts, as a replica behind a load balancer does.
type replica struct {
	name  string
	addr  string
	args  []string
	env   []string
	group *group

	// down is true between a kill and the end of the restart; kills counts
	// the kills so a call can tell that one happened while it was in flight.
	down  atomic.Bool
	kills atomic.Int64

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	logs    lockedBuffer
	peakKiB []int64 // VmHWM of each life, read just before it ended
}

// base is the URL the soak's clients send this replica's requests to.
func (r *replica) base() string { return "http://" + r.addr }

// start runs the process and waits until /healthz answers.
func (r *replica) start() error {
	cmd := exec.Command(r.args[0], r.args[1:]...)
	cmd.Env = r.env
	cmd.Stdout, cmd.Stderr = &r.logs, &r.logs
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", r.name, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	r.mu.Lock()
	r.cmd, r.exited = cmd, exited
	r.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			return fmt.Errorf("%s exited while starting:\n%s", r.name, r.logs.String())
		default:
		}
		resp, err := http.Get(r.base() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				r.down.Store(false)
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not healthy after 30s: %v\n%s", r.name, err, r.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill ends the process with SIGKILL: no graceful shutdown, requests in
// flight are cut off.
func (r *replica) kill() {
	r.down.Store(true)
	r.kills.Add(1)
	r.end(syscall.SIGKILL)
}

// stop ends the process as an orchestrator would (SIGTERM, then SIGKILL
// after the server's own 10 s grace).
func (r *replica) stop() { r.end(syscall.SIGTERM) }

func (r *replica) end(sig syscall.Signal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return
	}
	r.peakKiB = append(r.peakKiB, peakRSS(r.cmd.Process.Pid))
	r.cmd.Process.Signal(sig)
	select {
	case <-r.exited:
	case <-time.After(15 * time.Second):
		r.cmd.Process.Kill()
		<-r.exited
	}
	r.cmd = nil
}

// peakRSS reads the process's peak resident set size (VmHWM) in KiB; 0 when
// it cannot be read.
func peakRSS(pid int) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// group is the replicas sharing one store.
type group struct {
	store     string
	publicURL string
	replicas  []*replica
}

// sibling returns another replica of r's group.
func (g *group) sibling(r *replica) *replica {
	for _, o := range g.replicas {
		if o != r {
			return o
		}
	}
	return r
}

// freeAddr returns a loopback address with a port free at the time of the
// call.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// serveEnv is the environment of a replica: this process's, minus any
// keboola-mcp or Keboola setting that would change the replica's flags or
// credentials, plus the secret the group shares.
func serveEnv(secret string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "KEBOOLA_MCP_") || strings.HasPrefix(kv, "KBC_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "KEBOOLA_MCP_SECRET="+secret)
}

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
