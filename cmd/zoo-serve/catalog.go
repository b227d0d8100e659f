package main

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"

	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/server"
)

// hubCatalog serves the models of a hub manifest.
type hubCatalog struct {
	m    *hub.Manifest
	opts []hub.Option
}

func newHubCatalog(ctx context.Context, o *options, log *slog.Logger) (*hubCatalog, error) {
	var m *hub.Manifest
	var err error
	if o.manifest != "" {
		m, err = hub.ReadManifest(ctx, o.manifest, nil)
	} else {
		m, err = hub.DefaultManifest()
	}
	if err != nil {
		return nil, err
	}
	opts := []hub.Option{hub.WithManifest(m), hub.WithLogger(log), hub.WithProgress(nil), hub.WithOffline(o.offline)}
	if o.store != "" {
		opts = append(opts, hub.WithStoreURI(o.store))
	}
	if o.cache != "" {
		opts = append(opts, hub.WithCache(o.cache))
	}
	return &hubCatalog{m: m, opts: opts}, nil
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

func (c *hubCatalog) Load(ctx context.Context, name string) (server.Model, error) {
	m, err := hub.LoadContext(ctx, name, c.opts...)
	if errors.Is(err, hub.ErrNoWeights) {
		return nil, fmt.Errorf("%w: %w", server.ErrModelUnavailable, err)
	}
	if err != nil {
		return nil, err
	}
	return &hubModel{m: m, explainer: newExplainer(name, c.opts)}, nil
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
