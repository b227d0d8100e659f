// Package atomicfile replaces files so that a reader, or the next run after
// a crash, sees the old content or the new one, never a part: the new content
// goes to a temporary file in the same directory, is synced, renamed over the
// target, and the directory is synced so the rename survives a power cut.
// Every file the project writes in place (cache entries, store objects,
// checkpoints, weights.json, converted ONNX, reports) goes through here.
package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Write replaces path with data, with permissions perm.
func Write(path string, data []byte, perm os.FileMode) error {
	return WriteFunc(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteFunc replaces path with what write writes, with permissions perm. An
// error from write is returned as it is, and path is left untouched; the
// temporary file is removed on every failure.
func WriteFunc(path string, perm os.FileMode, write func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, tempPrefix(path)+"*")
	if err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("atomicfile: sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("atomicfile: close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	SyncDir(dir)
	return nil
}

// Leftovers lists the temporary files an interrupted WriteFunc of path left
// behind (a crash between create and rename), for the caller to remove once
// it knows no other writer is running.
func Leftovers(path string) []string {
	dir, prefix := filepath.Dir(path), tempPrefix(path)
	entries, _ := os.ReadDir(dir)
	var old []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			old = append(old, filepath.Join(dir, e.Name()))
		}
	}
	return old
}

// SyncDir makes renames in dir durable; a failure only weakens durability,
// so it is not reported.
func SyncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		f.Sync()
		f.Close()
	}
}

// tempPrefix names temporaries of path: hidden, so that directory listings
// of stores skip them.
func tempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }
