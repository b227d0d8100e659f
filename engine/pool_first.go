package engine

// pointwise is a 1×1 Conv (stride 1, no padding, nothing fused into it)
// as conv planned it: its node, attributes and inputs (x, the weights and
// the bias, if any).
type pointwise struct {
	node opRecord
	a    attrs
	in   []*value
}

// poolFirst plans AveragePool(Conv(x)), the pool unpadded and its Conv
// pc, as Conv(AveragePool(x)): a 1×1 convolution maps each pixel's
// channels alone and an unpadded average weighs its pixels by fractions
// that sum to 1, so the two commute (up to rounding), the bias included,
// and the convolution then runs on the pooled pixels only. DenseNet's
// transitions (BN, ReLU, 1×1 Conv, 2×2 average pool) spent a quarter of
// their convolutions' work, and another helper's, on pixels the pool
// averaged away. Called only where the pool is the Conv's last reader:
// the Conv's own step then goes unread and is pruned.
func (c *opCtx) poolFirst(pc *pointwise, a attrs) ([]*value, error) {
	pooled, err := pool(false)(c, a, pc.in[:1])
	if err != nil {
		return nil, err
	}
	node := c.node
	c.node = pc.node
	defer func() { c.node = node }()
	return conv(c, pc.a, append([]*value{pooled[0]}, pc.in[1:]...))
}
