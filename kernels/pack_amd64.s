//go:build !purego

#include "textflag.h"

// PACK_ARGS loads the arguments both packers take: dst in DI, nr in bytes
// in R8, x in SI, kc in CX, taps in DX, masks in R12, segBase in R9, iy0
// in R10, h in R11, and store's low and high 16 lanes in K3 and K4.
#define PACK_ARGS \
	MOVQ dst+0(FP), DI; \
	MOVQ nr+8(FP), R8; \
	SHLQ $2, R8; \
	MOVQ x+16(FP), SI; \
	MOVQ kc+24(FP), CX; \
	MOVQ taps+32(FP), DX; \
	MOVQ masks+40(FP), R12; \
	MOVQ segBase+48(FP), R9; \
	MOVQ iy0+56(FP), R10; \
	MOVQ h+64(FP), R11; \
	MOVL store+72(FP), BX; \
	KMOVW BX, K3; \
	SHRL $16, BX; \
	KMOVW BX, K4

// func packTapRows(dst *float32, nr int, x *float32, kc int, taps *patchTap, masks *uint32, segBase, iy0, h int, store uint32)
//
// One run of panel columns in kc consecutive panel rows (nr floats apart):
// row p is the masked 32-lane copy from x[segBase+taps[p].lin] under
// masks[taps[p].s], or zeros where the tap's input row iy0+taps[p].dy lies
// outside [0, h); only the lanes in store are written.
TEXT ·packTapRows(SB), NOSPLIT, $0-76
	PACK_ARGS
	VXORPS Z2, Z2, Z2
	TESTQ CX, CX
	JEQ packTapRows_done
packTapRows_loop:
	MOVQ 8(DX), AX
	ADDQ R10, AX
	CMPQ AX, R11
	JAE packTapRows_zero
	MOVQ 16(DX), BX
	MOVL (R12)(BX*4), BX
	KMOVW BX, K1
	SHRL $16, BX
	KMOVW BX, K2
	MOVQ 0(DX), AX
	ADDQ R9, AX
	VMOVUPS.Z (SI)(AX*4), K1, Z0
	VMOVUPS.Z 64(SI)(AX*4), K2, Z1
	VMOVUPS Z0, K3, (DI)
	VMOVUPS Z1, K4, 64(DI)
	JMP packTapRows_next
packTapRows_zero:
	VMOVUPS Z2, K3, (DI)
	VMOVUPS Z2, K4, 64(DI)
packTapRows_next:
	ADDQ R8, DI
	ADDQ $32, DX
	DECQ CX
	JNE packTapRows_loop
packTapRows_done:
	VZEROUPPER
	RET

// Even lanes 0, 2, …, 30 of a pair of vectors, for VPERMT2PS here and
// VPERMI2PS in wino_amd64.s and pool_amd64.s.
DATA ·evenLanes+0(SB)/4, $0
DATA ·evenLanes+4(SB)/4, $2
DATA ·evenLanes+8(SB)/4, $4
DATA ·evenLanes+12(SB)/4, $6
DATA ·evenLanes+16(SB)/4, $8
DATA ·evenLanes+20(SB)/4, $10
DATA ·evenLanes+24(SB)/4, $12
DATA ·evenLanes+28(SB)/4, $14
DATA ·evenLanes+32(SB)/4, $16
DATA ·evenLanes+36(SB)/4, $18
DATA ·evenLanes+40(SB)/4, $20
DATA ·evenLanes+44(SB)/4, $22
DATA ·evenLanes+48(SB)/4, $24
DATA ·evenLanes+52(SB)/4, $26
DATA ·evenLanes+56(SB)/4, $28
DATA ·evenLanes+60(SB)/4, $30
GLOBL ·evenLanes(SB), RODATA|NOPTR, $64

// Odd lanes 1, 3, …, 31 of a pair of vectors, for VPERMI2PS in
// wino_amd64.s and pool_amd64.s.
DATA ·oddLanes+0(SB)/4, $1
DATA ·oddLanes+4(SB)/4, $3
DATA ·oddLanes+8(SB)/4, $5
DATA ·oddLanes+12(SB)/4, $7
DATA ·oddLanes+16(SB)/4, $9
DATA ·oddLanes+20(SB)/4, $11
DATA ·oddLanes+24(SB)/4, $13
DATA ·oddLanes+28(SB)/4, $15
DATA ·oddLanes+32(SB)/4, $17
DATA ·oddLanes+36(SB)/4, $19
DATA ·oddLanes+40(SB)/4, $21
DATA ·oddLanes+44(SB)/4, $23
DATA ·oddLanes+48(SB)/4, $25
DATA ·oddLanes+52(SB)/4, $27
DATA ·oddLanes+56(SB)/4, $29
DATA ·oddLanes+60(SB)/4, $31
GLOBL ·oddLanes(SB), RODATA|NOPTR, $64

// func packTapRows2(dst *float32, nr int, x *float32, kc int, taps *patchTap, masks *uint64, segBase, iy0, h int, store uint32)
//
// packTapRows for column stride 2: each row reads up to 64 consecutive
// floats under a 64-lane mask and keeps the even ones.
TEXT ·packTapRows2(SB), NOSPLIT, $0-76
	PACK_ARGS
	VMOVUPS ·evenLanes(SB), Z31
	VXORPS Z4, Z4, Z4
	TESTQ CX, CX
	JEQ packTapRows2_done
packTapRows2_loop:
	MOVQ 8(DX), AX
	ADDQ R10, AX
	CMPQ AX, R11
	JAE packTapRows2_zero
	MOVQ 16(DX), BX
	MOVQ (R12)(BX*8), BX
	KMOVW BX, K1
	SHRQ $16, BX
	KMOVW BX, K2
	SHRQ $16, BX
	KMOVW BX, K5
	SHRQ $16, BX
	KMOVW BX, K6
	MOVQ 0(DX), AX
	ADDQ R9, AX
	VMOVUPS.Z (SI)(AX*4), K1, Z0
	VMOVUPS.Z 64(SI)(AX*4), K2, Z1
	VMOVUPS.Z 128(SI)(AX*4), K5, Z2
	VMOVUPS.Z 192(SI)(AX*4), K6, Z3
	VPERMT2PS Z1, Z31, Z0
	VPERMT2PS Z3, Z31, Z2
	VMOVUPS Z0, K3, (DI)
	VMOVUPS Z2, K4, 64(DI)
	JMP packTapRows2_next
packTapRows2_zero:
	VMOVUPS Z4, K3, (DI)
	VMOVUPS Z4, K4, 64(DI)
packTapRows2_next:
	ADDQ R8, DI
	ADDQ $32, DX
	DECQ CX
	JNE packTapRows2_loop
packTapRows2_done:
	VZEROUPPER
	RET

// func spinPause()
//
// Two PAUSE instructions (about 0.1 µs on recent Xeons): a spinning loop's
// way of telling the core, and a hyperthread sharing it, that it is only
// waiting.
TEXT ·spinPause(SB), NOSPLIT, $0-0
	PAUSE
	PAUSE
	RET

// func prefetchL2(p *float32, n int)
//
// PREFETCHT1 for each 64-byte line of the n floats at p: asks for them in
// L2 without waiting for them (a prefetch never faults).
TEXT ·prefetchL2(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	LEAQ (SI)(CX*4), CX
prefetch_loop:
	CMPQ SI, CX
	JAE  prefetch_done
	PREFETCHT1 (SI)
	ADDQ $64, SI
	JMP  prefetch_loop
prefetch_done:
	RET
