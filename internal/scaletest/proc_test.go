package scaletest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// syncBuffer collects a process's output.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// repoRoot is the module root, two levels above this package.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(root, "go.mod"))
	require.NoError(t, err, "module root")
	return root
}

// buildServer builds zoo-serve once into dir.
func buildServer(t testing.TB, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "zoo-serve")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/zoo-serve")
	cmd.Dir = repoRoot(t)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/zoo-serve: %s", out)
	return bin
}

// proc is one run of a command in its own process group, killed (the whole
// group) when the test ends.
type proc struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{}
	err  error // set when done closes
}

func startProc(t testing.TB, name string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	// Its own group, so that cleanup kills nginx's workers too; killed with
	// the test binary should a timeout stop it before its cleanups run.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &proc{cmd: cmd, logs: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	require.NoError(t, cmd.Start(), "start %s", name)
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	})
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// peakRSS is the process's peak resident set (VmHWM) in bytes; 0 once it
// has exited.
func (p *proc) peakRSS() int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// replica is one zoo-serve of the fleet: its address and cache survive
// restarts, as a pod's would with a persistent volume.
type replica struct {
	name, addr, cache string
	bin               string
	env               []string

	p       *proc
	starts  int
	peakRSS int64 // the largest VmHWM over its runs
}

func (r *replica) url() string { return "http://" + r.addr }

func (r *replica) start(t testing.TB) {
	t.Helper()
	r.p = startProc(t, r.bin, append(r.env, "ZOO_CACHE="+r.cache), "--addr", r.addr)
	r.starts++
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s (run %d) log:\n%s", r.name, r.starts, tail(r.p.logs.String(), 4000))
		}
	})
}

// notePeak records the running process's peak RSS.
func (r *replica) notePeak() { r.peakRSS = max(r.peakRSS, r.p.peakRSS()) }

// signal records the peak RSS and sends sig to the replica.
func (r *replica) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	r.notePeak()
	require.NoError(t, r.p.cmd.Process.Signal(sig), "%s: signal %v", r.name, sig)
}

// waitExit waits for the replica to exit and returns its exit error.
func (r *replica) waitExit(t testing.TB, timeout time.Duration) error {
	t.Helper()
	select {
	case <-r.p.done:
		return r.p.err
	case <-time.After(timeout):
		t.Fatalf("%s did not exit within %v:\n%s", r.name, timeout, tail(r.p.logs.String(), 4000))
		return nil
	}
}

// readyz is the replica's /readyz answer: status code and reason.
type readyz struct {
	status int
	Ready  bool   `json:"ready"`
	Reason string `json:"reason"`
}

func (r *replica) readyz() (readyz, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", r.url()+"/readyz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return readyz{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return readyz{}, err
	}
	rz := readyz{status: resp.StatusCode}
	if err := json.Unmarshal(body, &rz); err != nil {
		return rz, fmt.Errorf("readyz: %w: %q", err, body)
	}
	return rz, nil
}

// waitReady polls /readyz until it answers 200 and returns how long that took.
func (r *replica) waitReady(t testing.TB, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		rz, err := r.readyz()
		if err == nil && rz.status == http.StatusOK {
			return time.Since(start)
		}
		if r.p.exited() {
			t.Fatalf("%s exited before it was ready (%v):\n%s", r.name, r.p.err, tail(r.p.logs.String(), 4000))
		}
		if time.Since(start) > timeout {
			t.Fatalf("%s not ready after %v (last /readyz: %+v %v):\n%s", r.name, timeout, rz, err, tail(r.p.logs.String(), 4000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
