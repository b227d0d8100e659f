package testutil

import (
	"context"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Proc is a child process started by Start.
type Proc struct {
	Cmd  *exec.Cmd
	Logs *SyncBuffer // its stdout and stderr, interleaved

	done chan struct{}
	err  error // Wait's result; set when done closes
}

// Start runs name with args in its own process group, with env as its
// environment (nil: the test's), and collects its output in Logs. When the
// test ends the whole group is killed (nginx's workers too), and the tail
// of Logs is logged if the test failed. On Linux the process also dies
// with the test binary, should a timeout stop it before its cleanups run.
func Start(t testing.TB, env []string, name string, args ...string) *Proc {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	cmd.SysProcAttr = ownGroup()
	p := &Proc{Cmd: cmd, Logs: &SyncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.Logs, p.Logs
	require.NoError(t, cmd.Start(), "start %s", name)
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("%s %v log:\n%s", filepath.Base(name), args, p.Tail())
		}
	})
	return p
}

// Kill kills the process's group and waits for the process to exit.
// Killing an exited process does nothing.
func (p *Proc) Kill() {
	if !p.Exited() {
		killGroup(p.Cmd.Process)
	}
	<-p.done
}

// Err waits for the process to exit and returns its exit error.
func (p *Proc) Err() error {
	<-p.done
	return p.err
}

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait waits up to timeout for the process to exit and returns its exit
// error; it fails the test if the process is still running then.
func (p *Proc) Wait(t testing.TB, timeout time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		t.Fatalf("%s did not exit within %v:\n%s", p.Cmd.Path, timeout, p.Tail())
		return nil
	}
}

// Tail is the last 4000 bytes of Logs.
func (p *Proc) Tail() string {
	const n = 4000
	s := p.Logs.String()
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// WaitLog waits up to timeout for a line of Logs that re matches and
// returns its submatches; it fails the test if the process exits first or
// the time passes.
func (p *Proc) WaitLog(t testing.TB, re *regexp.Regexp, timeout time.Duration) []string {
	t.Helper()
	for deadline := time.Now().Add(timeout); ; time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(p.Logs.String()); m != nil {
			return m
		}
		if p.Exited() {
			t.Fatalf("%s exited (%v) before logging %q:\n%s", p.Cmd.Path, p.err, re, p.Tail())
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not log %q within %v:\n%s", p.Cmd.Path, re, timeout, p.Tail())
		}
	}
}

// WaitListen waits up to timeout until something accepts TCP connections
// at addr; it fails the test if the process exits first or the time passes.
func (p *Proc) WaitListen(t testing.TB, addr string, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); ; time.Sleep(50 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if p.Exited() {
			t.Fatalf("%s exited (%v) before it listened on %s:\n%s", p.Cmd.Path, p.err, addr, p.Tail())
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on %s within %v:\n%s", p.Cmd.Path, addr, timeout, p.Tail())
		}
	}
}

// WaitOK polls url until it answers 200 OK and returns how long that took;
// it fails the test if the process exits first or timeout passes.
func (p *Proc) WaitOK(t testing.TB, url string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		status, body, err := Get(url)
		if err == nil && status == http.StatusOK {
			return time.Since(start)
		}
		if p.Exited() {
			t.Fatalf("%s exited (%v) before %s answered 200:\n%s", p.Cmd.Path, p.err, url, p.Tail())
		}
		if time.Since(start) > timeout {
			t.Fatalf("%s did not answer 200 within %v (last: %d %.200s %v):\n%s", url, timeout, status, body, err, p.Tail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Get fetches url, giving up after 2 seconds, and returns the status code
// and the body (its first MiB).
func Get(url string) (status int, body []byte, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, body, err
}

// FreeAddr returns a loopback address whose port was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// GoBuild builds the main package at importPath (for example
// "github.com/fmixzoo/zoo/cmd/zoo-serve") into a directory removed when the
// test ends, and returns the executable's path.
func GoBuild(t testing.TB, importPath string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), path.Base(importPath))
	out, err := exec.Command("go", "build", "-o", bin, importPath).CombinedOutput()
	require.NoError(t, err, "go build %s: %s", importPath, out)
	return bin
}
