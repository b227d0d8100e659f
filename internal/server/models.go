package server

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"time"
)

// registry holds the loaded models: it loads each on first use (once, however
// many requests ask at the same time), warms it up and unloads the least
// recently used beyond Config.MaxModels.
type registry struct {
	cat     Catalog
	cfg     Config
	metrics *metrics
	log     *slog.Logger

	mu     sync.Mutex
	models map[string]*slot
	lru    *list.List // of *slot, most recently used first; loaded models only
	closed bool
	// failed holds each model's last failed load, until one succeeds:
	// /readyz and /v1/models report it.
	failed map[string]loadFailure
}

// loadFailure is why a model's last load failed, and when.
type loadFailure struct {
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// slot is one model, loading or loaded.
type slot struct {
	name  string
	info  ModelInfo
	ready chan struct{} // closed when loading ended; then b or err is set
	b     *batcher
	err   error
	elem  *list.Element
}

func newRegistry(cat Catalog, cfg Config, mt *metrics, log *slog.Logger) *registry {
	return &registry{cat: cat, cfg: cfg, metrics: mt, log: log, models: map[string]*slot{}, lru: list.New(),
		failed: map[string]loadFailure{}}
}

// info describes a model, mapping an unknown name to a 404 error.
func (r *registry) info(name string) (ModelInfo, error) {
	info, err := r.cat.Info(name)
	if errors.Is(err, ErrUnknownModel) {
		return ModelInfo{}, errorf(http.StatusNotFound, "unknown model %q", clip(name))
	}
	if err != nil {
		return ModelInfo{}, fmt.Errorf("describe model %q: %w", name, err)
	}
	if info.inputSize() <= 0 || len(info.Input) != 3 {
		return ModelInfo{}, fmt.Errorf("describe model %q: input shape %v is not [C, H, W]", name, info.Input)
	}
	return info, nil
}

// failure returns why name's last load failed, if it did and no load has
// succeeded since.
func (r *registry) failure(name string) (loadFailure, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, ok := r.failed[name]
	return f, ok
}

// failures returns every model's last failed load (see failure).
func (r *registry) failures() map[string]loadFailure {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]loadFailure, len(r.failed))
	for k, v := range r.failed {
		out[k] = v
	}
	return out
}

// loaded reports whether name is loaded and warmed up.
func (r *registry) loaded(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.models[name]
	return s != nil && s.elem != nil
}

// get returns the loaded model, loading it if needed. Loading goes on when
// ctx ends (other requests may be waiting for it); get returns ctx's error.
func (r *registry) get(ctx context.Context, name string) (*slot, error) {
	info, err := r.info(name)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	s := r.models[name]
	switch {
	case s == nil:
		s = &slot{name: name, info: info, ready: make(chan struct{})}
		r.models[name] = s
		go r.load(s)
	case s.elem != nil:
		r.lru.MoveToFront(s.elem)
	}
	r.mu.Unlock()
	select {
	case <-s.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if s.err != nil {
		return nil, s.err
	}
	return s, nil
}

// run classifies n preprocessed inputs with the named model.
func (r *registry) run(ctx context.Context, s *slot, x []float32, n int) ([]float32, error) {
	for range 3 {
		logits, err := s.b.submit(ctx, x, n)
		if !errors.Is(err, errUnloaded) {
			return logits, err
		}
		if s, err = r.get(ctx, s.name); err != nil {
			return nil, err
		}
	}
	return nil, errorf(http.StatusServiceUnavailable, "model %q keeps being unloaded: raise --max-models", s.name)
}

func (r *registry) load(s *slot) {
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.LoadTimeout)
	defer cancel()
	start := time.Now()
	b, err := r.loadAndWarmSafe(ctx, s)
	r.mu.Lock()
	if err != nil {
		s.err = err
		if errors.Is(err, ErrModelUnavailable) {
			s.err = &apiError{status: http.StatusServiceUnavailable, msg: err.Error(), retryAfter: retryAfterSeconds(err), cause: err}
		}
		r.failed[s.name] = loadFailure{Reason: err.Error(), At: time.Now().UTC()}
		delete(r.models, s.name) // the next request tries again
		r.metrics.loads.WithLabelValues(s.name, "error").Inc()
		r.log.Error("load model", "model", s.name, "err", err)
	} else if r.closed {
		b.close()
		s.err = errorf(http.StatusServiceUnavailable, "server shutting down")
		delete(r.models, s.name)
	} else {
		delete(r.failed, s.name)
		s.b = b
		s.elem = r.lru.PushFront(s)
		r.metrics.loads.WithLabelValues(s.name, "ok").Inc()
		r.log.Info("model loaded", "model", s.name, "seconds", time.Since(start).Seconds())
		for r.lru.Len() > r.cfg.MaxModels {
			old := r.lru.Remove(r.lru.Back()).(*slot)
			delete(r.models, old.name)
			old.b.close() // queued requests finish; later ones reload it
			r.log.Info("model unloaded", "model", old.name, "reason", "least recently used beyond --max-models")
		}
		r.metrics.loaded.Set(float64(r.lru.Len()))
	}
	close(s.ready)
	r.mu.Unlock()
}

// loadAndWarmSafe is loadAndWarm run in the load's own goroutine, where a
// panic (a model or weights that break the decoder or the engine) would
// end the process: it becomes this model's load error.
func (r *registry) loadAndWarmSafe(ctx context.Context, s *slot) (b *batcher, err error) {
	defer func() {
		if p := recover(); p != nil {
			b, err = nil, fmt.Errorf("load model %q: internal error: %v", s.name, p)
			r.log.Error("load model panicked", "model", s.name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
	}()
	return r.loadAndWarm(ctx, s)
}

// loadAndWarm loads a model and runs one input of zeros through it, so that
// the first request does not pay for lazy initialisation.
func (r *registry) loadAndWarm(ctx context.Context, s *slot) (*batcher, error) {
	m, err := r.cat.Load(ctx, s.name)
	if err != nil {
		return nil, fmt.Errorf("load model %q: %w", s.name, err)
	}
	size := s.info.inputSize()
	logits, err := m.Run(ctx, make([]float32, size), 1)
	if err != nil {
		return nil, fmt.Errorf("warm up model %q: %w", s.name, err)
	}
	if err := checkLogits(logits, 1); err != nil {
		return nil, fmt.Errorf("warm up model %q: %w", s.name, err)
	}
	if k := len(s.info.Labels); k > 0 && len(logits) != k {
		return nil, fmt.Errorf("warm up model %q: %d outputs for %d labels", s.name, len(logits), k)
	}
	return newBatcher(s.name, m, size, r.cfg, r.metrics), nil
}

// names returns the loaded models, most recently used first.
func (r *registry) names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for e := r.lru.Front(); e != nil; e = e.Next() {
		out = append(out, e.Value.(*slot).name)
	}
	return out
}

// close unloads every model after its queued requests are done.
func (r *registry) close() {
	r.mu.Lock()
	r.closed = true
	var bs []*batcher
	for e := r.lru.Front(); e != nil; e = e.Next() {
		s := e.Value.(*slot)
		s.b.close()
		bs = append(bs, s.b)
	}
	r.lru.Init()
	clear(r.models)
	r.metrics.loaded.Set(0)
	r.mu.Unlock()
	for _, b := range bs {
		b.wait()
	}
}
