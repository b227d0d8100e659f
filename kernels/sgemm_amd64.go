//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

//go:generate sh -c "python3 gen_sgemm_amd64.py > sgemm_amd64.s"
//go:generate sh -c "python3 gen_wino_amd64.py > wino_amd64.s"

// sgemmKernelAVX512 adds the 12×32 product of a packed A strip and a packed
// B panel, kc deep, to C (row stride ldc floats).
//
//go:noescape
func sgemmKernelAVX512(kc int, a, b, c *float32, ldc int)

// sgemmKernelAVX512x16 adds the 16×16 product of a packed A strip and a
// packed B panel, kc deep, to C (row stride ldc floats).
//
//go:noescape
func sgemmKernelAVX512x16(kc int, a, b, c *float32, ldc int)

// sgemmKernelAVX512Set and sgemmKernelAVX512x16Set are the two kernels
// above setting C to the product instead of adding it (C is not read).
//
//go:noescape
func sgemmKernelAVX512Set(kc int, a, b, c *float32, ldc int)

//go:noescape
func sgemmKernelAVX512x16Set(kc int, a, b, c *float32, ldc int)

// sgemmKernelAVX512M adds the 12×32 product of a packed A strip and kc
// rows of B, ldb floats apart (a packed panel, ldb 32, or a matrix as it
// lies), to C, in the columns set in mask only: the others are neither
// read from B nor read or written in C. sgemmKernelAVX512M16 is the same
// 16 columns wide; the Set forms set C instead of adding to it.
//
//go:noescape
func sgemmKernelAVX512M(kc int, a, b, c *float32, ldc, ldb int, mask uint32)

//go:noescape
func sgemmKernelAVX512MSet(kc int, a, b, c *float32, ldc, ldb int, mask uint32)

//go:noescape
func sgemmKernelAVX512M16(kc int, a, b, c *float32, ldc, ldb int, mask uint32)

//go:noescape
func sgemmKernelAVX512M16Set(kc int, a, b, c *float32, ldc, ldb int, mask uint32)

// sgemmKernelAVX512R4M and sgemmKernelAVX512R8M are sgemmKernelAVX512M
// for the first 4 or 8 rows of the 12-row strip at a only (the last strip
// of a product of 4 or 8 rows past a multiple of 12); the Set forms set C.
//
//go:noescape
func sgemmKernelAVX512R4M(kc int, a, b, c *float32, ldc, ldb int, mask uint32)

//go:noescape
func sgemmKernelAVX512R4MSet(kc int, a, b, c *float32, ldc, ldb int, mask uint32)

//go:noescape
func sgemmKernelAVX512R8M(kc int, a, b, c *float32, ldc, ldb int, mask uint32)

//go:noescape
func sgemmKernelAVX512R8MSet(kc int, a, b, c *float32, ldc, ldb int, mask uint32)

// sgemmKernelAVX2 adds the 6×16 product of a packed A strip and a packed B
// panel, kc deep, to C (row stride ldc floats).
//
//go:noescape
func sgemmKernelAVX2(kc int, a, b, c *float32, ldc int)

// fmaPeakAVX512 runs iters rounds of 24 independent 16-wide FMAs (768
// flops a round); benchmarks use it to measure the machine's peak.
func fmaPeakAVX512(iters int)

var (
	kernelAVX512 = &microKernel{name: "avx512", mr: 12, nr: 32, fn: sgemmKernelAVX512, set: sgemmKernelAVX512Set, masked: &maskedKernel{
		fn: sgemmKernelAVX512M, set: sgemmKernelAVX512MSet, half: sgemmKernelAVX512M16, halfSet: sgemmKernelAVX512M16Set,
		short: [2]maskedFn{sgemmKernelAVX512R4M, sgemmKernelAVX512R8M}, shortSet: [2]maskedFn{sgemmKernelAVX512R4MSet, sgemmKernelAVX512R8MSet}}}
	kernelAVX512x16 = &microKernel{name: "avx512x16", mr: 16, nr: 16, fn: sgemmKernelAVX512x16, set: sgemmKernelAVX512x16Set, cols: winoCols16x4AVX512}
	kernelAVX2      = &microKernel{name: "avx2", mr: 6, nr: 16, fn: sgemmKernelAVX2}
)

// availableKernels lists the assembly microkernels this CPU runs, best
// first.
func availableKernels() []*microKernel {
	var ks []*microKernel
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ {
		ks = append(ks, kernelAVX512, kernelAVX512x16)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, kernelAVX2)
	}
	return ks
}

func hasFMAPeak() bool { return cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ }

// hasMaskedCopy reports whether packTapRows runs here; tests turn it off
// to cover the portable packing path.
var hasMaskedCopy = cpu.X86.HasAVX512F

// hasMaxRange reports whether pool_amd64.s runs here (VRANGEPS is
// AVX512DQ).
var hasMaxRange = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ

// packTapRows fills one run of columns of kc rows of a patch panel; see
// pack_amd64.s. It needs AVX-512 (hasMaskedCopy).
//
//go:noescape
func packTapRows(dst *float32, nr int, x *float32, kc int, taps *patchTap, masks *uint32, segBase, iy0, h int, store uint32)

// dotKernel4x6AVX512 adds C[i][j] += Σ_p A[i][p]·B[j][p] for i < 4, j < 6
// and p < 16·k16, reading rows of A and B straight (lda, ldb and ldc in
// floats).
//
//go:noescape
func dotKernel4x6AVX512(k16 int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int)

// packTapRows2 is packTapRows for column stride 2, with 64-lane masks over
// the input row; see pack_amd64.s.
//
//go:noescape
func packTapRows2(dst *float32, nr int, x *float32, kc int, taps *patchTap, masks *uint64, segBase, iy0, h int, store uint32)

// Row kernels over whole 16-float blocks (rows_amd64.s); AVX-512
// (hasMaskedCopy). n must be a positive multiple of 16.

//go:noescape
func affineRow16(y, x *float32, n int, a, b float32, relu bool)

//go:noescape
func affine2MaskRow16(o, dy, z, y *float32, n int, a, b, c float32)

//go:noescape
func maskedDotSumRow16(dy, x, y *float32, n int) (sdy, sdyx float32)

//go:noescape
func dotSumRow16(dy, x *float32, n int) (sdy, sdyx float32)

//go:noescape
func sumRow16(x *float32, n int) float32

//go:noescape
func sumSqDevRow16(x *float32, n int, mean float32) float32

//go:noescape
func biasAddResRow16(y, x, res *float32, n int, b float32, relu bool)

// Winograd transforms straight from and to the image (wino_amd64.s);
// AVX-512 (hasMaskedCopy).

//go:noescape
func winoInputX(x *float32, off, w, hw, cn int, masks *[2]uint32, rows int, dst *float32, dcstride, dstride int, store uint32)

//go:noescape
func winoOutputX(m *float32, mstride, mkstride int, y *float32, ykstride, ow, rows, cnt, kn int, bias, res *float32, relu bool)

// spinPause runs two PAUSE instructions (pack_amd64.s), for spin loops.
func spinPause()

// prefetchL2 asks for the n floats at p in L2 (pack_amd64.s) and returns
// without waiting for them.
//
//go:noescape
func prefetchL2(p *float32, n int)

//go:noescape
func winoInputC(x *float32, offs *[16]int, cg int, cstride int, dst *float32, dcstride, dstride int)

//go:noescape
func winoDyC(dy *float32, offs *[4]int, kg int, kstride int, dst *float32, dkstride, dstride int)

//go:noescape
func transpose16(dst *float32, ldd int, src *float32, lds int)

// winoCols16x4AVX512 sets out[(4s+j)·16+i] to Σ_p a_s[16p+i]·b[16p+j] for
// the packed 16-row strips a_0 … a_3 and the first four columns of the
// packed 16-column panel b, kc deep, summed as sgemmKernelAVX512x16 sums.
//
//go:noescape
func winoCols16x4AVX512(kc int, a0, a1, a2, a3, b, out *float32)

// The F(4×4, 3×3) transforms straight from and to the image
// (wino_amd64.s); see winograd4.go.
//
//go:noescape
func wino4InputX(x *float32, off, w, hw, cn int, masks *[5]uint32, rows int, dst *float32, dcstride, dstride int, store uint32)

//go:noescape
func wino4OutputX(m *float32, mstride, mkstride int, y *float32, ykstride, ow, rows, cnt, kn int, bias, res *float32, relu bool)

//go:noescape
func wino4InputG(x *float32, offs *[16]int32, masks *[36]uint16, w, hw, cn int, dst *float32, dcstride, dstride int, store uint32)

//go:noescape
func wino4OutputG(m *float32, mstride, mkstride int, y *float32, ykstride, ow int, u *wino4OutUnit, kn int, bias, res *float32, relu bool)

// Max pooling rows (pool_amd64.s); AVX-512 (hasMaskedCopy).
//
//go:noescape
func maxRowInto(dst, src *float32, n int)

//go:noescape
func maxPool3s2Row(dst, rowp *float32, n int)
