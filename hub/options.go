package hub

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// Option configures one call of Load, LoadContext or LoadNet (or of a
// Client's methods of those names), overriding the client's settings.
type Option func(*config)

// config is a client's settings for one call, its options applied.
type config struct {
	store      Store
	storeURI   *string
	storeOpts  StoreOptions
	cacheDir   string
	offline    *bool
	manifest   *Manifest
	logger     *slog.Logger
	httpClient *http.Client
	progress   io.Writer
	progressOn *bool
	retries    int
	backoff    time.Duration
	stall      time.Duration
	importer   Importer
	upstream   UpstreamOptions
}

// WithStore loads weights from s instead of the client's store.
func WithStore(s Store) Option { return func(c *config) { c.store = s } }

// WithStoreURI opens the store at uri (see OpenStore) instead of the
// client's store.
func WithStoreURI(uri string) Option { return func(c *config) { c.storeURI = &uri } }

// WithCache uses dir as the cache instead of the client's CacheDir.
func WithCache(dir string) Option { return func(c *config) { c.cacheDir = dir } }

// WithOffline sets offline mode (cache only), overriding the client's.
func WithOffline(offline bool) Option { return func(c *config) { c.offline = &offline } }

// WithManifest resolves names in m instead of the client's manifest.
func WithManifest(m *Manifest) Option { return func(c *config) { c.manifest = m } }

// WithLogger logs downloads, retries and repairs to l instead of the
// client's logger.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithHTTPClient uses client for http(s) and s3 stores and upstream
// downloads instead of the client's.
func WithHTTPClient(client *http.Client) Option { return func(c *config) { c.httpClient = client } }

// WithProgress draws the download progress bar on w; nil turns it off.
// Without it, the client's Progress is used (FromEnv: stderr when stderr
// is a terminal).
func WithProgress(w io.Writer) Option {
	return func(c *config) { on := w != nil; c.progress, c.progressOn = w, &on }
}

// WithRetries sets how many times a transient download failure is retried
// (default 4; negative: never) and the first backoff (default 250 ms,
// doubling, with jitter).
func WithRetries(n int, backoff time.Duration) Option {
	return func(c *config) { c.retries, c.backoff = n, backoff }
}

// WithStallTimeout aborts (and retries) a download attempt that receives
// no data for d (default 60 s). Use a context deadline to bound the whole load.
func WithStallTimeout(d time.Duration) Option { return func(c *config) { c.stall = d } }

// WithImporter sets the function that converts an entry's upstream
// PyTorch checkpoint when the store has no ONNX, instead of the client's
// Importer; nil turns importing off.
func WithImporter(imp Importer) Option { return func(c *config) { c.importer = imp } }

// Importer converts an entry's upstream checkpoint (Entry.Upstream) into
// ONNX bytes, caching what it fetched through env. ImportPyTorch is the
// zoo's.
type Importer func(ctx context.Context, e Entry, env ImportEnv) ([]byte, error)

// ImportEnv is what an Importer may use.
type ImportEnv struct {
	Cache      *Cache
	Store      Store
	Offline    bool
	Logger     *slog.Logger
	Progress   io.Writer    // nil: quiet
	HTTPClient *http.Client // nil: the importer's default
	Upstream   UpstreamOptions
}

// config applies opts over c's settings.
func (c *Client) config(opts []Option) *config {
	cfg := &config{importer: c.Importer, upstream: c.Upstream}
	for _, o := range opts {
		o(cfg)
	}
	if cfg.logger == nil {
		cfg.logger = c.Logger
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	if cfg.httpClient == nil {
		cfg.httpClient = c.HTTPClient
	}
	if cfg.offline == nil {
		off := c.Offline
		cfg.offline = &off
	}
	if cfg.progressOn == nil {
		cfg.progress = c.Progress
	}
	if cfg.cacheDir == "" {
		cfg.cacheDir = c.CacheDir
	}
	if cfg.store == nil && cfg.storeURI == nil {
		uri := c.StoreURI
		cfg.store, cfg.storeURI = c.Store, &uri
	}
	cfg.storeOpts = StoreOptions{HTTPClient: cfg.httpClient, S3Endpoint: c.S3Endpoint, S3Region: c.S3Region}
	return cfg
}
