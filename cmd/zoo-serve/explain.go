package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/server"
	"github.com/fmixzoo/zoo/zoo"
)

// explainer gives a served model Grad-CAM explanations: on first use it
// rebuilds the zoo network from the model's verified ONNX weights
// (hub.LoadNet) and keeps it. A Net is not safe for concurrent use, so
// explanations of one model run one request at a time.
type explainer struct {
	name   string
	client *hub.Client
	opts   []hub.Option
	sem    chan struct{} // holds the right to use net
	net    *zoo.Net
	err    error // a permanent failure to rebuild net
}

func newExplainer(name string, client *hub.Client, opts []hub.Option) *explainer {
	return &explainer{name: name, client: client, opts: opts, sem: make(chan struct{}, 1)}
}

// Explain implements server.Explainer.
func (e *explainer) Explain(ctx context.Context, x []float32, n, class int, layer string) ([]server.Explanation, error) {
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-e.sem }()
	if e.err != nil {
		return nil, e.err
	}
	if e.net == nil {
		net, err := e.client.LoadNet(ctx, e.name, e.opts...)
		if errors.Is(err, zoo.ErrNotZooONNX) {
			e.err = fmt.Errorf("%w: %w", server.ErrNoExplanations, err)
			return nil, e.err
		}
		if err != nil {
			return nil, fmt.Errorf("explain %s: %w", e.name, err)
		}
		e.net = net
	}
	o := zoo.CAMOptions{Layer: layer}
	if class >= 0 {
		o.Classes = make([]int, n)
		for i := range o.Classes {
			o.Classes[i] = class
		}
	}
	if o.Layer == "" {
		o.Layer = e.net.CAMLayer()
	}
	cams, err := e.net.GradCAM(x, n, o)
	if errors.Is(err, zoo.ErrInput) || errors.Is(err, zoo.ErrUnknownLayer) {
		return nil, fmt.Errorf("%w: %w", server.ErrBadExplain, err)
	}
	if err != nil {
		return nil, fmt.Errorf("explain %s: %w", e.name, err)
	}
	out := make([]server.Explanation, n)
	for i, c := range cams {
		out[i] = server.Explanation{Class: c.Class, Logits: c.Logits, Layer: o.Layer, H: c.H, W: c.W, Map: c.Map}
	}
	return out, nil
}
