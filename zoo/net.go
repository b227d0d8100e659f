package zoo

import (
	"fmt"
	"sort"
	"strings"

	"github.com/fmixzoo/zoo/kernels"
)

// Args are an architecture's constructor arguments. Zero values take the
// architecture's published defaults (see Build). The JSON names are the ones
// weights.json and the PyTorch fixtures use.
type Args struct {
	NumClasses int     `json:"num_classes"`
	NC         int     `json:"nc"`
	Depth      int     `json:"depth,omitempty"`
	Alpha      float64 `json:"alpha,omitempty"`
	Width      int     `json:"width,omitempty"`
	Widen      int     `json:"widen,omitempty"`
	Growth     int     `json:"growth,omitempty"`
	// InputSize is the height and width of the input the network is built
	// for (0: the architecture's default, 28 for lenet, 32 for the CIFAR
	// networks, 224 for the torchvision ResNets). Networks that end in
	// global pooling take any size at which every stage keeps at least one
	// pixel; lenet takes 28 only.
	InputSize int `json:"input_size,omitempty"`
}

// Param is one named tensor of a network: a trainable parameter or a buffer
// (BatchNorm running statistics). Name is the PyTorch state-dict key. Value
// is the live storage, row-major; Grad (parameters only) receives gradients
// from TrainStep.
type Param struct {
	Name  string
	Shape []int
	Value []float32
	Grad  []float32
}

// Size is the number of elements of the tensor.
func (p *Param) Size() int { return shapeSize(p.Shape) }

// Net is one architecture instance: its layer graph, defined once, and the
// parameters that the layer graph names. The same Net trains (TrainStep),
// evaluates (Forward), exports ONNX (ExportONNX) and loads PyTorch state
// dicts (LoadStateDict, ImportPT).
//
// A Net is not safe for concurrent use.
type Net struct {
	arch   string
	args   Args
	input  []int // C, H, W
	layers []Layer

	params  []*Param
	buffers []*Param
	byName  map[string]*Param

	named    map[string]int                 // block and stage names (module outputs) → value; see LayerNames
	dry      bool                           // shapes only, no values (build)
	frozen   bool                           // see Freeze
	packed   map[string]*kernels.PackedConv // a frozen network's packed convolutions, by layer name
	packedT  map[string]*kernels.PackedConv // and their input gradients' (packedConvData)
	camLayer string                         // Grad-CAM's default layer (the last convolutional stage)

	train *trainer // lazily built Gorgonia training state; nil until TrainStep
}

// Arch is the architecture's name, as given to Build.
func (n *Net) Arch() string { return n.arch }

// Args are the constructor arguments with defaults filled in.
func (n *Net) Args() Args { return n.args }

// InputShape is the C, H, W the network was built for. Convolutional
// networks with global pooling accept other H, W at evaluation time.
func (n *Net) InputShape() []int { return append([]int(nil), n.input...) }

// Params are the trainable parameters in state-dict order.
func (n *Net) Params() []*Param { return n.params }

// Buffers are the non-trainable tensors (BatchNorm running_mean,
// running_var and num_batches_tracked) in state-dict order.
func (n *Net) Buffers() []*Param { return n.buffers }

// Layers are the network's layer graph; see Layer.
func (n *Net) Layers() []Layer { return n.layers }

// Param returns the parameter or buffer with the given state-dict key.
func (n *Net) Param(name string) (*Param, bool) {
	p, ok := n.byName[name]
	return p, ok
}

// NumParams counts trainable parameters (as PyTorch's
// sum(p.numel() for p in model.parameters())).
func (n *Net) NumParams() int {
	total := 0
	for _, p := range n.params {
		total += p.Size()
	}
	return total
}

// StateDictKeys lists every parameter and buffer name, sorted.
func (n *Net) StateDictKeys() []string {
	keys := make([]string, 0, len(n.byName))
	for k := range n.byName {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (n *Net) addParam(name string, shape []int, buffer bool) *Param {
	if _, dup := n.byName[name]; dup {
		panic("zoo: duplicate parameter " + name) // a bug in an architecture definition
	}
	p := &Param{Name: name, Shape: shape}
	if n.dry {
		p.Value = nil // sized by Shape only (see paramFloats)
	} else {
		p.Value = make([]float32, shapeSize(shape))
	}
	if buffer {
		n.buffers = append(n.buffers, p)
	} else {
		if !n.dry {
			p.Grad = make([]float32, len(p.Value))
		}
		n.params = append(n.params, p)
	}
	n.byName[name] = p
	return p
}

func shapeSize(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// maxInputSize bounds Args.InputSize (a 4096² RGB image is 200 MB of float32).
const maxInputSize = 4096

// Build constructs an architecture with freshly initialised parameters
// (He-normal convolutions as the published code, PyTorch's defaults for
// linear layers, BatchNorm weight 1 and bias 0). The seed of the
// initialisation is fixed per architecture; use Init for another.
//
// Architectures: lenet, preact_resnet18, pyramidnet, wrn, densenet_bc,
// resnet18, resnet34, resnet50, resnet101, resnet152.
func Build(arch string, args Args) (*Net, error) {
	return build(arch, args, false)
}

// build is Build; dry builds the layer graph and the parameters' shapes
// without allocating their values (to size a network before building it).
func build(arch string, args Args, dry bool) (*Net, error) {
	def, ok := archs[arch]
	if !ok {
		return nil, fmt.Errorf("zoo: unknown architecture %q (known: %s)", arch, strings.Join(Archs(), ", "))
	}
	args = def.defaults(args)
	if args.NumClasses < 1 || args.NC < 1 {
		return nil, fmt.Errorf("zoo: %s: num_classes and nc must be positive, got %d and %d", arch, args.NumClasses, args.NC)
	}
	if args.InputSize < 1 || args.InputSize > maxInputSize {
		return nil, fmt.Errorf("zoo: %s: input_size must be in [1, %d], got %d", arch, maxInputSize, args.InputSize)
	}
	n := &Net{arch: arch, args: args, byName: map[string]*Param{}, named: map[string]int{}, dry: dry}
	b := &builder{n: n}
	if err := def.build(b, args); err != nil {
		return nil, fmt.Errorf("zoo: %s: %w", arch, err)
	}
	if !dry {
		n.Init(1)
	}
	return n, nil
}

// Archs lists the architecture names Build accepts, sorted.
func Archs() []string {
	names := make([]string, 0, len(archs))
	for k := range archs {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
