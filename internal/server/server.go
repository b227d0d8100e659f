package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/net/netutil"
)

// Config configures a Server. Zero fields take the defaults documented on
// each; New rejects negative ones.
type Config struct {
	// MaxBatch is the most images run in one batch (default 32).
	MaxBatch int
	// BatchDelay is how long a batch waits for more requests once its first
	// one arrived (0: the default 2ms; negative: do not wait).
	BatchDelay time.Duration
	// MaxQueue is how many requests may wait per model before the server
	// answers 503 with Retry-After (default 1024).
	MaxQueue int
	// Workers is how many batches of one model may run at once (default 1).
	Workers int
	// MaxModels is how many models stay loaded; beyond it the least
	// recently used is unloaded (default 4).
	MaxModels int
	// Models are loaded and warmed up by Preload, before the server reports
	// ready.
	Models []string
	// MaxBody bounds a request body in bytes (default 16 MiB; 413 beyond).
	MaxBody int64
	// MaxPixels bounds an image's width×height (default 40e6; 413 beyond),
	// checked on the image header before decoding.
	MaxPixels int64
	// MaxImages bounds the images of one request (default 256).
	MaxImages int
	// DecodeMemory is the process-wide budget, in bytes, for request bodies
	// and the images decoded from them: pixels, preprocessing planes and
	// tensors (default 512 MiB). A request waits up to 5s for room, then
	// gets 503 with Retry-After; an image that alone needs more gets 413.
	DecodeMemory int64
	// MaxDecodes bounds the images decoded at the same time (default
	// GOMAXPROCS).
	MaxDecodes int
	// MaxJPEGScans bounds a JPEG's scans, counted before decoding (default
	// 100; ordinary progressive JPEGs have about 10).
	MaxJPEGScans int
	// MaxConns bounds the connections Serve accepts at once (default 1024);
	// more wait in the kernel's accept queue.
	MaxConns int
	// ReadTimeout bounds reading one request, body included (default 30s),
	// so that a slow body does not hold a connection.
	ReadTimeout time.Duration
	// RequestTimeout bounds a request's work, model loading included
	// (default 60s).
	RequestTimeout time.Duration
	// LoadTimeout bounds loading and warming up one model (default 10m).
	LoadTimeout time.Duration
	// Token, when set, is the bearer token every endpoint but the health
	// checks and the demo page's static files requires.
	Token string
	// Logger receives one line per request and the model lifecycle
	// (default slog.Default()).
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.MaxBatch < 0 || c.MaxQueue < 0 || c.Workers < 0 || c.MaxModels < 0 || c.MaxBody < 0 ||
		c.MaxPixels < 0 || c.MaxImages < 0 || c.RequestTimeout < 0 || c.LoadTimeout < 0 ||
		c.DecodeMemory < 0 || c.MaxDecodes < 0 || c.MaxJPEGScans < 0 || c.MaxConns < 0 || c.ReadTimeout < 0 {
		return c, fmt.Errorf("server: negative limit in config %+v", c)
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.MaxBatch, 32)
	def(&c.MaxQueue, 1024)
	def(&c.Workers, 1)
	def(&c.MaxModels, 4)
	def(&c.MaxImages, 256)
	def(&c.MaxDecodes, runtime.GOMAXPROCS(0))
	def(&c.MaxJPEGScans, defaultMaxScans)
	def(&c.MaxConns, 1024)
	if c.DecodeMemory == 0 {
		c.DecodeMemory = defaultDecodeMemory
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = 30 * time.Second
	}
	if c.BatchDelay == 0 {
		c.BatchDelay = 2 * time.Millisecond
	}
	if c.MaxBody == 0 {
		c.MaxBody = 16 << 20
	}
	if c.MaxPixels == 0 {
		c.MaxPixels = 40_000_000
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 60 * time.Second
	}
	if c.LoadTimeout == 0 {
		c.LoadTimeout = 10 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if len(c.Models) > c.MaxModels {
		return c, fmt.Errorf("server: %d models to preload but at most %d may stay loaded", len(c.Models), c.MaxModels)
	}
	return c, nil
}

// Server serves models of a Catalog over HTTP. Create one with New; it is an
// http.Handler.
type Server struct {
	cfg     Config
	reg     *registry
	metrics *metrics
	log     *slog.Logger
	handler http.Handler

	budget      *budget       // Config.DecodeMemory
	decodeSlots chan struct{} // Config.MaxDecodes

	ready    atomic.Bool // preloading done
	draining atomic.Bool // shutting down
	// preloadErr is the last failed Preload's error, reported by /readyz
	// until a Preload succeeds.
	preloadErr atomic.Pointer[error]
}

// New returns a server for cat. It loads nothing: models load on first use,
// or in Preload.
func New(cat Catalog, cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, metrics: newMetrics(), log: cfg.Logger,
		budget: newBudget(cfg.DecodeMemory, budgetWait), decodeSlots: make(chan struct{}, cfg.MaxDecodes)}
	s.metrics.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "zoo_decode_memory_bytes",
		Help: "Bytes of the decoding budget (--decode-memory) charged now by requests: bodies, decoded images, input tensors.",
	}, func() float64 { return float64(s.budget.inUse()) }))
	s.reg = newRegistry(cat, cfg, s.metrics, s.log)
	s.handler = s.routes()
	if len(cfg.Models) == 0 {
		s.ready.Store(true)
	}
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Preload loads and warms up Config.Models, then marks the server ready.
// Until it succeeds, /readyz answers 503 with the reason: preloading, or the
// last failed Preload's error. It may be called again after a failure (for
// example while the store is unreachable).
func (s *Server) Preload(ctx context.Context) error {
	for _, name := range s.cfg.Models {
		if _, err := s.reg.get(ctx, name); err != nil {
			err = fmt.Errorf("server: preload %q: %w", name, err)
			s.preloadErr.Store(&err)
			return err
		}
	}
	s.preloadErr.Store(nil)
	s.ready.Store(true)
	return nil
}

// notReadyReason says why Ready is false.
func (s *Server) notReadyReason() string {
	if s.draining.Load() {
		return "shutting down"
	}
	if p := s.preloadErr.Load(); p != nil {
		return (*p).Error()
	}
	return fmt.Sprintf("preloading %s", strings.Join(s.cfg.Models, ", "))
}

// Ready reports whether /readyz answers 200.
func (s *Server) Ready() bool { return s.ready.Load() && !s.draining.Load() }

// Close unloads every model once its queued requests are done. Call it after
// the HTTP server has stopped.
func (s *Server) Close() {
	s.draining.Store(true)
	s.reg.close()
}

// Serve serves on ln until ctx ends, then shuts down gracefully: it stops
// accepting connections, reports not ready, waits up to shutdownTimeout for
// in-flight requests and unloads the models. It returns nil after a clean
// shutdown. It holds at most Config.MaxConns connections at once, and
// a request's headers and body must arrive within Config.ReadTimeout.
func (s *Server) Serve(ctx context.Context, ln net.Listener, shutdownTimeout time.Duration) error {
	ln = netutil.LimitListener(ln, s.cfg.MaxConns)
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: min(10*time.Second, s.cfg.ReadTimeout),
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.RequestTimeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		s.Close()
		return fmt.Errorf("server: serve: %w", err)
	case <-ctx.Done():
	}
	s.draining.Store(true)
	s.log.Info("shutting down", "timeout", shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	s.Close()
	if err != nil {
		return fmt.Errorf("server: shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("server: serve: %w", err)
	}
	return nil
}

func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.observe, s.recoverer)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errorf(http.StatusNotFound, "no such endpoint: %s %s", clip(r.Method), clip(r.URL.Path)))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errorf(http.StatusMethodNotAllowed, "method %s not allowed on %s", clip(r.Method), clip(r.URL.Path)))
	})

	// Open to all: health checks and the demo page's static files.
	r.Get("/healthz", s.live)
	r.Get("/readyz", s.readyz)
	r.Get("/v2/health/live", s.live)
	r.Get("/v2/health/ready", s.readyz)
	r.Get("/", s.demoIndex)
	r.Handle("/assets/*", s.demoAssets())

	r.Group(func(r chi.Router) {
		r.Use(s.auth, s.timeout)
		r.Handle("/metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
		r.Get("/v1/models", s.listModels)
		r.Get("/v1/models/{name}", s.getModel)
		r.Post("/v1/models/{name}/classify", s.classify)
		r.Post("/v1/models/{name}/explain", s.explain)
		r.Get("/v2", s.v2Server)
		r.Get("/v2/models/{name}", s.v2Model)
		r.Get("/v2/models/{name}/ready", s.v2ModelReady)
		r.Post("/v2/models/{name}/infer", s.v2Infer)
	})
	return r
}

func (s *Server) live(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"live": true})
}

// readyz reports readiness, the loaded models and, under "failed", each
// model whose last load failed (name → reason and time): a model that
// cannot load makes its own requests fail, not the server.
func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	body := map[string]any{"ready": s.Ready()}
	if f := s.reg.failures(); len(f) > 0 {
		body["failed"] = f
	}
	if !s.Ready() {
		body["reason"] = s.notReadyReason()
		writeJSON(w, http.StatusServiceUnavailable, body)
		return
	}
	body["loaded"] = s.reg.names()
	writeJSON(w, http.StatusOK, body)
}

// requestNote is filled by handlers for the request's log line and metrics.
type requestNote struct {
	model string // set once the model is known to exist
	// held is what the request holds of the decoding budget until it ends
	// (its input tensor, a v2 body); observe releases it.
	held int64
}

type noteKey struct{}

func note(r *http.Request) *requestNote {
	if n, ok := r.Context().Value(noteKey{}).(*requestNote); ok {
		return n
	}
	return &requestNote{}
}

// observe logs one line per request and records the request metrics. It
// logs neither headers nor the query string, so no credential reaches the log.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		n := &requestNote{}
		r = r.WithContext(context.WithValue(r.Context(), noteKey{}, n))
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		s.metrics.inFlight.Inc()
		defer func() {
			s.budget.release(n.held)
			s.metrics.inFlight.Dec()
			status := ww.Status()
			if status == 0 {
				status = http.StatusOK
			}
			d := time.Since(start)
			s.metrics.requests.WithLabelValues(n.model, fmt.Sprint(status)).Inc()
			s.metrics.latency.WithLabelValues(n.model).Observe(d.Seconds())
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method),
				slog.String("path", clip(r.URL.Path)),
				slog.Int("status", status),
				slog.Int("bytes", ww.BytesWritten()),
				slog.Float64("ms", float64(d.Microseconds())/1000),
				slog.String("model", n.model),
				slog.String("remote", r.RemoteAddr))
		}()
		next.ServeHTTP(ww, r)
	})
}

// recoverer turns a panicking handler into a 500 and a logged stack.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("panic serving request", "path", clip(r.URL.Path), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			writeError(w, errorf(http.StatusInternalServerError, "internal error"))
		}()
		next.ServeHTTP(w, r)
	})
}

// auth requires "Authorization: Bearer <Config.Token>" when a token is set;
// the scheme is matched case-insensitively (RFC 7235). Both sides are
// hashed first so that the comparison takes the same time whatever the
// lengths.
func (s *Server) auth(next http.Handler) http.Handler {
	if s.cfg.Token == "" {
		return next
	}
	want := sha256.Sum256([]byte(s.cfg.Token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		scheme, tok, ok := strings.Cut(h, " ")
		ok = ok && strings.EqualFold(scheme, "Bearer")
		tok = strings.TrimLeft(tok, " ")
		got := sha256.Sum256([]byte(tok))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 || !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="zoo-serve"`)
			writeError(w, errorf(http.StatusUnauthorized, "missing or wrong bearer token"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// timeout bounds a request's work with Config.RequestTimeout.
func (s *Server) timeout(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// fail writes err, logging it first when it is an internal error.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
	case errors.Is(err, context.DeadlineExceeded):
		err = &apiError{status: http.StatusServiceUnavailable, msg: "request timed out", retryAfter: 1}
	case errors.Is(err, context.Canceled):
		err = &apiError{status: 499, msg: "client closed the request"}
	default:
		s.log.Error("request failed", "path", clip(r.URL.Path), "err", err)
	}
	writeError(w, err)
}
