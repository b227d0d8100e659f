//go:build unix

package hub

import (
	"os"
	"syscall"
)

// openNoFollow opens path for reading without following a final symlink
// (it fails with ELOOP instead) and without blocking on a FIFO or device
// (O_NONBLOCK; the caller checks for a regular file before reading).
func openNoFollow(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
}
