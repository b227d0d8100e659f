package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ErrNoWeights is returned (wrapped) when neither the store nor an importer
// can supply a model's ONNX weights; the message says how to get them.
var ErrNoWeights = errors.New("no ONNX weights available")

// Load resolves name (or an alias) in the manifest, fetches its weights
// through the verified cache and builds a runnable Model. It is
// LoadContext with context.Background().
func Load(name string, opts ...Option) (*Model, error) {
	return LoadContext(context.Background(), name, opts...)
}

// LoadContext is Load with a context bounding the whole operation, the
// manifest's first read included. It is Client.Load on the default client:
// configuration comes from the options, else the environment (see
// FromEnv): ZOO_MANIFEST (manifest path or URL), ZOO_STORE (store URI,
// default the embedded weights/), ZOO_CACHE (cache directory),
// ZOO_OFFLINE=1 (cache only), ZOO_S3_ENDPOINT, AWS_REGION and the AWS
// credential variables, ZOO_UPSTREAM… for converted checkpoints.
//
// The weights (and an upstream checkpoint) are untrusted input: a panic
// while decoding or converting them is returned as an error, never
// propagated to the caller.
func LoadContext(ctx context.Context, name string, opts ...Option) (*Model, error) {
	c, err := defaultClient()
	if err != nil {
		return nil, fmt.Errorf("hub: load %q: %w", name, err)
	}
	return c.Load(ctx, name, opts...)
}

// weights returns the entry's verified ONNX bytes.
func (c *config) weights(ctx context.Context, e Entry) ([]byte, error) {
	store, err := c.openStore()
	if err != nil {
		return nil, err
	}
	if _, ok := store.(localStore); ok && e.Weights.SHA256 != "" {
		// A local store is read in place: copying it into the cache would
		// only cost disk. It is verified all the same.
		data, err := readVerified(ctx, store, e)
		if errors.Is(err, ErrNotFound) && e.Upstream != nil {
			return c.importUpstream(ctx, e, nil, store, err)
		}
		return data, err
	}
	cache, err := c.openCache()
	if err != nil {
		return nil, err
	}
	if e.Weights.SHA256 == "" {
		return c.importUpstream(ctx, e, cache, store, nil)
	}
	open := func(ctx context.Context) (io.ReadCloser, int64, error) {
		rc, info, err := store.Get(ctx, e.Weights.Key)
		if err != nil {
			return nil, 0, fmt.Errorf("fetch %s from %s: %w", e.Weights.Key, store, err)
		}
		return rc, info.Size, nil
	}
	data, err := cache.Fetch(ctx, Digest{SHA256: e.Weights.SHA256, Size: e.Weights.Size}, open, FetchOptions{
		What:     e.Name,
		Offline:  *c.offline,
		Retries:  c.retries,
		Backoff:  c.backoff,
		Stall:    c.stall,
		Progress: c.progress,
		Logger:   c.logger,
	})
	if errors.Is(err, ErrNotFound) && e.Upstream != nil {
		return c.importUpstream(ctx, e, cache, store, err)
	}
	return data, err
}

// localStore marks stores on local disk or in the binary, which Load reads
// in place rather than through the cache.
type localStore interface{ local() }

func (*DirStore) local() {}
func (*FSStore) local()  {}

// readVerified reads an entry's weights from a local store and checks them.
func readVerified(ctx context.Context, store Store, e Entry) ([]byte, error) {
	rc, _, err := store.Get(ctx, e.Weights.Key)
	if err != nil {
		return nil, fmt.Errorf("fetch %s from %s: %w", e.Weights.Key, store, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(ctxReader{ctx, rc}, e.Weights.Size+1))
	if err != nil {
		return nil, fmt.Errorf("read %s from %s: %w", e.Weights.Key, store, err)
	}
	if err := verify(e.Weights.Key, data, Digest{SHA256: e.Weights.SHA256, Size: e.Weights.Size}); err != nil {
		return nil, fmt.Errorf("%s: %w", store, err)
	}
	return data, nil
}

func (c *config) openCache() (*Cache, error) { return openCacheDir(c.cacheDir) }

// openCacheDir opens the cache in dir, else in ~/.cache/fmixzoo.
func openCacheDir(dir string) (*Cache, error) {
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("hub: no cache directory: set Client.CacheDir or ZOO_CACHE (%w)", err)
		}
		dir = filepath.Join(home, ".cache", "fmixzoo")
	}
	return OpenCache(dir)
}

func (c *config) openStore() (Store, error) {
	if c.store != nil {
		return c.store, nil
	}
	return OpenStore(*c.storeURI, c.storeOpts)
}

// importUpstream converts the entry's upstream checkpoint through the
// importer hook, or explains how to get the weights when there is none.
func (c *config) importUpstream(ctx context.Context, e Entry, cache *Cache, store Store, cause error) ([]byte, error) {
	if e.Upstream != nil && c.importer != nil {
		if cache == nil {
			var err error
			if cache, err = c.openCache(); err != nil {
				return nil, err
			}
		}
		c.logger.Info("hub: no ONNX weights in the store; importing the upstream checkpoint",
			"name", e.Name, "url", stripUserinfo(e.Upstream.URL("", 0)))
		data, err := c.importer(ctx, e, ImportEnv{
			Cache: cache, Store: store, Offline: *c.offline, Logger: c.logger, Progress: c.progress,
			HTTPClient: c.httpClient, Upstream: c.upstream,
		})
		if err != nil {
			return nil, fmt.Errorf("import upstream checkpoint: %w", err)
		}
		return data, nil
	}
	if cause == nil {
		cause = fmt.Errorf("%s has no ONNX for %q and weights.json records no sha256 for it", store, e.Name)
	}
	if e.Upstream == nil {
		return nil, fmt.Errorf("%w: %w", ErrNoWeights, cause)
	}
	return nil, fmt.Errorf("%w: %w; the authors published only PyTorch weights (%s): "+
		"convert them with `zoo-train pull %s` (or `zoo-train import`), which writes the ONNX and "+
		"its weights.json entry, then set ZOO_STORE and ZOO_MANIFEST to the result",
		ErrNoWeights, cause, stripUserinfo(e.Upstream.URL("", 0)), e.Name)
}
