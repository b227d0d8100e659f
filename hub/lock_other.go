//go:build !unix

package hub

import "context"

// lockFile is a no-op where flock is unavailable: fetches are then merged
// within one process only. The temporary-file-and-rename protocol still
// keeps every cached file whole.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	return func() {}, nil
}
