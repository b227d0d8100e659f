package zoo

import (
	"cmp"
	"fmt"
	"math"
)

// archDef is one architecture: its defaults and its layer graph.
type archDef struct {
	defaults func(Args) Args
	build    func(b *builder, a Args) error
}

var archs = map[string]archDef{
	"lenet":           {defaults: withDefaults(Args{NumClasses: 10, NC: 1, Width: 8, InputSize: 28}), build: buildLeNet},
	"preact_resnet18": {defaults: withDefaults(Args{NumClasses: 10, NC: 3, Width: 64, InputSize: 32}), build: buildPreActResNet18},
	"pyramidnet":      {defaults: withDefaults(Args{NumClasses: 10, NC: 3, Depth: 272, Alpha: 200, InputSize: 32}), build: buildPyramidNet},
	"wrn":             {defaults: withDefaults(Args{NumClasses: 10, NC: 3, Depth: 28, Widen: 10, InputSize: 32}), build: buildWRN},
	"densenet_bc":     {defaults: withDefaults(Args{NumClasses: 10, NC: 3, Depth: 190, Growth: 40, InputSize: 32}), build: buildDenseNetBC},
	"resnet18":        resnetDef(false, 2, 2, 2, 2),
	"resnet34":        resnetDef(false, 3, 4, 6, 3),
	"resnet50":        resnetDef(true, 3, 4, 6, 3),
	"resnet101":       resnetDef(true, 3, 4, 23, 3),
	"resnet152":       resnetDef(true, 3, 8, 36, 3),
}

// withDefaults fills the zero fields of a with d's.
func withDefaults(d Args) func(Args) Args {
	return func(a Args) Args {
		a.NumClasses = cmp.Or(a.NumClasses, d.NumClasses)
		a.NC = cmp.Or(a.NC, d.NC)
		a.Depth = cmp.Or(a.Depth, d.Depth)
		a.Alpha = cmp.Or(a.Alpha, d.Alpha)
		a.Width = cmp.Or(a.Width, d.Width)
		a.Widen = cmp.Or(a.Widen, d.Widen)
		a.Growth = cmp.Or(a.Growth, d.Growth)
		a.InputSize = cmp.Or(a.InputSize, d.InputSize)
		return a
	}
}

// blockStride is 2 for the first block of every stage but the first,
// where the feature maps halve, else 1.
func blockStride(stage, blk int) int {
	if blk == 0 && stage > 0 {
		return 2
	}
	return 1
}

// blocksOf6n4 returns n for a depth of 6n+4, the rule of WRN and
// DenseNet-BC.
func blocksOf6n4(arch string, depth int) (int, error) {
	if depth < 10 || (depth-4)%6 != 0 {
		return 0, fmt.Errorf("%s depth must be 6n+4 with n >= 1, got %d", arch, depth)
	}
	return (depth - 4) / 6, nil
}

// preActHead ends a pre-activation network: BatchNorm bn and ReLU over x
// (c channels), pool (which adds the pooling layer), a flatten and the
// classifier, Linear "fc".
func (b *builder) preActHead(bn string, x, c, classes int, pool func(x int) int) {
	x = b.flatten(pool(b.relu(b.bn(bn, x, c))))
	b.linear("fc", x, c, classes)
}

func positive(name string, v int) error {
	if v < 1 {
		return fmt.Errorf("%s must be positive, got %d", name, v)
	}
	return nil
}

// buildLeNet is our small LeNet-style net for 28×28 images.
func buildLeNet(b *builder, a Args) error {
	if err := positive("width", a.Width); err != nil {
		return err
	}
	if a.InputSize != 28 {
		return fmt.Errorf("lenet takes 28×28 input only, got input_size %d", a.InputSize)
	}
	w := a.Width
	x := b.input(a.NC, 28, 28)
	x = b.maxPool(b.relu(b.conv("conv1", x, a.NC, w, 5, 1, 0, true)), 2, 2, 0)
	x = b.maxPool(b.relu(b.stage("conv2", b.conv("conv2", x, w, 2*w, 5, 1, 0, true))), 2, 2, 0)
	x = b.flatten(x)
	x = b.relu(b.linear("fc1", x, 2*w*16, 8*w))
	b.linear("fc2", x, 8*w, a.NumClasses)
	return nil
}

// buildPreActResNet18 follows FMix's models/resnet.py ResNet18.
func buildPreActResNet18(b *builder, a Args) error {
	if err := positive("width", a.Width); err != nil {
		return err
	}
	w := a.Width
	x := b.input(a.NC, a.InputSize, a.InputSize)
	x = b.relu(b.bn("bn1", b.conv("conv1", x, a.NC, w, 3, 1, 1, false), w))
	in := w
	for stage, mult := range []int{1, 2, 4, 8} {
		planes := w * mult
		for blk := 0; blk < 2; blk++ {
			stride := blockStride(stage, blk)
			p := fmt.Sprintf("layer%d.%d", stage+1, blk)
			act := b.relu(b.bn(p+".bn1", x, in))
			sc := act
			if stride != 1 || in != planes {
				sc = b.conv(p+".shortcut.0", act, in, planes, 1, stride, 0, false)
			}
			out := b.conv(p+".conv1", act, in, planes, 3, stride, 1, false)
			out = b.conv(p+".conv2", b.relu(b.bn(p+".bn2", out, planes)), planes, planes, 3, 1, 1, false)
			x = b.mark(p, b.sum(out, sc))
			in = planes
		}
		b.stage(fmt.Sprintf("layer%d", stage+1), x)
	}
	x = b.flatten(b.globalAvgPool(x))
	b.linear("linear", x, in, a.NumClasses)
	return nil
}

// buildPyramidNet follows FMix's models/pyramid.py (CIFAR, bottleneck, ShakeDrop).
func buildPyramidNet(b *builder, a Args) error {
	if a.Depth < 11 || (a.Depth-2)%9 != 0 {
		return fmt.Errorf("bottleneck PyramidNet depth must be 9n+2 with n >= 1, got %d", a.Depth)
	}
	if a.Alpha <= 0 {
		return fmt.Errorf("alpha must be positive, got %g", a.Alpha)
	}
	n := (a.Depth - 2) / 9
	addrate := a.Alpha / float64(3*n)
	x := b.input(a.NC, a.InputSize, a.InputSize)
	x = b.bn("bn1", b.conv("conv1", x, a.NC, 16, 3, 1, 1, false), 16)
	featuremap := 16.0
	in := 16
	block := 0
	for stage := 0; stage < 3; stage++ {
		for blk := 0; blk < n; blk++ {
			stride := blockStride(stage, blk)
			featuremap = featuremap + addrate
			planes := int(math.RoundToEven(featuremap))
			out := 4 * planes
			p := 1 - (1 - (0.5/float64(3*n))*float64(block+1))
			name := fmt.Sprintf("layer%d.%d", stage+1, blk)
			h := b.conv(name+".conv1", b.bn(name+".bn1", x, in), in, planes, 1, 1, 0, false)
			h = b.conv(name+".conv2", b.relu(b.bn(name+".bn2", h, planes)), planes, planes, 3, stride, 1, false)
			h = b.conv(name+".conv3", b.relu(b.bn(name+".bn3", h, planes)), planes, out, 1, 1, 0, false)
			h = b.shakeDrop(b.bn(name+".bn4", h, out), p)
			sc := x
			if stride != 1 {
				sc = b.avgPool(sc, 2, 2, true)
			}
			if in < out {
				sc = b.padChannels(sc, out)
			} else if in > out {
				return fmt.Errorf("block %s narrows from %d to %d channels", name, in, out)
			}
			x = b.mark(name, b.sum(h, sc))
			in = out
			block++
		}
		b.stage(fmt.Sprintf("layer%d", stage+1), x)
	}
	b.preActHead("bn_final", x, in, a.NumClasses, func(x int) int { return b.avgPool(x, 8, 8, false) })
	return nil
}

// buildWRN follows FMix's models/wide_resnet.py (dropout 0).
func buildWRN(b *builder, a Args) error {
	n, err := blocksOf6n4("WRN", a.Depth)
	if err != nil {
		return err
	}
	if err := positive("widen", a.Widen); err != nil {
		return err
	}
	ch := []int{16, 16 * a.Widen, 32 * a.Widen, 64 * a.Widen}
	x := b.input(a.NC, a.InputSize, a.InputSize)
	x = b.conv("conv1", x, a.NC, 16, 3, 1, 1, false)
	in := 16
	for stage := 0; stage < 3; stage++ {
		out := ch[stage+1]
		for blk := 0; blk < n; blk++ {
			stride := blockStride(stage, blk)
			p := fmt.Sprintf("block%d.layer.%d", stage+1, blk)
			act := b.relu(b.bn(p+".bn1", x, in))
			h := b.conv(p+".conv1", act, in, out, 3, stride, 1, false)
			h = b.conv(p+".conv2", b.relu(b.bn(p+".bn2", h, out)), out, out, 3, 1, 1, false)
			sc := x
			if in != out {
				sc = b.conv(p+".convShortcut", act, in, out, 1, stride, 0, false)
			}
			x = b.mark(p, b.sum(sc, h))
			in = out
		}
		b.stage(fmt.Sprintf("block%d", stage+1), x)
	}
	b.preActHead("bn1", x, in, a.NumClasses, func(x int) int { return b.avgPool(x, 7, 7, false) })
	return nil
}

// buildDenseNetBC follows FMix's models/densenet3.py (bottleneck, reduction 0.5).
func buildDenseNetBC(b *builder, a Args) error {
	n, err := blocksOf6n4("DenseNet-BC", a.Depth)
	if err != nil {
		return err
	}
	if err := positive("growth", a.Growth); err != nil {
		return err
	}
	g := a.Growth
	c := 2 * g
	x := b.input(a.NC, a.InputSize, a.InputSize)
	x = b.conv("conv1", x, a.NC, c, 3, 1, 1, false)
	for blk := 1; blk <= 3; blk++ {
		for i := 0; i < n; i++ {
			p := fmt.Sprintf("block%d.layer.%d", blk, i)
			h := b.conv(p+".conv1", b.relu(b.bn(p+".bn1", x, c)), c, 4*g, 1, 1, 0, false)
			h = b.conv(p+".conv2", b.relu(b.bn(p+".bn2", h, 4*g)), 4*g, g, 3, 1, 1, false)
			x = b.mark(p, b.concat(x, h))
			c += g
		}
		b.stage(fmt.Sprintf("block%d", blk), x)
		if blk < 3 {
			p := fmt.Sprintf("trans%d", blk)
			out := int(math.Floor(float64(c) * 0.5))
			x = b.conv(p+".conv1", b.relu(b.bn(p+".bn1", x, c)), c, out, 1, 1, 0, false)
			x = b.mark(p, b.avgPool(x, 2, 2, false))
			c = out
		}
	}
	b.preActHead("bn1", x, c, a.NumClasses, b.globalAvgPool)
	return nil
}

// resnetDef is torchvision's ResNet layout with our width option.
func resnetDef(bottleneck bool, blocks ...int) archDef {
	return archDef{
		defaults: withDefaults(Args{NumClasses: 1000, NC: 3, Width: 64, InputSize: 224}),
		build: func(b *builder, a Args) error {
			if err := positive("width", a.Width); err != nil {
				return err
			}
			exp := 1
			if bottleneck {
				exp = 4
			}
			w := a.Width
			x := b.input(a.NC, a.InputSize, a.InputSize)
			x = b.maxPool(b.relu(b.bn("bn1", b.conv("conv1", x, a.NC, w, 7, 2, 3, false), w)), 3, 2, 1)
			in := w
			for stage, count := range blocks {
				planes := w << stage
				for blk := 0; blk < count; blk++ {
					stride := blockStride(stage, blk)
					p := fmt.Sprintf("layer%d.%d", stage+1, blk)
					var h int
					if bottleneck {
						h = b.relu(b.bn(p+".bn1", b.conv(p+".conv1", x, in, planes, 1, 1, 0, false), planes))
						h = b.relu(b.bn(p+".bn2", b.conv(p+".conv2", h, planes, planes, 3, stride, 1, false), planes))
						h = b.bn(p+".bn3", b.conv(p+".conv3", h, planes, planes*exp, 1, 1, 0, false), planes*exp)
					} else {
						h = b.relu(b.bn(p+".bn1", b.conv(p+".conv1", x, in, planes, 3, stride, 1, false), planes))
						h = b.bn(p+".bn2", b.conv(p+".conv2", h, planes, planes, 3, 1, 1, false), planes)
					}
					sc := x
					if stride != 1 || in != planes*exp {
						sc = b.bn(p+".downsample.1", b.conv(p+".downsample.0", x, in, planes*exp, 1, stride, 0, false), planes*exp)
					}
					x = b.mark(p, b.relu(b.sum(h, sc)))
					in = planes * exp
				}
				b.stage(fmt.Sprintf("layer%d", stage+1), x)
			}
			x = b.flatten(b.globalAvgPool(x))
			b.linear("fc", x, in, a.NumClasses)
			return nil
		},
	}
}
