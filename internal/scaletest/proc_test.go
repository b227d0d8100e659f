package scaletest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/testutil"
)

// peakRSS is the process's peak resident set (VmHWM) in bytes; 0 once it
// has exited.
func peakRSS(p *testutil.Proc) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Cmd.Process.Pid))
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

	p       *testutil.Proc
	starts  int
	peakRSS int64 // the largest VmHWM over its runs
}

func (r *replica) url() string { return "http://" + r.addr }

func (r *replica) start(t testing.TB) {
	t.Helper()
	r.p = testutil.Start(t, append(r.env, "ZOO_CACHE="+r.cache), r.bin, "--addr", r.addr)
	r.starts++
}

// notePeak records the running process's peak RSS.
func (r *replica) notePeak() { r.peakRSS = max(r.peakRSS, peakRSS(r.p)) }

// signal records the peak RSS and sends sig to the replica.
func (r *replica) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	r.notePeak()
	require.NoError(t, r.p.Cmd.Process.Signal(sig), "%s: signal %v", r.name, sig)
}

// readyz is the replica's /readyz answer: status code and reason.
type readyz struct {
	status int
	Ready  bool   `json:"ready"`
	Reason string `json:"reason"`
}

func (r *replica) readyz() (readyz, error) {
	status, body, err := testutil.Get(r.url() + "/readyz")
	if err != nil {
		return readyz{}, err
	}
	rz := readyz{status: status}
	if err := json.Unmarshal(body, &rz); err != nil {
		return rz, fmt.Errorf("readyz: %w: %q", err, body)
	}
	return rz, nil
}

// waitReady polls /readyz until it answers 200 and returns how long that took.
func (r *replica) waitReady(t testing.TB, timeout time.Duration) time.Duration {
	t.Helper()
	return r.p.WaitOK(t, r.url()+"/readyz", timeout)
}
