package hub

import (
	"context"
	"fmt"

	"github.com/fmixzoo/zoo/zoo"
)

// LoadNet resolves name as LoadContext does and rebuilds, from the same
// verified ONNX weights, the zoo network they were exported from
// (zoo.ReadONNX: architecture and arguments from the file's metadata,
// parameters from its initializers by state-dict name). The Net computes
// what the ONNX graph cannot: gradients (zoo.Net.Gradients) and Grad-CAM
// explanations (zoo.Net.GradCAM), on inputs preprocessed by the Model's
// Preprocess. Weights that zoo did not export fail with zoo.ErrNotZooONNX.
// Each call returns a new Net, which is not safe for concurrent use. It is
// Client.LoadNet on the default client (see LoadContext).
func LoadNet(ctx context.Context, name string, opts ...Option) (*zoo.Net, error) {
	c, err := defaultClient()
	if err != nil {
		return nil, fmt.Errorf("hub: load net %q: %w", name, err)
	}
	return c.LoadNet(ctx, name, opts...)
}

// LoadNet is the package-level LoadNet with c's settings.
func (c *Client) LoadNet(ctx context.Context, name string, opts ...Option) (*zoo.Net, error) {
	e, data, err := c.entryWeights(ctx, "load net", name, opts)
	if err != nil {
		return nil, err
	}
	n, err := zoo.ReadONNX(data)
	if err != nil {
		return nil, fmt.Errorf("hub: load net %q: %w", name, err)
	}
	if n.Arch() != e.Arch {
		return nil, fmt.Errorf("hub: load net %q: the weights are a %s, the manifest says %s", name, n.Arch(), e.Arch)
	}
	if s := n.InputShape(); len(e.Input.Shape) == 3 && (s[0] != e.Input.Shape[0] || s[1] != e.Input.Shape[1] || s[2] != e.Input.Shape[2]) {
		return nil, fmt.Errorf("hub: load net %q: the network takes %v, the entry's preprocessing gives %v", name, s, e.Input.Shape)
	}
	return n, nil
}
