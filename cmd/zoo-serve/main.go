// Command zoo-serve serves the model zoo's classifiers over HTTP: a native
// API (/v1), the Open Inference Protocol v2 (/v2), Prometheus metrics
// (/metrics) and a demo page (/).
//
// Usage:
//
//	zoo-serve [flags]
//
// Every flag has an environment fallback (ZOO_…), shown by `zoo-serve -h`;
// a flag given on the command line wins. The bearer token is read from
// ZOO_TOKEN only, so that it never shows in a process list.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/server"
	"github.com/fmixzoo/zoo/kernels"
)

func main() {
	// The request goroutines need the processors between runs: kernel
	// helpers spin briefly (kernels.ServerHelperSpin) before they park.
	kernels.SetHelperSpin(kernels.ServerHelperSpin)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "zoo-serve:", err)
		os.Exit(1)
	}
}

// options are zoo-serve's settings, from flags and ZOO_… variables.
type options struct {
	addr, manifest, store, cache string
	offline                      bool
	models                       string
	logFormat, logLevel          string
	shutdownTimeout              time.Duration
	cfg                          server.Config
}

// byteSize is a flag.Value for sizes like 16MiB, 512KiB or 1048576.
type byteSize struct{ p *int64 }

func (b byteSize) String() string {
	if b.p == nil {
		return ""
	}
	return strconv.FormatInt(*b.p, 10)
}

func (b byteSize) Set(s string) error {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = v, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("want a size like 16MiB, 512KiB or 1048576")
	}
	*b.p = n * mult
	return nil
}

// parseFlags reads args, with ZOO_… variables as fallbacks.
func parseFlags(args []string, getenv func(string) string, out io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("zoo-serve", flag.ContinueOnError)
	fs.SetOutput(out)
	env := map[string]string{} // flag name → variable
	str := func(p *string, name, envName, def, usage string) {
		fs.StringVar(p, name, def, usage+" (env "+envName+")")
		env[name] = envName
	}
	intf := func(p *int, name, envName string, def int, usage string) {
		fs.IntVar(p, name, def, usage+" (env "+envName+")")
		env[name] = envName
	}
	dur := func(p *time.Duration, name, envName string, def time.Duration, usage string) {
		fs.DurationVar(p, name, def, usage+" (env "+envName+")")
		env[name] = envName
	}
	c := &o.cfg
	str(&o.addr, "addr", "ZOO_ADDR", "127.0.0.1:8080", "listen address; port 0 picks a free port (logged)")
	str(&o.manifest, "manifest", "ZOO_MANIFEST", "", "weights.json path or URL (default: the manifest built into the binary)")
	str(&o.store, "store", "ZOO_STORE", "", "weights store: a directory, file://, http(s):// or s3:// URI (default: the weights built into the binary)")
	str(&o.cache, "cache", "ZOO_CACHE", "", "verified weights cache directory (default: the user cache directory)")
	fs.BoolVar(&o.offline, "offline", false, "use the cache only, never the network (env ZOO_OFFLINE=1)")
	env["offline"] = "ZOO_OFFLINE"
	str(&o.models, "models", "ZOO_MODELS", "", "comma-separated models to load and warm up before reporting ready; others load on first use")
	intf(&c.MaxModels, "max-models", "ZOO_MAX_MODELS", 4, "models kept loaded; beyond it the least recently used is unloaded")
	intf(&c.MaxBatch, "max-batch", "ZOO_MAX_BATCH", 32, "most images run in one batch")
	dur(&c.BatchDelay, "batch-delay", "ZOO_BATCH_DELAY", 2*time.Millisecond, "how long a batch waits for more requests once its first arrived; 0: no wait")
	intf(&c.MaxQueue, "max-queue", "ZOO_MAX_QUEUE", 1024, "requests waiting per model before answering 503 with Retry-After")
	intf(&c.Workers, "workers", "ZOO_WORKERS", 1, "batches of one model run at the same time")
	c.MaxBody = 16 << 20
	fs.Var(byteSize{&c.MaxBody}, "max-body", "largest request body, e.g. 16MiB; larger ones get 413 (env ZOO_MAX_BODY)")
	env["max-body"] = "ZOO_MAX_BODY"
	c.MaxPixels = 40_000_000
	fs.Int64Var(&c.MaxPixels, "max-pixels", c.MaxPixels, "largest image, width×height, checked before decoding; larger ones get 413 (env ZOO_MAX_PIXELS)")
	env["max-pixels"] = "ZOO_MAX_PIXELS"
	intf(&c.MaxImages, "max-images", "ZOO_MAX_IMAGES", 256, "most images in one request")
	c.DecodeMemory = 512 << 20
	fs.Var(byteSize{&c.DecodeMemory}, "decode-memory", "memory for request bodies and the images decoded from them, all requests together, charged before decoding "+
		"(pixels × bytes per pixel, planes, tensors); a request waits up to 5s for room, then gets 503 with Retry-After; an image needing more alone gets 413 (env ZOO_DECODE_MEMORY)")
	env["decode-memory"] = "ZOO_DECODE_MEMORY"
	intf(&c.MaxDecodes, "max-decodes", "ZOO_MAX_DECODES", runtime.GOMAXPROCS(0), "images decoded at the same time")
	intf(&c.MaxJPEGScans, "max-jpeg-scans", "ZOO_MAX_JPEG_SCANS", 100, "most scans in a JPEG, counted before decoding (a progressive JPEG's decoding time grows with scans × pixels)")
	intf(&c.MaxConns, "max-conns", "ZOO_MAX_CONNS", 1024, "connections served at once; more wait to be accepted")
	dur(&c.ReadTimeout, "read-timeout", "ZOO_READ_TIMEOUT", 30*time.Second, "bound on reading one request, headers and body")
	dur(&c.RequestTimeout, "request-timeout", "ZOO_REQUEST_TIMEOUT", 60*time.Second, "bound on one request's work, model loading included")
	dur(&c.LoadTimeout, "load-timeout", "ZOO_LOAD_TIMEOUT", 10*time.Minute, "bound on loading and warming up one model")
	dur(&o.shutdownTimeout, "shutdown-timeout", "ZOO_SHUTDOWN_TIMEOUT", 30*time.Second, "on SIGTERM or SIGINT, how long in-flight requests may take to finish")
	str(&o.logFormat, "log-format", "ZOO_LOG_FORMAT", "text", "log format: text or json")
	str(&o.logLevel, "log-level", "ZOO_LOG_LEVEL", "info", "log level: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintln(out, "usage: zoo-serve [flags]")
		fmt.Fprintln(out)
		fmt.Fprintln(out, "Serves the model zoo's classifiers over HTTP: /v1 (native), /v2 (Open Inference Protocol),")
		fmt.Fprintln(out, "/metrics, /healthz, /readyz and a demo page at /. A flag wins over its environment variable.")
		fmt.Fprintln(out, "ZOO_TOKEN, when set, is the bearer token required on everything but health checks and the")
		fmt.Fprintln(out, "demo page's static files (environment only, so it never shows in a process list).")
		fmt.Fprintln(out)
		fmt.Fprintln(out, "flags:")
		fs.PrintDefaults()
	}
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		v := getenv(env[f.Name])
		if v == "" || err != nil {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = fmt.Errorf("%s=%q: %w", env[f.Name], v, e)
		}
	})
	if err != nil {
		return nil, err
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q (see -h)", fs.Args())
	}
	for _, m := range strings.Split(o.models, ",") {
		if m = strings.TrimSpace(m); m != "" {
			c.Models = append(c.Models, m)
		}
	}
	if c.BatchDelay == 0 {
		c.BatchDelay = -1 // server.Config reads 0 as "the default"
	}
	c.Token = getenv("ZOO_TOKEN")
	return o, nil
}

func newLogger(o *options, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: %w", o.logLevel, err)
	}
	ho := &slog.HandlerOptions{Level: level}
	switch o.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, ho)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, ho)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", o.logFormat)
}

// run serves until ctx ends, then shuts down gracefully.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	o, err := parseFlags(args, os.Getenv, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(o, stderr)
	if err != nil {
		return err
	}
	cat, err := newHubCatalog(ctx, o, log)
	if err != nil {
		return err
	}
	o.cfg.Logger = log
	srv, err := server.New(cat, o.cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	log.Info("listening", "addr", ln.Addr().String(), "models", len(cat.List("")), "auth", o.cfg.Token != "")

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		start := time.Now()
		if err := preload(ctx, srv, log); err != nil {
			cancel(err)
			return
		}
		log.Info("ready", "preloaded", o.cfg.Models, "seconds", time.Since(start).Seconds())
	}()
	if err := srv.Serve(ctx, ln, o.shutdownTimeout); err != nil {
		return err
	}
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err // preloading failed
	}
	log.Info("stopped")
	return nil
}

// preload runs srv.Preload until it succeeds. Weights that cannot be fetched
// for now (server.ErrModelUnavailable: the store unreachable or answering
// 5xx, the object missing, the credentials refused) are tried again, after
// the catalog's Retry-After or a backoff, while /readyz reports the reason,
// so a replica started during a store outage becomes ready when the store
// returns; any other failure (an unknown model, a checksum mismatch) is
// returned and stops the process.
func preload(ctx context.Context, srv *server.Server, log *slog.Logger) error {
	for attempt := 0; ; attempt++ {
		err := srv.Preload(ctx)
		if err == nil || ctx.Err() != nil || !(errors.Is(err, server.ErrModelUnavailable) || hub.IsTransient(err)) {
			return err
		}
		wait := min(time.Second<<min(attempt, 4), 10*time.Second)
		var ra interface{ RetryAfter() time.Duration }
		if errors.As(err, &ra) {
			wait = max(wait, ra.RetryAfter())
		}
		log.Warn("preload failed; not ready, retrying", "attempt", attempt+1, "wait", wait.String(), "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil
		}
	}
}
