//go:build !purego

#include "textflag.h"

// Winograd F(2×2, 3×3) transforms on 16 tiles at a time (one tile per
// lane); see winograd.go. AVX-512 (hasMaskedCopy). Additions only, in the
// same order as the Go fallbacks, so both round alike.

// Interleaving two rows of 16 (a0 b0 a1 b1 …), for VPERMT2PS.
DATA zipLo<>+0(SB)/4, $0
DATA zipLo<>+4(SB)/4, $16
DATA zipLo<>+8(SB)/4, $1
DATA zipLo<>+12(SB)/4, $17
DATA zipLo<>+16(SB)/4, $2
DATA zipLo<>+20(SB)/4, $18
DATA zipLo<>+24(SB)/4, $3
DATA zipLo<>+28(SB)/4, $19
DATA zipLo<>+32(SB)/4, $4
DATA zipLo<>+36(SB)/4, $20
DATA zipLo<>+40(SB)/4, $5
DATA zipLo<>+44(SB)/4, $21
DATA zipLo<>+48(SB)/4, $6
DATA zipLo<>+52(SB)/4, $22
DATA zipLo<>+56(SB)/4, $7
DATA zipLo<>+60(SB)/4, $23
GLOBL zipLo<>(SB), RODATA|NOPTR, $64
DATA zipHi<>+0(SB)/4, $8
DATA zipHi<>+4(SB)/4, $24
DATA zipHi<>+8(SB)/4, $9
DATA zipHi<>+12(SB)/4, $25
DATA zipHi<>+16(SB)/4, $10
DATA zipHi<>+20(SB)/4, $26
DATA zipHi<>+24(SB)/4, $11
DATA zipHi<>+28(SB)/4, $27
DATA zipHi<>+32(SB)/4, $12
DATA zipHi<>+36(SB)/4, $28
DATA zipHi<>+40(SB)/4, $13
DATA zipHi<>+44(SB)/4, $29
DATA zipHi<>+48(SB)/4, $14
DATA zipHi<>+52(SB)/4, $30
DATA zipHi<>+56(SB)/4, $15
DATA zipHi<>+60(SB)/4, $31
GLOBL zipHi<>(SB), RODATA|NOPTR, $64


// Even lanes 0, 2, …, 30 and odd lanes 1, 3, …, 31 of a pair of vectors,
// for VPERMI2PS.
DATA winoEven<>+0(SB)/4, $0
DATA winoEven<>+4(SB)/4, $2
DATA winoEven<>+8(SB)/4, $4
DATA winoEven<>+12(SB)/4, $6
DATA winoEven<>+16(SB)/4, $8
DATA winoEven<>+20(SB)/4, $10
DATA winoEven<>+24(SB)/4, $12
DATA winoEven<>+28(SB)/4, $14
DATA winoEven<>+32(SB)/4, $16
DATA winoEven<>+36(SB)/4, $18
DATA winoEven<>+40(SB)/4, $20
DATA winoEven<>+44(SB)/4, $22
DATA winoEven<>+48(SB)/4, $24
DATA winoEven<>+52(SB)/4, $26
DATA winoEven<>+56(SB)/4, $28
DATA winoEven<>+60(SB)/4, $30
GLOBL winoEven<>(SB), RODATA|NOPTR, $64
DATA winoOdd<>+0(SB)/4, $1
DATA winoOdd<>+4(SB)/4, $3
DATA winoOdd<>+8(SB)/4, $5
DATA winoOdd<>+12(SB)/4, $7
DATA winoOdd<>+16(SB)/4, $9
DATA winoOdd<>+20(SB)/4, $11
DATA winoOdd<>+24(SB)/4, $13
DATA winoOdd<>+28(SB)/4, $15
DATA winoOdd<>+32(SB)/4, $17
DATA winoOdd<>+36(SB)/4, $19
DATA winoOdd<>+40(SB)/4, $21
DATA winoOdd<>+44(SB)/4, $23
DATA winoOdd<>+48(SB)/4, $25
DATA winoOdd<>+52(SB)/4, $27
DATA winoOdd<>+56(SB)/4, $29
DATA winoOdd<>+60(SB)/4, $31
GLOBL winoOdd<>(SB), RODATA|NOPTR, $64

// func winoInputX(x *float32, off, w, hw, cn int, masks *[2]uint32, rows int, dst *float32, dcstride, dstride int, store uint32)
//
// V = Bᵀ·d·B for up to 16 tiles along one tile row, straight from the
// image: for each of cn channels (hw floats apart from x+off), lane l's
// 4×4 patch d[a][b] is x[off + a·w + 2l + b]. masks holds the lanes of the
// 32-float loads at columns +0 and +2 that lie in the image (low and high
// halves); bit a of rows says input row a does. V's row ξ of channel i goes
// to dst + i·dcstride + ξ·dstride, lanes in store.
TEXT ·winoInputX(SB), NOSPLIT, $0-84
	MOVQ x+0(FP), SI
	MOVQ off+8(FP), AX
	LEAQ (SI)(AX*4), SI
	MOVQ w+16(FP), R8
	SHLQ $2, R8
	MOVQ hw+24(FP), R9
	SHLQ $2, R9
	MOVQ cn+32(FP), CX
	MOVQ masks+40(FP), BX
	KMOVW 0(BX), K1
	KMOVW 2(BX), K2
	KMOVW 4(BX), K3
	KMOVW 6(BX), K4
	MOVQ rows+48(FP), R10
	MOVQ dst+56(FP), DI
	MOVQ dcstride+64(FP), R11
	SHLQ $2, R11
	MOVQ dstride+72(FP), R12
	SHLQ $2, R12
	LEAQ (R12)(R12*2), R13
	MOVL store+80(FP), BX
	KMOVW BX, K5
	VMOVUPS winoEven<>(SB), Z30
	VMOVUPS winoOdd<>(SB), Z31
	TESTQ CX, CX
	JEQ winoInputX_done
winoInputX_loop:
	MOVQ SI, AX
	BTQ $0, R10
	JCC winoInputX_zero0
	VMOVUPS.Z (AX), K1, Z16
	VMOVUPS.Z 64(AX), K2, Z17
	VMOVAPS Z30, Z0
	VPERMI2PS Z17, Z16, Z0
	VMOVAPS Z31, Z1
	VPERMI2PS Z17, Z16, Z1
	VMOVUPS.Z 8(AX), K3, Z16
	VMOVUPS.Z 72(AX), K4, Z17
	VMOVAPS Z30, Z2
	VPERMI2PS Z17, Z16, Z2
	VMOVAPS Z31, Z3
	VPERMI2PS Z17, Z16, Z3
	JMP winoInputX_row0
winoInputX_zero0:
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
winoInputX_row0:
	ADDQ R8, AX
	BTQ $1, R10
	JCC winoInputX_zero1
	VMOVUPS.Z (AX), K1, Z16
	VMOVUPS.Z 64(AX), K2, Z17
	VMOVAPS Z30, Z4
	VPERMI2PS Z17, Z16, Z4
	VMOVAPS Z31, Z5
	VPERMI2PS Z17, Z16, Z5
	VMOVUPS.Z 8(AX), K3, Z16
	VMOVUPS.Z 72(AX), K4, Z17
	VMOVAPS Z30, Z6
	VPERMI2PS Z17, Z16, Z6
	VMOVAPS Z31, Z7
	VPERMI2PS Z17, Z16, Z7
	JMP winoInputX_row1
winoInputX_zero1:
	VXORPS Z4, Z4, Z4
	VXORPS Z5, Z5, Z5
	VXORPS Z6, Z6, Z6
	VXORPS Z7, Z7, Z7
winoInputX_row1:
	ADDQ R8, AX
	BTQ $2, R10
	JCC winoInputX_zero2
	VMOVUPS.Z (AX), K1, Z16
	VMOVUPS.Z 64(AX), K2, Z17
	VMOVAPS Z30, Z8
	VPERMI2PS Z17, Z16, Z8
	VMOVAPS Z31, Z9
	VPERMI2PS Z17, Z16, Z9
	VMOVUPS.Z 8(AX), K3, Z16
	VMOVUPS.Z 72(AX), K4, Z17
	VMOVAPS Z30, Z10
	VPERMI2PS Z17, Z16, Z10
	VMOVAPS Z31, Z11
	VPERMI2PS Z17, Z16, Z11
	JMP winoInputX_row2
winoInputX_zero2:
	VXORPS Z8, Z8, Z8
	VXORPS Z9, Z9, Z9
	VXORPS Z10, Z10, Z10
	VXORPS Z11, Z11, Z11
winoInputX_row2:
	ADDQ R8, AX
	BTQ $3, R10
	JCC winoInputX_zero3
	VMOVUPS.Z (AX), K1, Z16
	VMOVUPS.Z 64(AX), K2, Z17
	VMOVAPS Z30, Z12
	VPERMI2PS Z17, Z16, Z12
	VMOVAPS Z31, Z13
	VPERMI2PS Z17, Z16, Z13
	VMOVUPS.Z 8(AX), K3, Z16
	VMOVUPS.Z 72(AX), K4, Z17
	VMOVAPS Z30, Z14
	VPERMI2PS Z17, Z16, Z14
	VMOVAPS Z31, Z15
	VPERMI2PS Z17, Z16, Z15
	JMP winoInputX_row3
winoInputX_zero3:
	VXORPS Z12, Z12, Z12
	VXORPS Z13, Z13, Z13
	VXORPS Z14, Z14, Z14
	VXORPS Z15, Z15, Z15
winoInputX_row3:
	ADDQ R8, AX
	VSUBPS Z8, Z0, Z0
	VADDPS Z8, Z4, Z18
	VSUBPS Z4, Z8, Z8
	VSUBPS Z12, Z4, Z12
	VMOVAPS Z18, Z4
	VSUBPS Z9, Z1, Z1
	VADDPS Z9, Z5, Z18
	VSUBPS Z5, Z9, Z9
	VSUBPS Z13, Z5, Z13
	VMOVAPS Z18, Z5
	VSUBPS Z10, Z2, Z2
	VADDPS Z10, Z6, Z18
	VSUBPS Z6, Z10, Z10
	VSUBPS Z14, Z6, Z14
	VMOVAPS Z18, Z6
	VSUBPS Z11, Z3, Z3
	VADDPS Z11, Z7, Z18
	VSUBPS Z7, Z11, Z11
	VSUBPS Z15, Z7, Z15
	VMOVAPS Z18, Z7
	VSUBPS Z2, Z0, Z0
	VADDPS Z2, Z1, Z18
	VSUBPS Z1, Z2, Z2
	VSUBPS Z3, Z1, Z3
	VMOVAPS Z18, Z1
	VSUBPS Z6, Z4, Z4
	VADDPS Z6, Z5, Z18
	VSUBPS Z5, Z6, Z6
	VSUBPS Z7, Z5, Z7
	VMOVAPS Z18, Z5
	VSUBPS Z10, Z8, Z8
	VADDPS Z10, Z9, Z18
	VSUBPS Z9, Z10, Z10
	VSUBPS Z11, Z9, Z11
	VMOVAPS Z18, Z9
	VSUBPS Z14, Z12, Z12
	VADDPS Z14, Z13, Z18
	VSUBPS Z13, Z14, Z14
	VSUBPS Z15, Z13, Z15
	VMOVAPS Z18, Z13
	MOVQ DI, DX
	VMOVUPS Z0, K5, (DX)
	VMOVUPS Z1, K5, (DX)(R12*1)
	VMOVUPS Z2, K5, (DX)(R12*2)
	VMOVUPS Z3, K5, (DX)(R13*1)
	LEAQ (DX)(R12*4), DX
	VMOVUPS Z4, K5, (DX)
	VMOVUPS Z5, K5, (DX)(R12*1)
	VMOVUPS Z6, K5, (DX)(R12*2)
	VMOVUPS Z7, K5, (DX)(R13*1)
	LEAQ (DX)(R12*4), DX
	VMOVUPS Z8, K5, (DX)
	VMOVUPS Z9, K5, (DX)(R12*1)
	VMOVUPS Z10, K5, (DX)(R12*2)
	VMOVUPS Z11, K5, (DX)(R13*1)
	LEAQ (DX)(R12*4), DX
	VMOVUPS Z12, K5, (DX)
	VMOVUPS Z13, K5, (DX)(R12*1)
	VMOVUPS Z14, K5, (DX)(R12*2)
	VMOVUPS Z15, K5, (DX)(R13*1)
	ADDQ R9, SI
	ADDQ R11, DI
	DECQ CX
	JNE winoInputX_loop
winoInputX_done:
	VZEROUPPER
	RET

// func winoOutputX(m *float32, mstride, mkstride int, y *float32, ykstride, ow, rows, cnt, kn int, bias, res *float32, relu bool)
//
// Y = Aᵀ·M·A for up to 16 tiles along one tile row, for kn output channels,
// written straight to the image with the epilogue: channel i's M row ξ is
// at m + i·mkstride + ξ·mstride; its output rows (rows of them, 1 or 2) at
// y + i·ykstride (+ ow), cnt floats each (z interleaves the tiles' two
// columns), as act(z + bias[i] + res[same place]); bias and res may be nil.
// Rounds as winoOutputRows and winoScatterRow do.
TEXT ·winoOutputX(SB), NOSPLIT, $0-89
	MOVQ m+0(FP), SI
	MOVQ mstride+8(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R10
	MOVQ mkstride+16(FP), R9
	SHLQ $2, R9
	MOVQ y+24(FP), DI
	MOVQ ykstride+32(FP), R11
	SHLQ $2, R11
	MOVQ ow+40(FP), R12
	SHLQ $2, R12
	MOVQ rows+48(FP), R13
	MOVQ cnt+56(FP), CX
	MOVQ $1, BX
	SHLQ CX, BX
	DECQ BX
	KMOVW BX, K1
	SHRQ $16, BX
	KMOVW BX, K2
	MOVQ kn+64(FP), DX
	MOVQ bias+72(FP), R14
	MOVQ res+80(FP), R15
	MOVBLZX relu+88(FP), AX
	VMOVUPS zipLo<>(SB), Z30
	VMOVUPS zipHi<>(SB), Z31
	VXORPS Z25, Z25, Z25
	TESTQ DX, DX
	JEQ winoOutputX_done
winoOutputX_loop:
	MOVQ SI, BX
	VMOVUPS (BX), Z0
	VMOVUPS (BX)(R8*1), Z1
	VMOVUPS (BX)(R8*2), Z2
	VMOVUPS (BX)(R10*1), Z3
	LEAQ (BX)(R8*4), BX
	VMOVUPS (BX), Z4
	VMOVUPS (BX)(R8*1), Z5
	VMOVUPS (BX)(R8*2), Z6
	VMOVUPS (BX)(R10*1), Z7
	LEAQ (BX)(R8*4), BX
	VMOVUPS (BX), Z8
	VMOVUPS (BX)(R8*1), Z9
	VMOVUPS (BX)(R8*2), Z10
	VMOVUPS (BX)(R10*1), Z11
	LEAQ (BX)(R8*4), BX
	VMOVUPS (BX), Z12
	VMOVUPS (BX)(R8*1), Z13
	VMOVUPS (BX)(R8*2), Z14
	VMOVUPS (BX)(R10*1), Z15
	VADDPS Z4, Z0, Z16
	VADDPS Z8, Z16, Z16
	VSUBPS Z8, Z4, Z20
	VSUBPS Z12, Z20, Z20
	VADDPS Z5, Z1, Z17
	VADDPS Z9, Z17, Z17
	VSUBPS Z9, Z5, Z21
	VSUBPS Z13, Z21, Z21
	VADDPS Z6, Z2, Z18
	VADDPS Z10, Z18, Z18
	VSUBPS Z10, Z6, Z22
	VSUBPS Z14, Z22, Z22
	VADDPS Z7, Z3, Z19
	VADDPS Z11, Z19, Z19
	VSUBPS Z11, Z7, Z23
	VSUBPS Z15, Z23, Z23
	VADDPS Z17, Z16, Z0
	VADDPS Z18, Z0, Z0
	VSUBPS Z18, Z17, Z1
	VSUBPS Z19, Z1, Z1
	VADDPS Z21, Z20, Z2
	VADDPS Z22, Z2, Z2
	VSUBPS Z22, Z21, Z3
	VSUBPS Z23, Z3, Z3
	VMOVAPS Z25, Z24
	TESTQ R14, R14
	JEQ winoOutputX_nobias
	VBROADCASTSS (R14), Z24
	ADDQ $4, R14
winoOutputX_nobias:
	VMOVAPS Z0, Z26
	VPERMT2PS Z1, Z30, Z26
	VMOVAPS Z0, Z27
	VPERMT2PS Z1, Z31, Z27
	VADDPS Z24, Z26, Z26
	VADDPS Z24, Z27, Z27
	TESTQ R15, R15
	JEQ winoOutputX_act0
	VMOVUPS.Z (R15), K1, Z28
	VMOVUPS.Z 64(R15), K2, Z29
	VADDPS Z28, Z26, Z26
	VADDPS Z29, Z27, Z27
winoOutputX_act0:
	TESTQ AX, AX
	JEQ winoOutputX_store0
	VCMPPS $5, Z25, Z26, K4
	VMOVAPS.Z Z26, K4, Z26
	VCMPPS $5, Z25, Z27, K5
	VMOVAPS.Z Z27, K5, Z27
winoOutputX_store0:
	VMOVUPS Z26, K1, (DI)
	VMOVUPS Z27, K2, 64(DI)
	CMPQ R13, $2
	JLT winoOutputX_next
	VMOVAPS Z2, Z26
	VPERMT2PS Z3, Z30, Z26
	VMOVAPS Z2, Z27
	VPERMT2PS Z3, Z31, Z27
	VADDPS Z24, Z26, Z26
	VADDPS Z24, Z27, Z27
	TESTQ R15, R15
	JEQ winoOutputX_act1
	VMOVUPS.Z (R15)(R12*1), K1, Z28
	VMOVUPS.Z 64(R15)(R12*1), K2, Z29
	VADDPS Z28, Z26, Z26
	VADDPS Z29, Z27, Z27
winoOutputX_act1:
	TESTQ AX, AX
	JEQ winoOutputX_store1
	VCMPPS $5, Z25, Z26, K4
	VMOVAPS.Z Z26, K4, Z26
	VCMPPS $5, Z25, Z27, K5
	VMOVAPS.Z Z27, K5, Z27
winoOutputX_store1:
	VMOVUPS Z26, K1, (DI)(R12*1)
	VMOVUPS Z27, K2, 64(DI)(R12*1)
winoOutputX_next:
	ADDQ R9, SI
	ADDQ R11, DI
	TESTQ R15, R15
	JEQ winoOutputX_nores
	ADDQ R11, R15
winoOutputX_nores:
	DECQ DX
	JNE winoOutputX_loop
winoOutputX_done:
	VZEROUPPER
	RET

// func winoInputC(x *float32, offs *[16]int, cg int, cstride int, dst *float32, dcstride, dstride int)
//
// V = Bᵀ·d·B for one tile, 16 channels a vector, for cg groups of 16
// channels: position q of the tile's 4×4 patch is the 16 floats at
// x + offs[q] (+ i·cstride for group i), or zeros when offs[q] < 0; V's row
// ξ of group i goes to dst + i·dcstride + ξ·dstride (strides in floats).
// Rounds as winoInputRows does.
TEXT ·winoInputC(SB), NOSPLIT, $0-56
	MOVQ x+0(FP), SI
	MOVQ offs+8(FP), R14
	MOVQ cg+16(FP), CX
	MOVQ cstride+24(FP), R9
	SHLQ $2, R9
	MOVQ dst+32(FP), DI
	MOVQ dcstride+40(FP), R11
	SHLQ $2, R11
	MOVQ dstride+48(FP), R12
	SHLQ $2, R12
	LEAQ (R12)(R12*2), R13
	TESTQ CX, CX
	JEQ winoInputC_done
winoInputC_loop:
	MOVQ 0(R14), AX
	TESTQ AX, AX
	JS winoInputC_zero0
	VMOVUPS (SI)(AX*4), Z0
	JMP winoInputC_next0
winoInputC_zero0:
	VXORPS Z0, Z0, Z0
winoInputC_next0:
	MOVQ 8(R14), AX
	TESTQ AX, AX
	JS winoInputC_zero1
	VMOVUPS (SI)(AX*4), Z1
	JMP winoInputC_next1
winoInputC_zero1:
	VXORPS Z1, Z1, Z1
winoInputC_next1:
	MOVQ 16(R14), AX
	TESTQ AX, AX
	JS winoInputC_zero2
	VMOVUPS (SI)(AX*4), Z2
	JMP winoInputC_next2
winoInputC_zero2:
	VXORPS Z2, Z2, Z2
winoInputC_next2:
	MOVQ 24(R14), AX
	TESTQ AX, AX
	JS winoInputC_zero3
	VMOVUPS (SI)(AX*4), Z3
	JMP winoInputC_next3
winoInputC_zero3:
	VXORPS Z3, Z3, Z3
winoInputC_next3:
	MOVQ 32(R14), AX
	TESTQ AX, AX
	JS winoInputC_zero4
	VMOVUPS (SI)(AX*4), Z4
	JMP winoInputC_next4
winoInputC_zero4:
	VXORPS Z4, Z4, Z4
winoInputC_next4:
	MOVQ 40(R14), AX
	TESTQ AX, AX
	JS winoInputC_zero5
	VMOVUPS (SI)(AX*4), Z5
	JMP winoInputC_next5
winoInputC_zero5:
	VXORPS Z5, Z5, Z5
winoInputC_next5:
	MOVQ 48(R14), AX
	TESTQ AX, AX
	JS winoInputC_zero6
	VMOVUPS (SI)(AX*4), Z6
	JMP winoInputC_next6
winoInputC_zero6:
	VXORPS Z6, Z6, Z6
winoInputC_next6:
	MOVQ 56(R14), AX
	TESTQ AX, AX
	JS winoInputC_zero7
	VMOVUPS (SI)(AX*4), Z7
	JMP winoInputC_next7
winoInputC_zero7:
	VXORPS Z7, Z7, Z7
winoInputC_next7:
	MOVQ 64(R14), AX
	TESTQ AX, AX
	JS winoInputC_zero8
	VMOVUPS (SI)(AX*4), Z8
	JMP winoInputC_next8
winoInputC_zero8:
	VXORPS Z8, Z8, Z8
winoInputC_next8:
	MOVQ 72(R14), AX
	TESTQ AX, AX
	JS winoInputC_zero9
	VMOVUPS (SI)(AX*4), Z9
	JMP winoInputC_next9
winoInputC_zero9:
	VXORPS Z9, Z9, Z9
winoInputC_next9:
	MOVQ 80(R14), AX
	TESTQ AX, AX
	JS winoInputC_zero10
	VMOVUPS (SI)(AX*4), Z10
	JMP winoInputC_next10
winoInputC_zero10:
	VXORPS Z10, Z10, Z10
winoInputC_next10:
	MOVQ 88(R14), AX
	TESTQ AX, AX
	JS winoInputC_zero11
	VMOVUPS (SI)(AX*4), Z11
	JMP winoInputC_next11
winoInputC_zero11:
	VXORPS Z11, Z11, Z11
winoInputC_next11:
	MOVQ 96(R14), AX
	TESTQ AX, AX
	JS winoInputC_zero12
	VMOVUPS (SI)(AX*4), Z12
	JMP winoInputC_next12
winoInputC_zero12:
	VXORPS Z12, Z12, Z12
winoInputC_next12:
	MOVQ 104(R14), AX
	TESTQ AX, AX
	JS winoInputC_zero13
	VMOVUPS (SI)(AX*4), Z13
	JMP winoInputC_next13
winoInputC_zero13:
	VXORPS Z13, Z13, Z13
winoInputC_next13:
	MOVQ 112(R14), AX
	TESTQ AX, AX
	JS winoInputC_zero14
	VMOVUPS (SI)(AX*4), Z14
	JMP winoInputC_next14
winoInputC_zero14:
	VXORPS Z14, Z14, Z14
winoInputC_next14:
	MOVQ 120(R14), AX
	TESTQ AX, AX
	JS winoInputC_zero15
	VMOVUPS (SI)(AX*4), Z15
	JMP winoInputC_next15
winoInputC_zero15:
	VXORPS Z15, Z15, Z15
winoInputC_next15:
	VSUBPS Z8, Z0, Z0
	VADDPS Z8, Z4, Z18
	VSUBPS Z4, Z8, Z8
	VSUBPS Z12, Z4, Z12
	VMOVAPS Z18, Z4
	VSUBPS Z9, Z1, Z1
	VADDPS Z9, Z5, Z18
	VSUBPS Z5, Z9, Z9
	VSUBPS Z13, Z5, Z13
	VMOVAPS Z18, Z5
	VSUBPS Z10, Z2, Z2
	VADDPS Z10, Z6, Z18
	VSUBPS Z6, Z10, Z10
	VSUBPS Z14, Z6, Z14
	VMOVAPS Z18, Z6
	VSUBPS Z11, Z3, Z3
	VADDPS Z11, Z7, Z18
	VSUBPS Z7, Z11, Z11
	VSUBPS Z15, Z7, Z15
	VMOVAPS Z18, Z7
	VSUBPS Z2, Z0, Z0
	VADDPS Z2, Z1, Z18
	VSUBPS Z1, Z2, Z2
	VSUBPS Z3, Z1, Z3
	VMOVAPS Z18, Z1
	VSUBPS Z6, Z4, Z4
	VADDPS Z6, Z5, Z18
	VSUBPS Z5, Z6, Z6
	VSUBPS Z7, Z5, Z7
	VMOVAPS Z18, Z5
	VSUBPS Z10, Z8, Z8
	VADDPS Z10, Z9, Z18
	VSUBPS Z9, Z10, Z10
	VSUBPS Z11, Z9, Z11
	VMOVAPS Z18, Z9
	VSUBPS Z14, Z12, Z12
	VADDPS Z14, Z13, Z18
	VSUBPS Z13, Z14, Z14
	VSUBPS Z15, Z13, Z15
	VMOVAPS Z18, Z13
	MOVQ DI, DX
	VMOVUPS Z0, (DX)
	VMOVUPS Z1, (DX)(R12*1)
	VMOVUPS Z2, (DX)(R12*2)
	VMOVUPS Z3, (DX)(R13*1)
	LEAQ (DX)(R12*4), DX
	VMOVUPS Z4, (DX)
	VMOVUPS Z5, (DX)(R12*1)
	VMOVUPS Z6, (DX)(R12*2)
	VMOVUPS Z7, (DX)(R13*1)
	LEAQ (DX)(R12*4), DX
	VMOVUPS Z8, (DX)
	VMOVUPS Z9, (DX)(R12*1)
	VMOVUPS Z10, (DX)(R12*2)
	VMOVUPS Z11, (DX)(R13*1)
	LEAQ (DX)(R12*4), DX
	VMOVUPS Z12, (DX)
	VMOVUPS Z13, (DX)(R12*1)
	VMOVUPS Z14, (DX)(R12*2)
	VMOVUPS Z15, (DX)(R13*1)
	ADDQ R9, SI
	ADDQ R11, DI
	DECQ CX
	JNE winoInputC_loop
winoInputC_done:
	VZEROUPPER
	RET


// func winoDyC(dy *float32, offs *[4]int, kg int, kstride int, dst *float32, dkstride, dstride int)
//
// Ŷ = A·dy·Aᵀ for one tile, 16 channels a vector, for kg groups: position
// q of the tile's 2×2 block is at dy + offs[q] (+ i·kstride), or zeros
// when offs[q] < 0; Ŷ's row ξ of group i goes to dst + i·dkstride +
// ξ·dstride. Rounds as the portable path does.
TEXT ·winoDyC(SB), NOSPLIT, $0-56
	MOVQ dy+0(FP), SI
	MOVQ offs+8(FP), R14
	MOVQ kg+16(FP), CX
	MOVQ kstride+24(FP), R9
	SHLQ $2, R9
	MOVQ dst+32(FP), DI
	MOVQ dkstride+40(FP), R11
	SHLQ $2, R11
	MOVQ dstride+48(FP), R12
	SHLQ $2, R12
	LEAQ (R12)(R12*2), R13
	VXORPS Z29, Z29, Z29
	TESTQ CX, CX
	JEQ winoDyC_done
winoDyC_loop:
	MOVQ 0(R14), AX
	TESTQ AX, AX
	JS winoDyC_zero0
	VMOVUPS (SI)(AX*4), Z0
	JMP winoDyC_next0
winoDyC_zero0:
	VXORPS Z0, Z0, Z0
winoDyC_next0:
	MOVQ 8(R14), AX
	TESTQ AX, AX
	JS winoDyC_zero1
	VMOVUPS (SI)(AX*4), Z1
	JMP winoDyC_next1
winoDyC_zero1:
	VXORPS Z1, Z1, Z1
winoDyC_next1:
	MOVQ 16(R14), AX
	TESTQ AX, AX
	JS winoDyC_zero2
	VMOVUPS (SI)(AX*4), Z2
	JMP winoDyC_next2
winoDyC_zero2:
	VXORPS Z2, Z2, Z2
winoDyC_next2:
	MOVQ 24(R14), AX
	TESTQ AX, AX
	JS winoDyC_zero3
	VMOVUPS (SI)(AX*4), Z3
	JMP winoDyC_next3
winoDyC_zero3:
	VXORPS Z3, Z3, Z3
winoDyC_next3:
	VMOVAPS Z0, Z4
	VADDPS Z2, Z0, Z6
	VSUBPS Z2, Z0, Z8
	VSUBPS Z2, Z29, Z10
	VMOVAPS Z1, Z5
	VADDPS Z3, Z1, Z7
	VSUBPS Z3, Z1, Z9
	VSUBPS Z3, Z29, Z11
	VMOVAPS Z4, Z12
	VADDPS Z5, Z4, Z13
	VSUBPS Z5, Z4, Z14
	VSUBPS Z5, Z29, Z15
	VMOVAPS Z6, Z16
	VADDPS Z7, Z6, Z17
	VSUBPS Z7, Z6, Z18
	VSUBPS Z7, Z29, Z19
	VMOVAPS Z8, Z20
	VADDPS Z9, Z8, Z21
	VSUBPS Z9, Z8, Z22
	VSUBPS Z9, Z29, Z23
	VMOVAPS Z10, Z24
	VADDPS Z11, Z10, Z25
	VSUBPS Z11, Z10, Z26
	VSUBPS Z11, Z29, Z27
	MOVQ DI, DX
	VMOVUPS Z12, (DX)
	VMOVUPS Z13, (DX)(R12*1)
	VMOVUPS Z14, (DX)(R12*2)
	VMOVUPS Z15, (DX)(R13*1)
	LEAQ (DX)(R12*4), DX
	VMOVUPS Z16, (DX)
	VMOVUPS Z17, (DX)(R12*1)
	VMOVUPS Z18, (DX)(R12*2)
	VMOVUPS Z19, (DX)(R13*1)
	LEAQ (DX)(R12*4), DX
	VMOVUPS Z20, (DX)
	VMOVUPS Z21, (DX)(R12*1)
	VMOVUPS Z22, (DX)(R12*2)
	VMOVUPS Z23, (DX)(R13*1)
	LEAQ (DX)(R12*4), DX
	VMOVUPS Z24, (DX)
	VMOVUPS Z25, (DX)(R12*1)
	VMOVUPS Z26, (DX)(R12*2)
	VMOVUPS Z27, (DX)(R13*1)
	ADDQ R9, SI
	ADDQ R11, DI
	DECQ CX
	JNE winoDyC_loop
winoDyC_done:
	VZEROUPPER
	RET

// func transpose16(dst *float32, ldd int, src *float32, lds int)
//
// Writes the transpose of the 16×16 block at src (rows lds floats apart)
// to dst (rows ldd floats apart).
TEXT ·transpose16(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R8
	SHLQ $2, R8
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R9
	SHLQ $2, R9
	LEAQ (R9)(R9*2), R10
	LEAQ (R8)(R8*2), R11
	MOVQ SI, AX
	VMOVUPS (AX), Z0
	VMOVUPS (AX)(R9*1), Z1
	VMOVUPS (AX)(R9*2), Z2
	VMOVUPS (AX)(R10*1), Z3
	LEAQ (AX)(R9*4), AX
	VMOVUPS (AX), Z4
	VMOVUPS (AX)(R9*1), Z5
	VMOVUPS (AX)(R9*2), Z6
	VMOVUPS (AX)(R10*1), Z7
	LEAQ (AX)(R9*4), AX
	VMOVUPS (AX), Z8
	VMOVUPS (AX)(R9*1), Z9
	VMOVUPS (AX)(R9*2), Z10
	VMOVUPS (AX)(R10*1), Z11
	LEAQ (AX)(R9*4), AX
	VMOVUPS (AX), Z12
	VMOVUPS (AX)(R9*1), Z13
	VMOVUPS (AX)(R9*2), Z14
	VMOVUPS (AX)(R10*1), Z15
	VUNPCKLPS Z1, Z0, Z16
	VUNPCKHPS Z1, Z0, Z17
	VUNPCKLPS Z3, Z2, Z18
	VUNPCKHPS Z3, Z2, Z19
	VUNPCKLPS Z5, Z4, Z20
	VUNPCKHPS Z5, Z4, Z21
	VUNPCKLPS Z7, Z6, Z22
	VUNPCKHPS Z7, Z6, Z23
	VUNPCKLPS Z9, Z8, Z24
	VUNPCKHPS Z9, Z8, Z25
	VUNPCKLPS Z11, Z10, Z26
	VUNPCKHPS Z11, Z10, Z27
	VUNPCKLPS Z13, Z12, Z28
	VUNPCKHPS Z13, Z12, Z29
	VUNPCKLPS Z15, Z14, Z30
	VUNPCKHPS Z15, Z14, Z31
	VUNPCKLPD Z18, Z16, Z0
	VUNPCKHPD Z18, Z16, Z1
	VUNPCKLPD Z19, Z17, Z2
	VUNPCKHPD Z19, Z17, Z3
	VUNPCKLPD Z22, Z20, Z4
	VUNPCKHPD Z22, Z20, Z5
	VUNPCKLPD Z23, Z21, Z6
	VUNPCKHPD Z23, Z21, Z7
	VUNPCKLPD Z26, Z24, Z8
	VUNPCKHPD Z26, Z24, Z9
	VUNPCKLPD Z27, Z25, Z10
	VUNPCKHPD Z27, Z25, Z11
	VUNPCKLPD Z30, Z28, Z12
	VUNPCKHPD Z30, Z28, Z13
	VUNPCKLPD Z31, Z29, Z14
	VUNPCKHPD Z31, Z29, Z15
	VSHUFF32X4 $0x88, Z4, Z0, Z16
	VSHUFF32X4 $0xdd, Z4, Z0, Z20
	VSHUFF32X4 $0x88, Z5, Z1, Z17
	VSHUFF32X4 $0xdd, Z5, Z1, Z21
	VSHUFF32X4 $0x88, Z6, Z2, Z18
	VSHUFF32X4 $0xdd, Z6, Z2, Z22
	VSHUFF32X4 $0x88, Z7, Z3, Z19
	VSHUFF32X4 $0xdd, Z7, Z3, Z23
	VSHUFF32X4 $0x88, Z12, Z8, Z24
	VSHUFF32X4 $0xdd, Z12, Z8, Z28
	VSHUFF32X4 $0x88, Z13, Z9, Z25
	VSHUFF32X4 $0xdd, Z13, Z9, Z29
	VSHUFF32X4 $0x88, Z14, Z10, Z26
	VSHUFF32X4 $0xdd, Z14, Z10, Z30
	VSHUFF32X4 $0x88, Z15, Z11, Z27
	VSHUFF32X4 $0xdd, Z15, Z11, Z31
	VSHUFF32X4 $0x88, Z24, Z16, Z0
	VSHUFF32X4 $0xdd, Z24, Z16, Z8
	VSHUFF32X4 $0x88, Z25, Z17, Z1
	VSHUFF32X4 $0xdd, Z25, Z17, Z9
	VSHUFF32X4 $0x88, Z26, Z18, Z2
	VSHUFF32X4 $0xdd, Z26, Z18, Z10
	VSHUFF32X4 $0x88, Z27, Z19, Z3
	VSHUFF32X4 $0xdd, Z27, Z19, Z11
	VSHUFF32X4 $0x88, Z28, Z20, Z4
	VSHUFF32X4 $0xdd, Z28, Z20, Z12
	VSHUFF32X4 $0x88, Z29, Z21, Z5
	VSHUFF32X4 $0xdd, Z29, Z21, Z13
	VSHUFF32X4 $0x88, Z30, Z22, Z6
	VSHUFF32X4 $0xdd, Z30, Z22, Z14
	VSHUFF32X4 $0x88, Z31, Z23, Z7
	VSHUFF32X4 $0xdd, Z31, Z23, Z15
	MOVQ DI, DX
	VMOVUPS Z0, (DX)
	VMOVUPS Z1, (DX)(R8*1)
	VMOVUPS Z2, (DX)(R8*2)
	VMOVUPS Z3, (DX)(R11*1)
	LEAQ (DX)(R8*4), DX
	VMOVUPS Z4, (DX)
	VMOVUPS Z5, (DX)(R8*1)
	VMOVUPS Z6, (DX)(R8*2)
	VMOVUPS Z7, (DX)(R11*1)
	LEAQ (DX)(R8*4), DX
	VMOVUPS Z8, (DX)
	VMOVUPS Z9, (DX)(R8*1)
	VMOVUPS Z10, (DX)(R8*2)
	VMOVUPS Z11, (DX)(R11*1)
	LEAQ (DX)(R8*4), DX
	VMOVUPS Z12, (DX)
	VMOVUPS Z13, (DX)(R8*1)
	VMOVUPS Z14, (DX)(R8*2)
	VMOVUPS Z15, (DX)(R11*1)
	VZEROUPPER
	RET
