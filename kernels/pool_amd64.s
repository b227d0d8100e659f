//go:build !purego

#include "textflag.h"

// Max pooling rows (pool2d.go); AVX-512 with DQ (hasMaxRange). As Go's max:
// VRANGEPS $5 (the maximum, with its own sign) orders −0 below +0, and
// where either input is a NaN (VCMPPS $3, unordered) their sum, a NaN,
// replaces its result (VRANGEPS returns the other input).

// func maxRowInto(dst, src *float32, n int)
//
// dst[i] = max(dst[i], src[i]) for i < n.
TEXT ·maxRowInto(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
maxRowInto_loop:
	CMPQ CX, $16
	JLT maxRowInto_tail
	VMOVUPS (DI), Z0
	VMOVUPS (SI), Z1
	VRANGEPS $5, Z1, Z0, Z2
	VCMPPS $3, Z1, Z0, K2
	VADDPS Z1, Z0, K2, Z2
	VMOVUPS Z2, (DI)
	ADDQ $64, DI
	ADDQ $64, SI
	SUBQ $16, CX
	JMP maxRowInto_loop
maxRowInto_tail:
	TESTQ CX, CX
	JEQ maxRowInto_done
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	VMOVUPS.Z (DI), K1, Z0
	VMOVUPS.Z (SI), K1, Z1
	VRANGEPS $5, Z1, Z0, Z2
	VCMPPS $3, Z1, Z0, K2
	VADDPS Z1, Z0, K2, Z2
	VMOVUPS Z2, K1, (DI)
maxRowInto_done:
	VZEROUPPER
	RET

// func maxPool3s2Row(dst, rowp *float32, n int)
//
// dst[i] = max(rowp[2i], rowp[2i+1], rowp[2i+2]) for i < n: a 3-wide,
// stride-2 window along a row with its padding (−Inf) in place. Reads
// rowp[0 … 2n] only (the loads past it are masked).
TEXT ·maxPool3s2Row(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ rowp+8(FP), SI
	MOVQ n+16(FP), R10
	VMOVUPS ·evenLanes(SB), Z30
	VMOVUPS ·oddLanes(SB), Z31
maxPool3s2Row_loop:
	TESTQ R10, R10
	JEQ maxPool3s2Row_done
	// m = min(n, 16) outputs read 2m+1 floats: the lanes of the three
	// loads at +0, +16 and +32 floats, 16 at most each.
	MOVQ R10, R8
	CMPQ R8, $16
	JLE maxPool3s2Row_m
	MOVQ $16, R8
maxPool3s2Row_m:
	LEAQ 1(R8)(R8*1), AX
	MOVQ AX, CX
	CMPQ CX, $16
	JLE maxPool3s2Row_k1
	MOVQ $16, CX
maxPool3s2Row_k1:
	SUBQ CX, AX
	MOVQ $1, BX
	SHLQ CX, BX
	DECQ BX
	KMOVW BX, K1
	MOVQ AX, CX
	CMPQ CX, $16
	JLE maxPool3s2Row_k2
	MOVQ $16, CX
maxPool3s2Row_k2:
	SUBQ CX, AX
	MOVQ $1, BX
	SHLQ CX, BX
	DECQ BX
	KMOVW BX, K2
	MOVQ AX, CX
	MOVQ $1, BX
	SHLQ CX, BX
	DECQ BX
	KMOVW BX, K3
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z 64(SI), K2, Z1
	VMOVUPS.Z 128(SI), K3, Z2
	VMOVAPS Z30, Z3
	VPERMI2PS Z1, Z0, Z3 // rowp[2i]
	VMOVAPS Z31, Z4
	VPERMI2PS Z1, Z0, Z4 // rowp[2i+1]
	VALIGND $1, Z3, Z2, Z5 // rowp[2i+2]: lane 15 is rowp[32]
	VRANGEPS $5, Z4, Z3, Z6
	VCMPPS $3, Z4, Z3, K5
	VADDPS Z4, Z3, K5, Z6
	VRANGEPS $5, Z5, Z6, Z3
	VCMPPS $3, Z5, Z6, K5
	VADDPS Z5, Z6, K5, Z3
	MOVQ R8, CX
	MOVQ $1, BX
	SHLQ CX, BX
	DECQ BX
	KMOVW BX, K4
	VMOVUPS Z3, K4, (DI)
	ADDQ $64, DI
	ADDQ $128, SI
	SUBQ R8, R10
	JMP maxPool3s2Row_loop
maxPool3s2Row_done:
	VZEROUPPER
	RET
