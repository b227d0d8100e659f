package hub

import (
	"context"
	"os"
	"sync"
	"time"

	fmixzoo "github.com/fmixzoo/zoo"
)

var defaultManifest struct {
	sync.Mutex
	src string
	m   *Manifest
}

// DefaultManifest is the manifest named by ZOO_MANIFEST (a path or URL),
// else the weights.json embedded in the binary. It is read again when
// ZOO_MANIFEST changes.
func DefaultManifest() (*Manifest, error) {
	src := os.Getenv("ZOO_MANIFEST")
	defaultManifest.Lock()
	defer defaultManifest.Unlock()
	if defaultManifest.m != nil && defaultManifest.src == src {
		return defaultManifest.m, nil
	}
	var m *Manifest
	var err error
	if src == "" {
		m, err = ParseManifest(fmixzoo.Manifest)
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		m, err = ReadManifest(ctx, src, nil)
	}
	if err != nil {
		return nil, err
	}
	defaultManifest.src, defaultManifest.m = src, m
	return m, nil
}

// List returns the sorted names in the default manifest matching a
// path.Match-style pattern ("*_cifar10_*"); "" matches all. It returns nil
// when the manifest cannot be read; Info reports why.
func List(pattern string) []string {
	m, err := DefaultManifest()
	if err != nil {
		return nil
	}
	return m.Names(pattern)
}

// Info returns the default manifest's entry for a name or alias.
func Info(name string) (Entry, error) {
	m, err := DefaultManifest()
	if err != nil {
		return Entry{}, err
	}
	return m.Lookup(name)
}
