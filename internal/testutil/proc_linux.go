package testutil

import (
	"os"
	"syscall"
)

// ownGroup puts the child in its own process group, killed with the test
// binary (Pdeathsig) should that die first.
func ownGroup() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killGroup(p *os.Process) { syscall.Kill(-p.Pid, syscall.SIGKILL) }
