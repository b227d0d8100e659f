package kernels

import "math/rand/v2"

// Naive references: direct loops straight from the definitions, in float64.

func refGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			old := float64(0)
			if beta != 0 {
				old = float64(beta) * float64(c[i*ldc+j])
			}
			c[i*ldc+j] = float32(float64(alpha)*s + old)
		}
	}
}

// refConvTaps calls f for every (n, k, oy, ox, c, r, s) whose input tap
// (iy, ix) lies inside the image, with the flat indices of x, w and y.
func refConvTaps(p ConvParams, f func(xi, wi, yi int)) {
	p = p.norm()
	oh, ow := p.OutHW()
	cg, kg := p.C/p.Group, p.K/p.Group
	for n := 0; n < p.N; n++ {
		for k := 0; k < p.K; k++ {
			g := k / kg
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					yi := ((n*p.K+k)*oh+oy)*ow + ox
					for ci := 0; ci < cg; ci++ {
						c := g*cg + ci
						for r := 0; r < p.R; r++ {
							iy := oy*p.StrideH - p.PadT + r*p.DilH
							if iy < 0 || iy >= p.H {
								continue
							}
							for s := 0; s < p.S; s++ {
								ix := ox*p.StrideW - p.PadL + s*p.DilW
								if ix < 0 || ix >= p.W {
									continue
								}
								f(((n*p.C+c)*p.H+iy)*p.W+ix, ((k*cg+ci)*p.R+r)*p.S+s, yi)
							}
						}
					}
				}
			}
		}
	}
}

func refConv(p ConvParams, x, w, bias []float32, act Activation, residual []float32) []float32 {
	oh, ow := p.OutHW()
	acc := make([]float64, p.N*p.K*oh*ow)
	refConvTaps(p, func(xi, wi, yi int) { acc[yi] += float64(x[xi]) * float64(w[wi]) })
	y := make([]float32, len(acc))
	for i, v := range acc {
		k := (i / (oh * ow)) % p.K
		if bias != nil {
			v += float64(bias[k])
		}
		if residual != nil {
			v += float64(residual[i])
		}
		if act == ActReLU && v < 0 {
			v = 0
		}
		y[i] = float32(v)
	}
	return y
}

func refConvBackwardData(p ConvParams, dy, w []float32) []float32 {
	acc := make([]float64, p.N*p.C*p.H*p.W)
	refConvTaps(p, func(xi, wi, yi int) { acc[xi] += float64(dy[yi]) * float64(w[wi]) })
	return to32(acc)
}

func refConvBackwardFilter(p ConvParams, x, dy []float32) []float32 {
	q := p.norm()
	acc := make([]float64, p.K*(p.C/q.Group)*p.R*p.S)
	refConvTaps(p, func(xi, wi, yi int) { acc[wi] += float64(dy[yi]) * float64(x[xi]) })
	return to32(acc)
}

func to32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}
