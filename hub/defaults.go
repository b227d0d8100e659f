package hub

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	fmixzoo "github.com/fmixzoo/zoo"
)

// maxManifestSize bounds a manifest read from a file or URL.
const maxManifestSize = 16 << 20

// ReadManifest reads a manifest from a file path or an http(s) URL.
func ReadManifest(ctx context.Context, src string, client *http.Client) (*Manifest, error) {
	var data []byte
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		if client == nil {
			client = defaultHTTPClient()
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
		if err != nil {
			return nil, fmt.Errorf("hub: read manifest %s: %w", redactURL(src), err)
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("hub: read manifest %s: %w", redactURL(src), unwrapURLError(err))
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("hub: read manifest %s: HTTP %d", redactURL(src), resp.StatusCode)
		}
		data, err = io.ReadAll(io.LimitReader(resp.Body, maxManifestSize+1))
		if err != nil {
			return nil, fmt.Errorf("hub: read manifest %s: %w", redactURL(src), err)
		}
	} else {
		f, err := os.Open(src)
		if err != nil {
			return nil, fmt.Errorf("hub: read manifest: %w", err)
		}
		defer f.Close()
		data, err = io.ReadAll(io.LimitReader(f, maxManifestSize+1))
		if err != nil {
			return nil, fmt.Errorf("hub: read manifest: %w", err)
		}
	}
	if len(data) > maxManifestSize {
		return nil, fmt.Errorf("hub: read manifest %s: larger than %d bytes", redactURL(src), maxManifestSize)
	}
	m, err := ParseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("%w (from %s)", err, redactURL(src))
	}
	return m, nil
}

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
