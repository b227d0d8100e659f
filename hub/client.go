package hub

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"

	fmixzoo "github.com/fmixzoo/zoo"
)

// A Client resolves model names and loads their weights: the manifest it
// resolves names in, the store it fetches ONNX from, the verified cache it
// keeps them in, the importer for names published only as PyTorch
// checkpoints, and the logger and HTTP client all of them use. Set its
// fields before first use and leave them alone after; a Client is then
// safe for concurrent use. Options given to one call override its fields
// for that call.
//
// The zero value resolves names in the weights.json embedded in the binary,
// reads the embedded weights in place, imports nothing, draws no progress
// bar and logs to slog.Default(). FromEnv builds one from ZOO_… variables;
// the package-level Load, LoadContext, LoadNet, List and Info use such a
// default client.
type Client struct {
	// Manifest resolves names. nil: the manifest at ManifestSource, else
	// the weights.json embedded in the binary.
	Manifest *Manifest
	// ManifestSource is a weights.json path or http(s) URL, read on the
	// first call that needs it, with that call's context, and kept (a
	// failed read is tried again by the next call).
	ManifestSource string

	// Store holds the ONNX weights. nil: the store at StoreURI (see
	// OpenStore; "": the weights/ directory embedded in the binary),
	// opened for each load.
	Store    Store
	StoreURI string
	// S3Endpoint (http://host:port or https://host; "": AWS) and S3Region
	// configure the s3:// stores the client opens. Credentials come from
	// minio-go's chain (see S3Config).
	S3Endpoint, S3Region string

	// CacheDir is the verified cache's directory, used for weights from
	// remote stores and for converted upstream checkpoints. "":
	// ~/.cache/fmixzoo.
	CacheDir string
	// Offline uses the cache only: what it lacks is an error (ErrOffline)
	// instead of a download.
	Offline bool

	// Importer converts an entry's upstream checkpoint when the store has
	// no ONNX for it. nil: none, and Load reports ErrNoWeights with how to
	// convert the checkpoint ahead of time. FromEnv sets ImportPyTorch.
	Importer Importer
	// Upstream configures ImportPyTorch: a mirror, which run, whether a
	// changed file is accepted, whether the result is pushed to the store.
	Upstream UpstreamOptions

	// Logger receives downloads, retries, repairs and conversions. nil:
	// slog.Default().
	Logger *slog.Logger
	// HTTPClient is used for http(s) and s3 stores, manifest URLs and
	// upstream downloads. nil: one with sane timeouts.
	HTTPClient *http.Client
	// Progress receives a progress bar per download. nil: none.
	Progress io.Writer

	mu     sync.Mutex
	loaded *Manifest // read from ManifestSource
}

// embeddedManifest is the weights.json built into the binary, parsed once.
var embeddedManifest = sync.OnceValues(func() (*Manifest, error) { return ParseManifest(fmixzoo.Manifest) })

// LoadManifest returns the manifest c resolves names in: Manifest, else
// the one read from ManifestSource (on the first call, with ctx), else the
// embedded one.
func (c *Client) LoadManifest(ctx context.Context) (*Manifest, error) {
	if c.Manifest != nil {
		return c.Manifest, nil
	}
	if c.ManifestSource == "" {
		return embeddedManifest()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loaded == nil {
		m, err := ReadManifest(ctx, c.ManifestSource, c.HTTPClient)
		if err != nil {
			return nil, err
		}
		c.loaded = m
	}
	return c.loaded, nil
}

// List returns the sorted names in c's manifest matching a path.Match
// pattern ("*_cifar10_*"); "" matches all.
func (c *Client) List(ctx context.Context, pattern string) ([]string, error) {
	m, err := c.LoadManifest(ctx)
	if err != nil {
		return nil, err
	}
	return m.Names(pattern), nil
}

// Info returns the entry for a name or alias in c's manifest.
func (c *Client) Info(ctx context.Context, name string) (Entry, error) {
	m, err := c.LoadManifest(ctx)
	if err != nil {
		return Entry{}, err
	}
	return m.Lookup(name)
}

// OpenStore opens the store at uri (see the package-level OpenStore) with
// c's HTTP client, S3 endpoint and region.
func (c *Client) OpenStore(uri string) (Store, error) {
	return OpenStore(uri, StoreOptions{HTTPClient: c.HTTPClient, S3Endpoint: c.S3Endpoint, S3Region: c.S3Region})
}

// OpenCache opens c's cache: CacheDir, else ~/.cache/fmixzoo.
func (c *Client) OpenCache() (*Cache, error) { return openCacheDir(c.CacheDir) }

// entryWeights resolves name in the call's manifest (WithManifest, else c's)
// and returns its entry and verified ONNX weights. Errors other than the
// lookup's say what (load, load net) was being done.
func (c *Client) entryWeights(ctx context.Context, what, name string, opts []Option) (Entry, []byte, error) {
	cfg := c.config(opts)
	m := cfg.manifest
	if m == nil {
		var err error
		if m, err = c.LoadManifest(ctx); err != nil {
			return Entry{}, nil, fmt.Errorf("hub: %s %q: %w", what, name, err)
		}
	}
	e, err := m.Lookup(name)
	if err != nil {
		return Entry{}, nil, err
	}
	data, err := cfg.weights(ctx, e)
	if err != nil {
		return Entry{}, nil, fmt.Errorf("hub: %s %q: %w", what, name, err)
	}
	return e, data, nil
}

// Load resolves name (or an alias) in c's manifest, fetches its weights
// through the verified cache and builds a runnable Model; ctx bounds all
// of it, the manifest's first read included.
//
// The weights (and an upstream checkpoint) are untrusted input: a panic
// while decoding or converting them is returned as an error, never
// propagated to the caller.
func (c *Client) Load(ctx context.Context, name string, opts ...Option) (model *Model, err error) {
	defer func() {
		if r := recover(); r != nil {
			model, err = nil, fmt.Errorf("hub: load %q: internal error: %v", name, r)
		}
	}()
	e, data, err := c.entryWeights(ctx, "load", name, opts)
	if err != nil {
		return nil, err
	}
	if model, err = newModel(data, e); err != nil {
		return nil, fmt.Errorf("hub: load %q: %w", name, err)
	}
	return model, nil
}
