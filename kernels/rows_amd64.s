//go:build !purego

#include "textflag.h"

// Row kernels on whole 16-float blocks (n a multiple of 16, at least 16);
// Go handles the tails. AVX-512. The elementwise ones round exactly as the
// Go fallbacks do (no fused multiply-add), so results do not depend on the
// CPU; the sums differ from them in summation order only.

// HSUM leaves the sum of the 16 lanes of Z in the low lane of X.
#define HSUM(Z, Y, X) \
	VEXTRACTF64X4 $1, Z, Y30 \
	VADDPS Y30, Y, Y \
	VEXTRACTF32X4 $1, Y, X30 \
	VADDPS X30, X, X \
	VMOVHLPS X, X, X30 \
	VADDPS X30, X, X \
	VMOVSHDUP X, X30 \
	VADDSS X30, X, X

// func affineRow16(y, x *float32, n int, a, b float32, relu bool)
TEXT ·affineRow16(SB), NOSPLIT, $0-33
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS a+24(FP), Z1
	VBROADCASTSS b+28(FP), Z2
	MOVBLZX relu+32(FP), AX
	VXORPS Z3, Z3, Z3
	SHRQ $4, CX
	TESTQ AX, AX
	JNE affine_relu
affine_loop:
	VMULPS (SI), Z1, Z0
	VADDPS Z2, Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNE affine_loop
	VZEROUPPER
	RET
affine_relu:
	VMULPS (SI), Z1, Z0
	VADDPS Z2, Z0, Z0
	// Keep lanes where !(v <= 0) (NaN included); +0 elsewhere.
	VCMPPS $6, Z3, Z0, K1
	VMOVAPS.Z Z0, K1, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNE affine_relu
	VZEROUPPER
	RET

// func affine2MaskRow16(o, dy, z, y *float32, n int, a, b, c float32)
// o = a·(y > 0 ? dy : 0) + b·z + c
TEXT ·affine2MaskRow16(SB), NOSPLIT, $0-52
	MOVQ o+0(FP), DI
	MOVQ dy+8(FP), SI
	MOVQ z+16(FP), DX
	MOVQ y+24(FP), BX
	MOVQ n+32(FP), CX
	VBROADCASTSS a+40(FP), Z1
	VBROADCASTSS b+44(FP), Z2
	VBROADCASTSS c+48(FP), Z3
	VXORPS Z4, Z4, Z4
	SHRQ $4, CX
a2m_loop:
	VMOVUPS (BX), Z5
	VCMPPS $14, Z4, Z5, K1
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS (DX), Z6
	// Rounded as the Go fallback does: (a·g + b·z) + c, no fused multiply-add.
	VMULPS Z1, Z0, Z0
	VMULPS Z2, Z6, Z6
	VADDPS Z6, Z0, Z0
	VADDPS Z3, Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, BX
	ADDQ $64, DI
	DECQ CX
	JNE a2m_loop
	VZEROUPPER
	RET

// func maskedDotSumRow16(dy, x, y *float32, n int) (sdy, sdyx float32)
TEXT ·maskedDotSumRow16(SB), NOSPLIT, $0-40
	MOVQ dy+0(FP), SI
	MOVQ x+8(FP), DX
	MOVQ y+16(FP), BX
	MOVQ n+24(FP), CX
	VXORPS Z4, Z4, Z4
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	SHRQ $4, CX
mds_loop:
	VMOVUPS (BX), Z5
	VCMPPS $14, Z4, Z5, K1
	VMOVUPS.Z (SI), K1, Z0
	VADDPS Z0, Z1, Z1
	VFMADD231PS (DX), Z0, Z2
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, BX
	DECQ CX
	JNE mds_loop
	HSUM(Z1, Y1, X1)
	HSUM(Z2, Y2, X2)
	MOVSS X1, sdy+32(FP)
	MOVSS X2, sdyx+36(FP)
	VZEROUPPER
	RET

// func dotSumRow16(dy, x *float32, n int) (sdy, sdyx float32)
TEXT ·dotSumRow16(SB), NOSPLIT, $0-32
	MOVQ dy+0(FP), SI
	MOVQ x+8(FP), DX
	MOVQ n+16(FP), CX
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	SHRQ $4, CX
ds_loop:
	VMOVUPS (SI), Z0
	VADDPS Z0, Z1, Z1
	VFMADD231PS (DX), Z0, Z2
	ADDQ $64, SI
	ADDQ $64, DX
	DECQ CX
	JNE ds_loop
	HSUM(Z1, Y1, X1)
	HSUM(Z2, Y2, X2)
	MOVSS X1, sdy+24(FP)
	MOVSS X2, sdyx+28(FP)
	VZEROUPPER
	RET

// func sumRow16(x *float32, n int) float32
TEXT ·sumRow16(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	SHRQ $4, CX
sum_loop:
	VADDPS (SI), Z1, Z1
	ADDQ $64, SI
	DECQ CX
	JNE sum_loop
	HSUM(Z1, Y1, X1)
	MOVSS X1, ret+16(FP)
	VZEROUPPER
	RET

// func sumSqDevRow16(x *float32, n int, mean float32) float32
TEXT ·sumSqDevRow16(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS mean+16(FP), Z3
	VXORPS Z1, Z1, Z1
	SHRQ $4, CX
ssd_loop:
	VMOVUPS (SI), Z0
	VSUBPS Z3, Z0, Z0
	VFMADD231PS Z0, Z0, Z1
	ADDQ $64, SI
	DECQ CX
	JNE ssd_loop
	HSUM(Z1, Y1, X1)
	MOVSS X1, ret+24(FP)
	VZEROUPPER
	RET

// func biasAddResRow16(y, x, res *float32, n int, b float32, relu bool)
// y = (x + b) + res, then max(·, 0) keeping NaN when relu.
TEXT ·biasAddResRow16(SB), NOSPLIT, $0-37
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ res+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS b+32(FP), Z2
	MOVBLZX relu+36(FP), AX
	VXORPS Z3, Z3, Z3
	SHRQ $4, CX
bar_loop:
	VADDPS (SI), Z2, Z0
	VADDPS (DX), Z0, Z0
	TESTQ AX, AX
	JEQ bar_store
	VCMPPS $6, Z3, Z0, K1
	VMOVAPS.Z Z0, K1, Z0
bar_store:
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	DECQ CX
	JNE bar_loop
	VZEROUPPER
	RET
