//go:build !amd64 || purego

package kernels

// availableKernels is empty without assembly: Sgemm uses the pure-Go path.
func availableKernels() []*microKernel { return nil }

func fmaPeakAVX512(iters int) { panic("kernels: no AVX-512 peak loop in this build") }

func hasFMAPeak() bool { return false }

var hasMaskedCopy = false

var hasMaxRange = false

func packTapRows(dst *float32, nr int, x *float32, kc int, taps *patchTap, masks *uint32, segBase, iy0, h int, store uint32) {
	panic("kernels: no masked copy in this build")
}

func dotKernel4x6AVX512(k16 int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int) {
	panic("kernels: no dot kernel in this build")
}

func packTapRows2(dst *float32, nr int, x *float32, kc int, taps *patchTap, masks *uint64, segBase, iy0, h int, store uint32) {
	panic("kernels: no masked copy in this build")
}

func affineRow16(y, x *float32, n int, a, b float32, relu bool)     { panic("kernels: no AVX-512") }
func affine2MaskRow16(o, dy, z, y *float32, n int, a, b, c float32) { panic("kernels: no AVX-512") }
func maskedDotSumRow16(dy, x, y *float32, n int) (sdy, sdyx float32) {
	panic("kernels: no AVX-512")
}
func dotSumRow16(dy, x *float32, n int) (sdy, sdyx float32) { panic("kernels: no AVX-512") }
func sumRow16(x *float32, n int) float32                    { panic("kernels: no AVX-512") }
func sumSqDevRow16(x *float32, n int, mean float32) float32 { panic("kernels: no AVX-512") }

func biasAddResRow16(y, x, res *float32, n int, b float32, relu bool) { panic("kernels: no AVX-512") }

func winoInputX(x *float32, off, w, hw, cn int, masks *[2]uint32, rows int, dst *float32, dcstride, dstride int, store uint32) {
	panic("kernels: no AVX-512")
}
func winoOutputX(m *float32, mstride, mkstride int, y *float32, ykstride, ow, rows, cnt, kn int, bias, res *float32, relu bool) {
	panic("kernels: no AVX-512")
}

func spinPause() {}

func prefetchL2(p *float32, n int) {}
func winoInputC(x *float32, offs *[16]int, cg int, cstride int, dst *float32, dcstride, dstride int) {
	panic("kernels: no AVX-512")
}
func winoDyC(dy *float32, offs *[4]int, kg int, kstride int, dst *float32, dkstride, dstride int) {
	panic("kernels: no AVX-512")
}
func transpose16(dst *float32, ldd int, src *float32, lds int) { panic("kernels: no AVX-512") }

func wino4InputX(x *float32, off, w, hw, cn int, masks *[5]uint32, rows int, dst *float32, dcstride, dstride int, store uint32) {
	panic("kernels: no AVX-512")
}
func wino4OutputX(m *float32, mstride, mkstride int, y *float32, ykstride, ow, rows, cnt, kn int, bias, res *float32, relu bool) {
	panic("kernels: no AVX-512")
}
func wino4InputG(x *float32, offs *[16]int32, masks *[36]uint16, w, hw, cn int, dst *float32, dcstride, dstride int, store uint32) {
	panic("kernels: no AVX-512")
}
func wino4OutputG(m *float32, mstride, mkstride int, y *float32, ykstride, ow int, u *wino4OutUnit, kn int, bias, res *float32, relu bool) {
	panic("kernels: no AVX-512")
}
func maxRowInto(dst, src *float32, n int)     { panic("kernels: no AVX-512") }
func maxPool3s2Row(dst, rowp *float32, n int) { panic("kernels: no AVX-512") }
