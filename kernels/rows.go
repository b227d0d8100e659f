package kernels

import "math"

// Row kernels: the elementwise passes of batch norm and ReLU over one
// contiguous run of a tensor (a channel of one image, a chunk of a
// tensor). They are written without data-dependent branches and with
// independent partial sums, so the compiler keeps them at about an element
// per cycle; statistics are summed per row in float32 and callers add rows
// in float64.

// SumRow returns Σx.
func SumRow(x []float32) float32 {
	if n := len(x) &^ 15; hasMaskedCopy && n > 0 {
		return sumRow16(&x[0], n) + sumRowGo(x[n:])
	}
	return sumRowGo(x)
}

func sumRowGo(x []float32) float32 {
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(x); i += 8 {
		v := x[i : i+8 : i+8]
		s0 += v[0]
		s1 += v[1]
		s2 += v[2]
		s3 += v[3]
		s4 += v[4]
		s5 += v[5]
		s6 += v[6]
		s7 += v[7]
	}
	for ; i < len(x); i++ {
		s0 += x[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// SumSqDevRow returns Σ(x − mean)².
func SumSqDevRow(x []float32, mean float32) float32 {
	if n := len(x) &^ 15; hasMaskedCopy && n > 0 {
		return sumSqDevRow16(&x[0], n, mean) + sumSqDevRowGo(x[n:], mean)
	}
	return sumSqDevRowGo(x, mean)
}

func sumSqDevRowGo(x []float32, mean float32) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		d0, d1, d2, d3 := v[0]-mean, v[1]-mean, v[2]-mean, v[3]-mean
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(x); i++ {
		d := x[i] - mean
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

// DotSumRow returns Σdy and Σdy·x.
func DotSumRow(dy, x []float32) (sdy, sdyx float32) {
	x = x[:len(dy)]
	if n := len(dy) &^ 15; hasMaskedCopy && n > 0 {
		a, b := dotSumRow16(&dy[0], &x[0], n)
		c, d := dotSumRowGo(dy[n:], x[n:])
		return a + c, b + d
	}
	return dotSumRowGo(dy, x)
}

func dotSumRowGo(dy, x []float32) (sdy, sdyx float32) {
	var a0, a1, b0, b1 float32
	i := 0
	for ; i+2 <= len(dy); i += 2 {
		a0 += dy[i]
		a1 += dy[i+1]
		b0 += dy[i] * x[i]
		b1 += dy[i+1] * x[i+1]
	}
	for ; i < len(dy); i++ {
		a0 += dy[i]
		b0 += dy[i] * x[i]
	}
	return a0 + a1, b0 + b1
}

// MaskedDotSumRow is DotSumRow over the elements where y > 0: the sums a
// batch norm followed by a ReLU needs from the ReLU's output y and the
// gradient dy arriving at it.
func MaskedDotSumRow(dy, x, y []float32) (sdy, sdyx float32) {
	x, y = x[:len(dy)], y[:len(dy)]
	if n := len(dy) &^ 15; hasMaskedCopy && n > 0 {
		a, b := maskedDotSumRow16(&dy[0], &x[0], &y[0], n)
		c, d := maskedDotSumRowGo(dy[n:], x[n:], y[n:])
		return a + c, b + d
	}
	return maskedDotSumRowGo(dy, x, y)
}

func maskedDotSumRowGo(dy, x, y []float32) (sdy, sdyx float32) {
	var a0, a1, b0, b1 float32
	i := 0
	for ; i+2 <= len(dy); i += 2 {
		d0, d1 := positiveMask(y[i], dy[i]), positiveMask(y[i+1], dy[i+1])
		a0 += d0
		a1 += d1
		b0 += d0 * x[i]
		b1 += d1 * x[i+1]
	}
	for ; i < len(dy); i++ {
		d := positiveMask(y[i], dy[i])
		a0 += d
		b0 += d * x[i]
	}
	return a0 + a1, b0 + b1
}

// Affine2MaskRow writes o = a·g + b·z + c with g = dy where y > 0 and 0
// elsewhere. o may alias dy or z.
func Affine2MaskRow(o, dy, z, y []float32, a, b, c float32) {
	o, z, y = o[:len(dy)], z[:len(dy)], y[:len(dy)]
	if n := len(dy) &^ 15; hasMaskedCopy && n > 0 {
		affine2MaskRow16(&o[0], &dy[0], &z[0], &y[0], n, a, b, c)
		o, dy, z, y = o[n:], dy[n:], z[n:], y[n:]
	}
	for i, d := range dy {
		o[i] = a*positiveMask(y[i], d) + b*z[i] + c
	}
}

// positiveMask returns d where y > 0 and +0 elsewhere, without a branch.
func positiveMask(y, d float32) float32 {
	var m uint32
	if y > 0 {
		m = ^uint32(0)
	}
	return math.Float32frombits(math.Float32bits(d) & m)
}

// AffineRow writes y = a·x + b, then max(y, 0) when act is ActReLU
// (NaNs pass through). y may alias x.
func AffineRow(y, x []float32, a, b float32, act Activation) {
	y = y[:len(x)]
	if n := len(x) &^ 15; hasMaskedCopy && n > 0 {
		affineRow16(&y[0], &x[0], n, a, b, act == ActReLU)
		y, x = y[n:], x[n:]
	}
	if act != ActReLU {
		for i, v := range x {
			y[i] = a*v + b
		}
		return
	}
	for i, v := range x {
		y[i] = reluBits(a*v + b)
	}
}

// BiasAddRow writes y = x + b + res (res may be nil), then max(y, 0) when
// act is ActReLU. y may alias x.
func BiasAddRow(y, x, res []float32, b float32, act Activation) {
	if res == nil {
		AffineRow(y, x, 1, b, act)
		return
	}
	y, res = y[:len(x)], res[:len(x)]
	if n := len(x) &^ 15; hasMaskedCopy && n > 0 {
		biasAddResRow16(&y[0], &x[0], &res[0], n, b, act == ActReLU)
		y, x, res = y[n:], x[n:], res[n:]
	}
	if act != ActReLU {
		for i, v := range x {
			y[i] = v + b + res[i]
		}
		return
	}
	for i, v := range x {
		y[i] = reluBits(v + b + res[i])
	}
}

// Affine2Row writes o = a·x + b·z + c. o may alias x or z.
func Affine2Row(o, x, z []float32, a, b, c float32) {
	o, z = o[:len(x)], z[:len(x)]
	for i, v := range x {
		o[i] = a*v + b*z[i] + c
	}
}

// ReLURow writes y = max(x, 0); NaNs pass through. y may alias x.
func ReLURow(y, x []float32) {
	y = y[:len(x)]
	if n := len(x) &^ 15; hasMaskedCopy && n > 0 {
		affineRow16(&y[0], &x[0], n, 1, 0, true) // 1·v + 0 is v, -0 becoming +0
		y, x = y[n:], x[n:]
	}
	for i, v := range x {
		y[i] = reluBits(v)
	}
}

// ReLUGradRow writes dx = dy where y > 0 and 0 elsewhere: the gradient of
// ReLU given its output y.
func ReLUGradRow(dx, y, dy []float32) {
	dx, dy = dx[:len(y)], dy[:len(y)]
	for i, v := range y {
		dx[i] = positiveMask(v, dy[i])
	}
}

// reluBits is max(v, 0) by a mask, so random signs cost no mispredicted
// branches: v ≤ 0 gives +0, anything else (NaN included) v.
func reluBits(v float32) float32 {
	m := ^uint32(0)
	if v <= 0 {
		m = 0
	}
	return math.Float32frombits(math.Float32bits(v) & m)
}
