//go:build !unix

package hub

import (
	"fmt"
	"os"
)

// openNoFollow opens path for reading, refusing a symlink (checked with
// Lstat first: this platform has no O_NOFOLLOW).
func openNoFollow(path string) (*os.File, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if st.Mode()&os.ModeSymlink != 0 {
		return nil, fmt.Errorf("open %s: is a symlink", path)
	}
	return os.Open(path)
}
