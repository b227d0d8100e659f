package zoo

import (
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
		if a.NumClasses == 0 {
			a.NumClasses = d.NumClasses
		}
		if a.NC == 0 {
			a.NC = d.NC
		}
		if a.Depth == 0 {
			a.Depth = d.Depth
		}
		if a.Alpha == 0 {
			a.Alpha = d.Alpha
		}
		if a.Width == 0 {
			a.Width = d.Width
		}
		if a.Widen == 0 {
			a.Widen = d.Widen
		}
		if a.Growth == 0 {
			a.Growth = d.Growth
		}
		if a.InputSize == 0 {
			a.InputSize = d.InputSize
		}
		return a
	}
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
			stride := 1
			if blk == 0 && stage > 0 {
				stride = 2
			}
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
			stride := 1
			if blk == 0 && stage > 0 {
				stride = 2
			}
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
	x = b.relu(b.bn("bn_final", x, in))
	x = b.flatten(b.avgPool(x, 8, 8, false))
	b.linear("fc", x, in, a.NumClasses)
	return nil
}

// buildWRN follows FMix's models/wide_resnet.py (dropout 0).
func buildWRN(b *builder, a Args) error {
	if a.Depth < 10 || (a.Depth-4)%6 != 0 {
		return fmt.Errorf("WRN depth must be 6n+4 with n >= 1, got %d", a.Depth)
	}
	if err := positive("widen", a.Widen); err != nil {
		return err
	}
	n := (a.Depth - 4) / 6
	ch := []int{16, 16 * a.Widen, 32 * a.Widen, 64 * a.Widen}
	x := b.input(a.NC, a.InputSize, a.InputSize)
	x = b.conv("conv1", x, a.NC, 16, 3, 1, 1, false)
	in := 16
	for stage := 0; stage < 3; stage++ {
		out := ch[stage+1]
		for blk := 0; blk < n; blk++ {
			stride := 1
			if blk == 0 && stage > 0 {
				stride = 2
			}
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
	x = b.relu(b.bn("bn1", x, in))
	x = b.flatten(b.avgPool(x, 7, 7, false))
	b.linear("fc", x, in, a.NumClasses)
	return nil
}

// buildDenseNetBC follows FMix's models/densenet3.py (bottleneck, reduction 0.5).
func buildDenseNetBC(b *builder, a Args) error {
	if a.Depth < 10 || (a.Depth-4)%6 != 0 {
		return fmt.Errorf("DenseNet-BC depth must be 6n+4 with n >= 1, got %d", a.Depth)
	}
	if err := positive("growth", a.Growth); err != nil {
		return err
	}
	n := ((a.Depth - 4) / 3) / 2
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
	x = b.relu(b.bn("bn1", x, c))
	x = b.flatten(b.globalAvgPool(x))
	b.linear("fc", x, c, a.NumClasses)
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
					stride := 1
					if blk == 0 && stage > 0 {
						stride = 2
					}
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
