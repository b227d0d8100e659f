//go:build unix

package kernels

import "syscall"

// cpuTime is the process's user and system time so far in nanoseconds:
// on a shared machine, with GOMAXPROCS=1, a measure of a kernel's work
// that time taken by other processes does not inflate.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
