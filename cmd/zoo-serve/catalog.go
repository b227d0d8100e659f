package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"sync"
	"time"

	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/server"
)

// hubCatalog serves the models of a hub manifest, loading them through a
// hub client (with opts on every load).
type hubCatalog struct {
	client *hub.Client
	m      *hub.Manifest
	opts   []hub.Option

	// failTTL is how long a failure to fetch a model's weights (store or
	// upstream unreachable, 5xx, missing, refused) is answered from memory
	// instead of being retried by every request (0: 30s).
	failTTL time.Duration
	mu      sync.Mutex
	failed  map[string]*fetchFailure
}

// fetchFailure is a remembered failure to fetch a model's weights.
type fetchFailure struct {
	err   error
	until time.Time
	fresh bool // the failure itself, not its memory
}

func (f *fetchFailure) Error() string {
	if f.fresh {
		return fmt.Sprintf("%v (the next attempt is in %v)", f.err, time.Until(f.until).Round(time.Second))
	}
	return fmt.Sprintf("%v (remembered; the next attempt is in %v)", f.err, time.Until(f.until).Round(time.Second))
}
func (f *fetchFailure) Unwrap() error { return f.err }

// RetryAfter is when the next attempt will be made; the server sends it as
// Retry-After.
func (f *fetchFailure) RetryAfter() time.Duration { return time.Until(f.until) }

// newHubCatalog builds the hub client from the environment (hub.FromEnv:
// S3 endpoint and region, upstream mirror and push, the cache's XDG
// default), then applies the flags, whose fallbacks are the same ZOO_…
// variables, and reads the manifest.
func newHubCatalog(ctx context.Context, o *options, log *slog.Logger) (*hubCatalog, error) {
	client, err := hub.FromEnv()
	if err != nil {
		return nil, err
	}
	client.ManifestSource, client.StoreURI, client.Offline = o.manifest, o.store, o.offline
	client.CacheDir = cmp.Or(o.cache, client.CacheDir)
	client.Logger, client.Progress = log, nil
	m, err := client.LoadManifest(ctx)
	if err != nil {
		return nil, err
	}
	return &hubCatalog{client: client, m: m}, nil
}

func (c *hubCatalog) List(pattern string) []string { return c.m.Names(pattern) }

func (c *hubCatalog) Info(name string) (server.ModelInfo, error) {
	e, err := c.m.Lookup(name)
	if errors.Is(err, hub.ErrUnknownModel) || errors.Is(err, hub.ErrInvalidName) {
		return server.ModelInfo{}, fmt.Errorf("%w: %w", server.ErrUnknownModel, err)
	}
	if err != nil {
		return server.ModelInfo{}, err
	}
	return modelInfo(e), nil
}

func modelInfo(e hub.Entry) server.ModelInfo {
	return server.ModelInfo{
		Name: e.Name, Description: e.Description, Arch: e.Arch, Dataset: e.Dataset, MSDA: e.MSDA,
		Input: e.Input.Shape, Resize: e.Input.Resize, Labels: e.Labels, Mean: e.Input.Mean, Std: e.Input.Std,
		Accuracy: server.Accuracy{Top1: e.Accuracy.Top1, Top5: e.Accuracy.Top5, Source: e.Accuracy.Source, Provenance: e.Accuracy.Provenance},
	}
}

// Load loads a model through the hub. Weights that cannot be fetched
// (unpublished, store or upstream unreachable or answering 5xx, missing,
// credentials refused) are server.ErrModelUnavailable, a 503 with the
// reason; such a failure is remembered for failTTL, so that requests in
// the meantime get the same answer at once instead of each retrying the
// network.
func (c *hubCatalog) Load(ctx context.Context, name string) (server.Model, error) {
	c.mu.Lock()
	f := c.failed[name]
	if f != nil && time.Now().After(f.until) {
		delete(c.failed, name)
		f = nil
	}
	c.mu.Unlock()
	if f != nil {
		return nil, f
	}
	m, err := c.client.Load(ctx, name, c.opts...)
	switch {
	case err == nil:
		return &hubModel{m: m, explainer: newExplainer(name, c.client, c.opts)}, nil
	case errors.Is(err, hub.ErrNoWeights):
		return nil, fmt.Errorf("%w: %w", server.ErrModelUnavailable, err)
	case ctx.Err() != nil:
		return nil, err
	case hub.IsTransient(err) || errors.Is(err, hub.ErrNotFound) || errors.Is(err, hub.ErrAccessDenied):
		ttl := c.failTTL
		if ttl <= 0 {
			ttl = 30 * time.Second
		}
		f := &fetchFailure{err: fmt.Errorf("%w: the weights of %s cannot be fetched: %w", server.ErrModelUnavailable, name, err),
			until: time.Now().Add(ttl)}
		c.mu.Lock()
		if c.failed == nil {
			c.failed = map[string]*fetchFailure{}
		}
		c.failed[name] = f
		c.mu.Unlock()
		return nil, &fetchFailure{err: f.err, until: f.until, fresh: true}
	}
	return nil, err
}

// hubModel adapts *hub.Model to server.Model and server.Explainer.
type hubModel struct {
	m *hub.Model
	*explainer
}

func (h *hubModel) Preprocess(img image.Image) ([]float32, error) { return h.m.Preprocess(img) }

func (h *hubModel) Run(ctx context.Context, x []float32, n int) ([]float32, error) {
	shape := append([]int{n}, h.m.Info().Input.Shape...)
	out, err := h.m.Run(ctx, hub.Tensor{Shape: shape, Data: x})
	if err != nil {
		return nil, err
	}
	if len(out) != 1 {
		return nil, fmt.Errorf("model %s has %d outputs, want 1", h.m.Info().Name, len(out))
	}
	return out[0].Data, nil
}
