package kernels

// The filter gradient of a Winograd-eligible convolution, the same way
// round: the forward pass of one tile is y = Aᵀ·[U ⊙ V]·A with
// U = G·g·Gᵀ, so ⟨dy, y⟩ = ⟨Gᵀ·[(A·dy·Aᵀ) ⊙ V]·G, g⟩ and
//
//	dW[k][c] = Gᵀ · (Σ_tiles Ŷ_k ⊙ V_c) · G,   Ŷ = A·dy·Aᵀ, V = Bᵀ·d·B.
//
// The sums over tiles are 16 products M_ξ = Ŷ_ξ · V_ξᵀ (K×tiles times
// tiles×C), run by the 16×16 outer-product microkernel: x and dy are
// copied to NHWC first, so the transforms work on 16 channels a vector and
// write the kernel's packed strips and panels directly (tiles along the
// depth). 16 multiplies per tile and channel pair instead of 36. AVX-512
// only, channel counts multiples of 16; elsewhere the direct paths run.

// winoFilterKernel is the 16×16 microkernel the Winograd filter gradient
// runs, or nil.
var winoFilterKernel = func() *microKernel {
	for _, k := range cpuKernels {
		if k.mr == 16 && k.nr == 16 {
			return k
		}
	}
	return nil
}()

// winoFilterOK reports whether c's filter gradient takes the Winograd path:
// with wide enough layers only, since the NHWC copies and the transforms
// grow with C+K per tile and the products with C·K. Measured on
// PreAct-ResNet18's layers at batch 128 against the direct dot path
// (alternating best-of-6, GFLOP/s of the direct method): 64 channels
// 124/117 and 99/96, 128 channels 107/105 and 89/105, 256 channels
// 136/107 and 114/79, 512 channels 122/82 and 99/75. A PreAct-ResNet18
// training step at batch 128 (zoo, alternating best-of-4): 4.30 s with
// this path on the 256- and 512-channel layers, 4.83 s without.
func (c *conv) winoFilterOK() bool {
	return hasMaskedCopy && winoFilterKernel != nil && c.winograd() && c.C%16 == 0 && c.K%16 == 0 &&
		c.C*c.K >= 128*(c.C+c.K)
}

// winoFilterBlock is the tiles of one block: the products' depth.
const winoFilterBlock = 256

// backwardFilterWino is Conv2DBackwardFilter on the Winograd path. dw is
// overwritten. Blocks of tiles go to the workers in a fixed order and
// their sums are added in a fixed order, so the result does not vary from
// run to run.
func (c *conv) backwardFilterWino(x, dy, dw []float32) {
	t := maxProcs()
	// NHWC copies of x and dy.
	xt, dyt := getBuf(c.N*c.C*c.hw), getBuf(c.N*c.K*c.ohw)
	defer putBuf(xt)
	defer putBuf(dyt)
	parallelFor(t, c.N, func(_, n int) {
		transposeTo(xt.s[n*c.C*c.hw:], x[n*c.C*c.hw:], c.C, c.hw)
		transposeTo(dyt.s[n*c.K*c.ohw:], dy[n*c.K*c.ohw:], c.K, c.ohw)
	})
	tiles := c.N * c.tilesPerImage()
	pb := min(winoFilterBlock, max(1, (tiles+t-1)/t))
	nb := (tiles + pb - 1) / pb
	t = min(t, nb)
	kc := c.K * c.C
	parts := make([]*buf, t)
	for i := range parts {
		parts[i] = getBuf(16 * kc)
		clear(parts[i].s)
	}
	vs, ys := roundUp(c.C*pb, 1024)+32, roundUp(c.K*pb, 1024)+32
	mk := winoFilterKernel
	parallelWorkers(t, nb, func(wid, b, _ int) {
		v, yh := getBuf(16*vs), getBuf(16*ys)
		defer putBuf(v)
		defer putBuf(yh)
		t0 := b * pb
		nt := min(pb, tiles-t0)
		c.winoFilterTransforms(xt.s, dyt.s, v.s, vs, yh.s, ys, pb, t0, nt)
		acc := parts[wid].s
		for xi := 0; xi < 16; xi++ {
			for kg := 0; kg < c.K/16; kg++ {
				a := &yh.s[xi*ys+kg*pb*16]
				for cg := 0; cg < c.C/16; cg++ {
					mk.fn(nt, a, &v.s[xi*vs+cg*pb*16], &acc[xi*kc+kg*16*c.C+cg*16], c.C)
				}
			}
		}
	})
	// dw = Gᵀ·M·G for every filter pair, M the workers' sums in order.
	dw = dw[:kc*9]
	ParallelRange(kc, kc*16*t, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			var m [16]float32
			for xi := range m {
				m[xi] = parts[0].s[xi*kc+i]
				for _, p := range parts[1:] {
					m[xi] += p.s[xi*kc+i]
				}
			}
			var tr [3][4]float32 // Gᵀ·M
			for j := 0; j < 4; j++ {
				m0, m1, m2, m3 := m[j], m[4+j], m[8+j], m[12+j]
				tr[0][j] = m0 + 0.5*(m1+m2)
				tr[1][j] = 0.5 * (m1 - m2)
				tr[2][j] = 0.5*(m1+m2) + m3
			}
			g := dw[i*9 : i*9+9 : i*9+9]
			for r := 0; r < 3; r++ {
				t0, t1, t2, t3 := tr[r][0], tr[r][1], tr[r][2], tr[r][3]
				g[3*r] = t0 + 0.5*(t1+t2)
				g[3*r+1] = 0.5 * (t1 - t2)
				g[3*r+2] = 0.5*(t1+t2) + t3
			}
		}
	})
	for _, p := range parts {
		putBuf(p)
	}
}

// winoFilterTransforms writes, for tiles [t0, t0+nt) (p = tile − t0), V of
// the NHWC input xt as the packed B panels v[ξ·vs + cg·pb·16 + p·16 + c%16]
// and Ŷ of the NHWC gradient dyt as the packed A strips
// yh[ξ·ys + kg·pb·16 + p·16 + k%16].
func (c *conv) winoFilterTransforms(xt, dyt, v []float32, vs int, yh []float32, ys, pb, t0, nt int) {
	tY, tX := c.tileGrid()
	tpi := tY * tX
	_ = v[15*vs+(c.C/16-1)*pb*16+(nt-1)*16+15]
	_ = yh[15*ys+(c.K/16-1)*pb*16+(nt-1)*16+15]
	for p := 0; p < nt; p++ {
		img, r := (t0+p)/tpi, (t0+p)%tpi
		ty, tx := r/tX, r%tX
		var offs [16]int
		for a := 0; a < 4; a++ {
			for b := 0; b < 4; b++ {
				iy, ix := 2*ty-c.PadT+a, 2*tx-c.PadL+b
				offs[4*a+b] = -1
				if iy >= 0 && iy < c.H && ix >= 0 && ix < c.W {
					offs[4*a+b] = ((img*c.H+iy)*c.W + ix) * c.C
				}
			}
		}
		winoInputC(&xt[0], &offs, c.C/16, 16, &v[p*16], pb*16, vs)
		var doffs [4]int
		for a := 0; a < 2; a++ {
			for b := 0; b < 2; b++ {
				oy, ox := 2*ty+a, 2*tx+b
				doffs[2*a+b] = -1
				if oy < c.oh && ox < c.ow {
					doffs[2*a+b] = ((img*c.oh+oy)*c.ow + ox) * c.K
				}
			}
		}
		winoDyC(&dyt[0], &doffs, c.K/16, 16, &yh[p*16], pb*16, ys)
	}
}

// transposeTo writes the cols×rows transpose of the rows×cols matrix src
// to dst, 16×16 blocks at a time with AVX-512 (hasMaskedCopy), the edges
// element by element.
func transposeTo(dst, src []float32, rows, cols int) {
	_ = src[rows*cols-1]
	_ = dst[rows*cols-1]
	r16, c16 := rows&^15, cols&^15
	if hasMaskedCopy {
		for i := 0; i < r16; i += 16 {
			for j := 0; j < c16; j += 16 {
				transpose16(&dst[j*rows+i], rows, &src[i*cols+j], cols)
			}
		}
	} else {
		r16, c16 = 0, 0
	}
	for i := 0; i < rows; i++ {
		j0 := c16
		if i >= r16 {
			j0 = 0
		}
		for j := j0; j < cols; j++ {
			dst[j*rows+i] = src[i*cols+j]
		}
	}
}
