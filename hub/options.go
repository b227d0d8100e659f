package hub

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"
)

// Option configures Load and LoadContext.
type Option func(*config)

type config struct {
	store      Store
	storeURI   *string
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
}

// WithStore loads weights from s instead of ZOO_STORE.
func WithStore(s Store) Option { return func(c *config) { c.store = s } }

// WithStoreURI opens the store at uri (see OpenStore) instead of ZOO_STORE.
func WithStoreURI(uri string) Option { return func(c *config) { c.storeURI = &uri } }

// WithCache uses dir as the cache instead of DefaultCacheDir.
func WithCache(dir string) Option { return func(c *config) { c.cacheDir = dir } }

// WithOffline sets offline mode (cache only), overriding ZOO_OFFLINE.
func WithOffline(offline bool) Option { return func(c *config) { c.offline = &offline } }

// WithManifest resolves names in m instead of DefaultManifest.
func WithManifest(m *Manifest) Option { return func(c *config) { c.manifest = m } }

// WithLogger logs downloads, retries and repairs to l (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithHTTPClient uses client for http(s) and s3 stores.
func WithHTTPClient(client *http.Client) Option { return func(c *config) { c.httpClient = client } }

// WithProgress draws the download progress bar on w; nil turns it off. By
// default it goes to stderr when stderr is a terminal.
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
// PyTorch checkpoint when the store has no ONNX (default DefaultImporter).
func WithImporter(imp Importer) Option { return func(c *config) { c.importer = imp } }

// Importer converts an entry's upstream checkpoint (Entry.Upstream) into
// ONNX bytes, caching what it fetched through env. It is the hook the zoo's
// .pt import fills (see DefaultImporter).
type Importer func(ctx context.Context, e Entry, env ImportEnv) ([]byte, error)

// ImportEnv is what an Importer may use.
type ImportEnv struct {
	Cache      *Cache
	Store      Store
	Offline    bool
	Logger     *slog.Logger
	Progress   io.Writer    // nil: quiet
	HTTPClient *http.Client // from WithHTTPClient; nil: the importer's default
}

// DefaultImporter is used by Load when no WithImporter option is given. It
// is nil until a package that can import PyTorch checkpoints sets it.
var DefaultImporter Importer

func newConfig(opts []Option) *config {
	c := &config{importer: DefaultImporter}
	for _, o := range opts {
		o(c)
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	if c.offline == nil {
		off := os.Getenv("ZOO_OFFLINE")
		on := off != "" && off != "0" && off != "false"
		c.offline = &on
	}
	if c.progressOn == nil {
		c.progress = stderrIfTerminal()
	}
	return c
}
