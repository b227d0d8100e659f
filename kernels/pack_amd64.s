//go:build !purego

#include "textflag.h"

// func packTapRows(dst *float32, nr int, x *float32, kc int, taps *patchTap, masks *uint32, segBase, iy0, h int, store uint32)
//
// One run of panel columns in kc consecutive panel rows (nr floats apart):
// row p is the masked 32-lane copy from x[segBase+taps[p].lin] under
// masks[taps[p].s], or zeros where the tap's input row iy0+taps[p].dy lies
// outside [0, h); only the lanes in store are written.
TEXT ·packTapRows(SB), NOSPLIT, $0-76
	MOVQ dst+0(FP), DI
	MOVQ nr+8(FP), R8
	SHLQ $2, R8
	MOVQ x+16(FP), SI
	MOVQ kc+24(FP), CX
	MOVQ taps+32(FP), DX
	MOVQ masks+40(FP), R12
	MOVQ segBase+48(FP), R9
	MOVQ iy0+56(FP), R10
	MOVQ h+64(FP), R11
	MOVL store+72(FP), BX
	KMOVW BX, K3
	SHRL $16, BX
	KMOVW BX, K4
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
	ADDQ $24, DX
	DECQ CX
	JNE packTapRows_loop
packTapRows_done:
	VZEROUPPER
	RET
