package zoo

// Kind is the operation of one Layer.
type Kind int

// Layer kinds. Every kind maps to one ONNX operator at export and to one
// differentiable step of the training graph.
const (
	Conv          Kind = iota // 2-D convolution, weight Name.weight [Out, In/Groups, K, K], optional Name.bias
	BatchNorm                 // Name.weight, .bias, .running_mean, .running_var, .num_batches_tracked
	ReLU                      // max(x, 0)
	Add                       // In[0] + In[1]
	MaxPool                   // K×K window, Stride, Pad
	AvgPool                   // K×K window, Stride, Pad, Ceil; padding never counted
	GlobalAvgPool             // mean over H, W, keeping 1×1
	Flatten                   // N×C×H×W → N×(C·H·W)
	Linear                    // y = x·Wᵀ + b, Name.weight [Out, In], Name.bias [Out]
	PadChannels               // append zero channels up to Out
	ShakeDrop                 // PyramidNet's ShakeDrop with drop probability P
	Concat                    // channel concatenation of In[0], In[1]
)

var kindNames = [...]string{"Conv", "BatchNorm", "ReLU", "Add", "MaxPool", "AvgPool", "GlobalAvgPool", "Flatten", "Linear", "PadChannels", "ShakeDrop", "Concat"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(?)"
}

// Layer is one node of a network's layer graph. Values are numbered: value 0
// is the network input and layer i produces value i+1; In lists the values a
// layer reads. The last layer's value is the logits.
type Layer struct {
	Kind   Kind
	Name   string // state-dict prefix of the layer's parameters ("" for none)
	In     []int
	InC    int // input channels (Conv, BatchNorm) or features (Linear)
	Out    int // output channels or features (Conv, BatchNorm, Linear, PadChannels)
	K      int // kernel size (Conv, pools)
	Stride int
	Pad    int
	Groups int
	Bias   bool
	Ceil   bool
	P      float64 // ShakeDrop drop probability
}

// builder appends layers and registers their parameters.
type builder struct {
	n *Net
}

func (b *builder) input(c, h, w int) int {
	b.n.input = []int{c, h, w}
	return 0
}

func (b *builder) add(l Layer) int {
	b.n.layers = append(b.n.layers, l)
	return len(b.n.layers)
}

func (b *builder) conv(name string, x, in, out, k, stride, pad int, bias bool) int {
	b.n.addParam(name+".weight", []int{out, in, k, k}, false)
	if bias {
		b.n.addParam(name+".bias", []int{out}, false)
	}
	return b.add(Layer{Kind: Conv, Name: name, In: []int{x}, InC: in, Out: out, K: k, Stride: stride, Pad: pad, Groups: 1, Bias: bias})
}

func (b *builder) bn(name string, x, c int) int {
	b.n.addParam(name+".weight", []int{c}, false)
	b.n.addParam(name+".bias", []int{c}, false)
	b.n.addParam(name+".running_mean", []int{c}, true)
	b.n.addParam(name+".running_var", []int{c}, true)
	b.n.addParam(name+".num_batches_tracked", []int{}, true)
	return b.add(Layer{Kind: BatchNorm, Name: name, In: []int{x}, InC: c, Out: c})
}

func (b *builder) linear(name string, x, in, out int) int {
	b.n.addParam(name+".weight", []int{out, in}, false)
	b.n.addParam(name+".bias", []int{out}, false)
	return b.add(Layer{Kind: Linear, Name: name, In: []int{x}, InC: in, Out: out, Bias: true})
}

// mark names value x as the output of a block or stage (the PyTorch module
// of that name); see Net.LayerNames.
func (b *builder) mark(name string, x int) int {
	b.n.named[name] = x
	return x
}

// stage marks x as a stage output and Grad-CAM's default layer (the last
// call wins).
func (b *builder) stage(name string, x int) int {
	b.n.camLayer = name
	return b.mark(name, x)
}

func (b *builder) relu(x int) int { return b.add(Layer{Kind: ReLU, In: []int{x}}) }

func (b *builder) sum(x, y int) int { return b.add(Layer{Kind: Add, In: []int{x, y}}) }

func (b *builder) maxPool(x, k, stride, pad int) int {
	return b.add(Layer{Kind: MaxPool, In: []int{x}, K: k, Stride: stride, Pad: pad})
}

func (b *builder) avgPool(x, k, stride int, ceil bool) int {
	return b.add(Layer{Kind: AvgPool, In: []int{x}, K: k, Stride: stride, Ceil: ceil})
}

func (b *builder) globalAvgPool(x int) int { return b.add(Layer{Kind: GlobalAvgPool, In: []int{x}}) }

func (b *builder) flatten(x int) int { return b.add(Layer{Kind: Flatten, In: []int{x}}) }

func (b *builder) padChannels(x, out int) int {
	return b.add(Layer{Kind: PadChannels, In: []int{x}, Out: out})
}

func (b *builder) shakeDrop(x int, p float64) int {
	return b.add(Layer{Kind: ShakeDrop, In: []int{x}, P: p})
}

func (b *builder) concat(x, y int) int { return b.add(Layer{Kind: Concat, In: []int{x, y}}) }
