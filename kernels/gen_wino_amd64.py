#!/usr/bin/env python3
"""Writes wino_amd64.s: the Winograd F(2×2, 3×3) and F(4×4, 3×3) transforms
and the 16×16 transpose of winograd.go, winograd4.go and winograd_filter.go
(AVX-512).

Run from kernels/: python3 gen_wino_amd64.py > wino_amd64.s (go generate).

Each transform is defined once here (input Bᵀ·d·B, output Aᵀ·M·A, output
gradient A·dy·Aᵀ) and used by the kernels that lay their lanes out
differently: tiles in lanes (the forward pass, straight from NCHW) or
channels in lanes (the filter gradient, over NHWC copies). The additions run
in the same order as the Go fallbacks, so both round alike.
"""

out = []
o = out.append


def Z(i):
    return f"Z{i}"


def table(name, values, doc):
    o(doc)
    for i, v in enumerate(values):
        o(f"DATA {name}<>+{4 * i}(SB)/4, ${v}")
    o(f"GLOBL {name}<>(SB), RODATA|NOPTR, $64")
    o("")


def rows4x4(base, stride, stride3, tmp, regs, store=None, mask=""):
    """Loads (store None) or stores the 16 vectors regs at base + q·stride
    (strides in bytes in registers; stride3 holds 3·stride), using tmp as
    the running row pointer."""
    for g in range(4):
        o(f"\tMOVQ {base}, {tmp}" if g == 0 else f"\tLEAQ ({tmp})({stride}*4), {tmp}")
        ops = [f"({tmp})", f"({tmp})({stride}*1)", f"({tmp})({stride}*2)", f"({tmp})({stride3}*1)"]
        for i in range(4):
            r = regs[4 * g + i]
            if store:
                o(f"\tVMOVUPS {r}, {mask}{ops[i]}")
            else:
                o(f"\tVMOVUPS {ops[i]}, {r}")


def input_transform():
    """V = Bᵀ·d·B in place on Z0…Z15 (d[a][b] in Z(4a+b)), Bᵀ = [1 0 −1 0;
    0 1 1 0; 0 −1 1 0; 0 1 0 −1], Z18 scratch: the macro
    WINO_INPUT_TRANSFORM, which the assembler expands where it is used."""
    # Over rows, column b at a time, then over columns, row a at a time:
    # (x0, x1, x2, x3) → (x0−x2, x1+x2, x2−x1, x1−x3).
    body = []
    for quad in ([(b, 4 + b, 8 + b, 12 + b) for b in range(4)] +
                 [(4 * a, 4 * a + 1, 4 * a + 2, 4 * a + 3) for a in range(4)]):
        x0, x1, x2, x3 = (Z(i) for i in quad)
        body += [f"\tVSUBPS {x2}, {x0}, {x0}", f"\tVADDPS {x2}, {x1}, Z18", f"\tVSUBPS {x1}, {x2}, {x2}",
                 f"\tVSUBPS {x3}, {x1}, {x3}", "\tVMOVAPS Z18, " + x1]
    o("#define WINO_INPUT_TRANSFORM \\")
    for i, line in enumerate(body):
        o(line + ("; \\" if i < len(body) - 1 else ""))
    o("")


def output_transform():
    """Y = Aᵀ·M·A, Aᵀ = [1 1 1 0; 0 1 −1 −1]: M in Z0…Z15 (ξ = 4i+j in
    Z(ξ)), Aᵀ·M in Z16…Z23, Y[a][b] in Z(2a+b)."""
    for b in range(4):
        m0, m1, m2, m3 = (Z(i) for i in (b, 4 + b, 8 + b, 12 + b))
        o(f"\tVADDPS {m1}, {m0}, Z{16 + b}")
        o(f"\tVADDPS {m2}, Z{16 + b}, Z{16 + b}")
        o(f"\tVSUBPS {m2}, {m1}, Z{20 + b}")
        o(f"\tVSUBPS {m3}, Z{20 + b}, Z{20 + b}")
    for a in range(2):
        t0, t1, t2, t3 = (Z(16 + 4 * a + j) for j in range(4))
        o(f"\tVADDPS {t1}, {t0}, Z{2 * a}")
        o(f"\tVADDPS {t2}, Z{2 * a}, Z{2 * a}")
        o(f"\tVSUBPS {t2}, {t1}, Z{2 * a + 1}")
        o(f"\tVSUBPS {t3}, Z{2 * a + 1}, Z{2 * a + 1}")


def dy_transform(zero):
    """Ŷ = A·dy·Aᵀ, A = [1 0; 1 1; 1 −1; 0 −1]: dy[a][b] in Z(2a+b), zero
    a zeroed register; Ŷ[i][j] ends in Z(12+4i+j) (A·dy in Z4…Z11)."""
    for b in range(2):
        d0, d1 = Z(b), Z(2 + b)
        o(f"\tVMOVAPS {d0}, Z{4 + b}")
        o(f"\tVADDPS {d1}, {d0}, Z{6 + b}")
        o(f"\tVSUBPS {d1}, {d0}, Z{8 + b}")
        o(f"\tVSUBPS {d1}, {zero}, Z{10 + b}")
    for i in range(4):
        r0, r1, y = Z(4 + 2 * i), Z(5 + 2 * i), 12 + 4 * i
        o(f"\tVMOVAPS {r0}, Z{y}")
        o(f"\tVADDPS {r1}, {r0}, Z{y + 1}")
        o(f"\tVSUBPS {r1}, {r0}, Z{y + 2}")
        o(f"\tVSUBPS {r1}, {zero}, Z{y + 3}")


def load_or_zero(name, offs, q, reg):
    """reg = the 16 floats at SI + offs[q] floats, or zeros when offs[q] < 0."""
    o(f"\tMOVQ {8 * q}({offs}), AX")
    o("\tTESTQ AX, AX")
    o(f"\tJS {name}_zero{q}")
    o(f"\tVMOVUPS (SI)(AX*4), {reg}")
    o(f"\tJMP {name}_next{q}")
    o(f"{name}_zero{q}:")
    o(f"\tVXORPS {reg}, {reg}, {reg}")
    o(f"{name}_next{q}:")


def prologue(name, frame, args, local=0):
    """TEXT line and MOVQs of (arg, offset, register, scale-to-bytes);
    local bytes of stack frame, when asked for (the function is then not
    NOSPLIT)."""
    o(f"TEXT ·{name}(SB), $%d-{frame}" % local if local else f"TEXT ·{name}(SB), NOSPLIT, $0-{frame}")
    for arg, off, reg, bytes_ in args:
        o(f"\tMOVQ {arg}+{off}(FP), {reg}")
        if bytes_:
            o(f"\tSHLQ $2, {reg}")


def input_x_args(masks, mask_bytes):
    """Loads the arguments winoInputX and wino4InputX share (their
    signatures differ only in the masks' count), x+off being in SI and AX:
    x+off in SI, w and hw in bytes in R8 and R9, cn in CX, the masks in
    K1.., rows in R10, dst in DI, dcstride and dstride in bytes in R11 and
    R12, 3·dstride in R13, and store in the K register after the masks."""
    o("\tLEAQ (SI)(AX*4), SI")
    for arg, off, reg in (("w", 16, "R8"), ("hw", 24, "R9")):
        o(f"\tMOVQ {arg}+{off}(FP), {reg}")
        o(f"\tSHLQ $2, {reg}")
    o("\tMOVQ cn+32(FP), CX")
    o("\tMOVQ masks+40(FP), BX")
    for k in range(masks):
        o(f"\tKMOVW {mask_bytes * k}(BX), K{k + 1}")
    o("\tMOVQ rows+48(FP), R10")
    o("\tMOVQ dst+56(FP), DI")
    for arg, off, reg in (("dcstride", 64, "R11"), ("dstride", 72, "R12")):
        o(f"\tMOVQ {arg}+{off}(FP), {reg}")
        o(f"\tSHLQ $2, {reg}")
    o("\tLEAQ (R12)(R12*2), R13")
    o("\tMOVL store+80(FP), BX")
    o(f"\tKMOVW BX, K{masks + 1}")


def epilogue(name, counter, loop_tail):
    for line in loop_tail:
        o(line)
    o(f"\tDECQ {counter}")
    o(f"\tJNE {name}_loop")
    o(f"{name}_done:")
    o("\tVZEROUPPER")
    o("\tRET")
    o("")


o("// Code generated by gen_wino_amd64.py; DO NOT EDIT.")
o("")
o("//go:build !purego")
o("")
o('#include "textflag.h"')
o("")
o("// Winograd F(2×2, 3×3) and F(4×4, 3×3) transforms and a 16×16 transpose; see")
o("// winograd.go, winograd4.go and winograd_filter.go. AVX-512 (hasMaskedCopy).")
o("// F(2×2): additions only, in the same order as the Go fallbacks, so both")
o("// round alike; F(4×4) runs on AVX-512 only.")
o("")
table("zipLo", [i // 2 + (16 if i % 2 else 0) for i in range(16)],
      "// Interleaving two rows of 16 (a0 b0 a1 b1 …), for VPERMT2PS.")
table("zipHi", [8 + i // 2 + (16 if i % 2 else 0) for i in range(16)], "")
input_transform()

# winoInputX: tiles in lanes, straight from NCHW x.
o('''// func winoInputX(x *float32, off, w, hw, cn int, masks *[2]uint32, rows int, dst *float32, dcstride, dstride int, store uint32)
//
// V = Bᵀ·d·B for up to 16 tiles along one tile row, straight from the
// image: for each of cn channels (hw floats apart from x+off), lane l's
// 4×4 patch d[a][b] is x[off + a·w + 2l + b]. masks holds the lanes of the
// 32-float loads at columns +0 and +2 that lie in the image (low and high
// halves); bit a of rows says input row a does. V's row ξ of channel i goes
// to dst + i·dcstride + ξ·dstride, lanes in store.''')
prologue("winoInputX", 84, [("x", 0, "SI", False), ("off", 8, "AX", False)])
input_x_args(4, 2)
o("\tVMOVUPS ·evenLanes(SB), Z30")
o("\tVMOVUPS ·oddLanes(SB), Z31")
o("\tTESTQ CX, CX")
o("\tJEQ winoInputX_done")
o("winoInputX_loop:")
o("\tMOVQ SI, AX")
for a in range(4):
    o(f"\tBTQ ${a}, R10")
    o(f"\tJCC winoInputX_zero{a}")
    for col, (klo, khi) in ((0, ("K1", "K2")), (8, ("K3", "K4"))):
        o(f"\tVMOVUPS.Z {col or ''}(AX), {klo}, Z16")
        o(f"\tVMOVUPS.Z {col + 64}(AX), {khi}, Z17")
        b = 0 if col == 0 else 2
        for idx, lane in (("Z30", b), ("Z31", b + 1)):
            o(f"\tVMOVAPS {idx}, Z{4 * a + lane}")
            o(f"\tVPERMI2PS Z17, Z16, Z{4 * a + lane}")
    o(f"\tJMP winoInputX_row{a}")
    o(f"winoInputX_zero{a}:")
    for lane in range(4):
        r = Z(4 * a + lane)
        o(f"\tVXORPS {r}, {r}, {r}")
    o(f"winoInputX_row{a}:")
    o("\tADDQ R8, AX")
o("\tWINO_INPUT_TRANSFORM")
rows4x4("DI", "R12", "R13", "DX", [Z(i) for i in range(16)], store=True, mask="K5, ")
epilogue("winoInputX", "CX", ["\tADDQ R9, SI", "\tADDQ R11, DI"])

# winoOutputX: tiles in lanes, straight to NCHW y with the epilogue.
o('''// func winoOutputX(m *float32, mstride, mkstride int, y *float32, ykstride, ow, rows, cnt, kn int, bias, res *float32, relu bool)
//
// Y = Aᵀ·M·A for up to 16 tiles along one tile row, for kn output channels,
// written straight to the image with the epilogue: channel i's M row ξ is
// at m + i·mkstride + ξ·mstride; its output rows (rows of them, 1 or 2) at
// y + i·ykstride (+ ow), cnt floats each (z interleaves the tiles' two
// columns), as act(z + bias[i] + res[same place]); bias and res may be nil.
// Rounds as winoOutputRows and winoScatterRow do.''')
prologue("winoOutputX", 89, [("m", 0, "SI", False), ("mstride", 8, "R8", True)])
o("\tLEAQ (R8)(R8*2), R10")
for arg, off, reg in (("mkstride", 16, "R9"),):
    o(f"\tMOVQ {arg}+{off}(FP), {reg}")
    o(f"\tSHLQ $2, {reg}")
o("\tMOVQ y+24(FP), DI")
for arg, off, reg in (("ykstride", 32, "R11"), ("ow", 40, "R12")):
    o(f"\tMOVQ {arg}+{off}(FP), {reg}")
    o(f"\tSHLQ $2, {reg}")
o("\tMOVQ rows+48(FP), R13")
o("\tMOVQ cnt+56(FP), CX")
o("\tMOVQ $1, BX")
o("\tSHLQ CX, BX")
o("\tDECQ BX")
o("\tKMOVW BX, K1")
o("\tSHRQ $16, BX")
o("\tKMOVW BX, K2")
o("\tMOVQ kn+64(FP), DX")
o("\tMOVQ bias+72(FP), R14")
o("\tMOVQ res+80(FP), R15")
o("\tMOVBLZX relu+88(FP), AX")
o("\tVMOVUPS zipLo<>(SB), Z30")
o("\tVMOVUPS zipHi<>(SB), Z31")
o("\tVXORPS Z25, Z25, Z25")
o("\tTESTQ DX, DX")
o("\tJEQ winoOutputX_done")
o("winoOutputX_loop:")
rows4x4("SI", "R8", "R10", "BX", [Z(i) for i in range(16)])
output_transform()
o("\tVMOVAPS Z25, Z24")
o("\tTESTQ R14, R14")
o("\tJEQ winoOutputX_nobias")
o("\tVBROADCASTSS (R14), Z24")
o("\tADDQ $4, R14")
o("winoOutputX_nobias:")
for a in range(2):
    ya, yb = Z(2 * a), Z(2 * a + 1)
    row = "" if a == 0 else "(R12*1)"
    if a == 1:
        o("\tCMPQ R13, $2")
        o("\tJLT winoOutputX_next")
    o(f"\tVMOVAPS {ya}, Z26")
    o(f"\tVPERMT2PS {yb}, Z30, Z26")
    o(f"\tVMOVAPS {ya}, Z27")
    o(f"\tVPERMT2PS {yb}, Z31, Z27")
    o("\tVADDPS Z24, Z26, Z26")
    o("\tVADDPS Z24, Z27, Z27")
    o("\tTESTQ R15, R15")
    o(f"\tJEQ winoOutputX_act{a}")
    o(f"\tVMOVUPS.Z (R15){row}, K1, Z28")
    o(f"\tVMOVUPS.Z 64(R15){row}, K2, Z29")
    o("\tVADDPS Z28, Z26, Z26")
    o("\tVADDPS Z29, Z27, Z27")
    o(f"winoOutputX_act{a}:")
    o("\tTESTQ AX, AX")
    o(f"\tJEQ winoOutputX_store{a}")
    # Zero the lanes where v < 0, keeping NaN and −0 as the Go fallback's
    # "if v < 0 { v = 0 }" does.
    o("\tVCMPPS $5, Z25, Z26, K4")
    o("\tVMOVAPS.Z Z26, K4, Z26")
    o("\tVCMPPS $5, Z25, Z27, K5")
    o("\tVMOVAPS.Z Z27, K5, Z27")
    o(f"winoOutputX_store{a}:")
    o(f"\tVMOVUPS Z26, K1, (DI){row}")
    o(f"\tVMOVUPS Z27, K2, 64(DI){row}")
o("winoOutputX_next:")
epilogue("winoOutputX", "DX", ["\tADDQ R9, SI", "\tADDQ R11, DI", "\tTESTQ R15, R15",
                               "\tJEQ winoOutputX_nores", "\tADDQ R11, R15", "winoOutputX_nores:"])


def channel_kernel(name, frame, doc, args, positions, body):
    """A kernel over groups of 16 channels of one tile: loads positions
    vectors through offs, runs body, stores the 16 rows Z(first…first+15)."""
    o(doc)
    prologue(name, frame, [(args[0], 0, "SI", False), ("offs", 8, "R14", False), (args[1], 16, "CX", False),
                           (args[2], 24, "R9", True), ("dst", 32, "DI", False), (args[3], 40, "R11", True),
                           ("dstride", 48, "R12", True)])
    o("\tLEAQ (R12)(R12*2), R13")
    first = body(None)
    o("\tTESTQ CX, CX")
    o(f"\tJEQ {name}_done")
    o(f"{name}_loop:")
    for q in range(positions):
        load_or_zero(name, "R14", q, Z(q))
    body(True)
    rows4x4("DI", "R12", "R13", "DX", [Z(first + i) for i in range(16)], store=True)
    epilogue(name, "CX", ["\tADDQ R9, SI", "\tADDQ R11, DI"])


def input_body(loop):
    if loop:
        o("\tWINO_INPUT_TRANSFORM")
    return 0


def dy_body(loop):
    if loop is None:
        o("\tVXORPS Z29, Z29, Z29")
    else:
        dy_transform("Z29")
    return 12


channel_kernel("winoInputC", 56, '''// func winoInputC(x *float32, offs *[16]int, cg int, cstride int, dst *float32, dcstride, dstride int)
//
// V = Bᵀ·d·B for one tile, 16 channels a vector, for cg groups of 16
// channels: position q of the tile's 4×4 patch is the 16 floats at
// x + offs[q] (+ i·cstride for group i), or zeros when offs[q] < 0; V's row
// ξ of group i goes to dst + i·dcstride + ξ·dstride (strides in floats).
// The same additions as winoInputX.''', ("x", "cg", "cstride", "dcstride"), 16, input_body)

channel_kernel("winoDyC", 56, '''// func winoDyC(dy *float32, offs *[4]int, kg int, kstride int, dst *float32, dkstride, dstride int)
//
// Ŷ = A·dy·Aᵀ for one tile, 16 channels a vector, for kg groups: position
// q of the tile's 2×2 block is at dy + offs[q] (+ i·kstride), or zeros
// when offs[q] < 0; Ŷ's row ξ of group i goes to dst + i·dkstride +
// ξ·dstride.''', ("dy", "kg", "kstride", "dkstride"), 4, dy_body)

# Winograd F(4×4, 3×3): 6×6 input patches, 4×4 output tiles (winograd4.go).
# Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1],
# Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1].
for b in range(4):
    table(f"w4phase{b}", [4 * (i % 8) + b for i in range(16)],
          "// Lanes 4l+b (l < 8) of a pair of vectors, twice, for VPERMI2PS (b = 0…3)." if b == 0 else "")
o("// The F(4×4, 3×3) input transform's constants 4 and 5.")
o("DATA w4consts<>+0(SB)/4, $4.0")
o("DATA w4consts<>+4(SB)/4, $5.0")
o("GLOBL w4consts<>(SB), RODATA|NOPTR, $8")
o("")


def input6(p, t, four, five, s0, s1):
    """t = Bᵀ·p along one line of six (registers p[0…5] → t[0…5]), with
    four and five holding 4 and 5, s0 and s1 scratch. Go's wino4Line6 does
    the same operations (with math.FMA where these fuse)."""
    o(f"\tVMOVAPS {p[4]}, {s0}")
    o(f"\tVFNMADD231PS {four}, {p[2]}, {s0}")  # s = p4 − 4p2
    o(f"\tVMOVAPS {p[3]}, {s1}")
    o(f"\tVFNMADD231PS {four}, {p[1]}, {s1}")  # q = p3 − 4p1
    o(f"\tVADDPS {s1}, {s0}, {t[1]}")  # s + q
    o(f"\tVSUBPS {s1}, {s0}, {t[2]}")  # s − q
    o(f"\tVSUBPS {p[2]}, {p[4]}, {s0}")  # u = p4 − p2
    o(f"\tVSUBPS {p[1]}, {p[3]}, {s1}")
    o(f"\tVADDPS {s1}, {s1}, {s1}")  # v = 2(p3 − p1)
    o(f"\tVADDPS {s1}, {s0}, {t[3]}")  # u + v
    o(f"\tVSUBPS {s1}, {s0}, {t[4]}")  # u − v
    o(f"\tVMOVAPS {p[4]}, {t[0]}")
    o(f"\tVFMADD231PS {four}, {p[0]}, {t[0]}")
    o(f"\tVFNMADD231PS {five}, {p[2]}, {t[0]}")  # (p4 + 4p0) − 5p2
    o(f"\tVMOVAPS {p[5]}, {t[5]}")
    o(f"\tVFMADD231PS {four}, {p[1]}, {t[5]}")
    o(f"\tVFNMADD231PS {five}, {p[3]}, {t[5]}")  # (p5 + 4p1) − 5p3


def output6(m, r, a, b, c, d):
    """r = Aᵀ·m along one line of six (m[0…5] → r[0…3]); a…d scratch.
    Doubling is exact, so 2·, 4· and 8· are additions."""
    o(f"\tVADDPS {m[2]}, {m[1]}, {a}")  # a = m1 + m2
    o(f"\tVSUBPS {m[2]}, {m[1]}, {b}")  # b = m1 − m2
    o(f"\tVADDPS {m[4]}, {m[3]}, {c}")  # c = m3 + m4
    o(f"\tVSUBPS {m[4]}, {m[3]}, {d}")  # d = m3 − m4
    o(f"\tVADDPS {a}, {m[0]}, {r[0]}")
    o(f"\tVADDPS {c}, {r[0]}, {r[0]}")  # (m0 + a) + c
    o(f"\tVADDPS {d}, {d}, {d}")
    o(f"\tVADDPS {d}, {b}, {r[1]}")  # b + 2d
    o(f"\tVADDPS {c}, {c}, {c}")
    o(f"\tVADDPS {c}, {c}, {c}")
    o(f"\tVADDPS {c}, {a}, {r[2]}")  # a + 4c
    o(f"\tVADDPS {d}, {d}, {d}")
    o(f"\tVADDPS {d}, {d}, {d}")
    o(f"\tVADDPS {d}, {b}, {r[3]}")
    o(f"\tVADDPS {m[5]}, {r[3]}, {r[3]}")  # (b + 8d) + m5


o('''// func wino4InputX(x *float32, off, w, hw, cn int, masks *[5]uint32, rows int, dst *float32, dcstride, dstride int, store uint32)
//
// V = Bᵀ·d·B (F(4×4, 3×3)) for up to 16 tiles along one tile row, straight
// from the image: for each of cn channels (hw floats apart from x+off), lane
// l's 6×6 patch d[a][b] is x[off + a·w + 4l + b]. masks[q] holds the lanes
// of the 16-float load at column 16q that lie in the image (q < 5: the
// fifth gives lanes 15's last two columns); bit a of rows says input row a
// does. V's row ξ = 6a+b of channel i goes to dst + i·dcstride + ξ·dstride,
// lanes in store.''')
# The row transforms go through a 64-byte aligned scratch of 36 vectors on
# the stack (R14), stored and loaded whole: masked stores to V read back
# by the column pass missed store forwarding and stalled.
prologue("wino4InputX", 84, [("x", 0, "SI", False), ("off", 8, "AX", False)], local=36 * 64 + 64)
o("\tLEAQ 63(SP), R14")
o("\tANDQ $-64, R14")
input_x_args(5, 4)
o("\tADDQ R13, R13")  # 6·dstride: from row ξ to ξ+6
for b in range(4):
    o(f"\tVMOVUPS w4phase{b}<>(SB), Z{20 + b}")
o("\tVBROADCASTSS w4consts<>+0(SB), Z24")
o("\tVBROADCASTSS w4consts<>+4(SB), Z25")
o("\tVXORPS Z26, Z26, Z26")
o("\tTESTQ CX, CX")
o("\tJEQ wino4InputX_done")
o("wino4InputX_loop:")
o("\tMOVQ SI, AX")
P = [Z(5 + i) for i in range(6)]
T = [Z(11 + i) for i in range(6)]
for a in range(6):
    o(f"\tBTQ ${a}, R10")
    o(f"\tJCC wino4InputX_zero{a}")
    for q in range(5):
        o(f"\tVMOVUPS.Z {64 * q}(AX), K{q + 1}, Z{q}")
    for b in range(4):
        o(f"\tVMOVAPS Z{20 + b}, Z17")
        o("\tVPERMI2PS Z1, Z0, Z17")
        o(f"\tVMOVAPS Z{20 + b}, Z18")
        o("\tVPERMI2PS Z3, Z2, Z18")
        o(f"\tVSHUFF32X4 $0x44, Z18, Z17, {P[b]}")
    o(f"\tVALIGND $1, {P[0]}, Z4, {P[4]}")  # p4[l] = p0[l+1]; lane 15: column 64
    o("\tVALIGND $1, Z4, Z4, Z19")
    o(f"\tVALIGND $1, {P[1]}, Z19, {P[5]}")  # p5[l] = p1[l+1]; lane 15: column 65
    input6(P, T, "Z24", "Z25", "Z17", "Z18")
    for b in range(6):
        o(f"\tVMOVAPS {T[b]}, {64 * (6 * a + b)}(R14)")
    o(f"\tJMP wino4InputX_row{a}")
    o(f"wino4InputX_zero{a}:")
    for b in range(6):
        o(f"\tVMOVAPS Z26, {64 * (6 * a + b)}(R14)")
    o(f"wino4InputX_row{a}:")
    o("\tADDQ R8, AX")
# Down the columns: scratch rows b, b+6, …, b+30 to V's.
o("\tMOVQ DI, DX")
for b in range(6):
    for a in range(6):
        o(f"\tVMOVAPS {64 * (6 * a + b)}(R14), {P[a]}")
    input6(P, T, "Z24", "Z25", "Z17", "Z18")
    o("\tMOVQ DX, BX")
    for a in range(6):
        o(f"\tVMOVUPS {T[a]}, K6, (BX)")
        if a < 5:
            o("\tADDQ R13, BX")
    o("\tADDQ R12, DX")
epilogue("wino4InputX", "CX", ["\tADDQ R9, SI", "\tADDQ R11, DI"])

M6 = [Z(i) for i in range(6)]
Y4 = [Z(6 + i) for i in range(4)]
S4 = [Z(10 + i) for i in range(4)]
OUTS = ["Z18", "Z19", "Z20", "Z21"]


def output_columns(tmp):
    """The first half of Aᵀ·M·A for both F(4×4) output kernels: down the
    columns of channel SI's M (rows j, j+6, …, j+30, R8 apart by ξ; R10
    is set to 6·R8 here) into the scratch at R13 (rows 6i+j, i < 4); CX
    and tmp walk M."""
    o("\tLEAQ (R8)(R8*2), R10")
    o("\tADDQ R10, R10")  # 6·mstride
    o("\tMOVQ SI, CX")
    for j in range(6):
        o(f"\tMOVQ CX, {tmp}")
        for i in range(6):
            o(f"\tVMOVUPS ({tmp}), {M6[i]}")
            if i < 5:
                o(f"\tADDQ R10, {tmp}")
        output6(M6, Y4, *S4)
        for i in range(4):
            o(f"\tVMOVAPS {Y4[i]}, {64 * (6 * i + j)}(R13)")
        o("\tADDQ R8, CX")


def output_row(r):
    """The second half for output row r: scratch rows 6r…6r+5 to the row's
    four columns of 16 tiles, interleaved (zipLo/zipHi in Z30/Z31) into OUTS
    (tiles 4q…4q+3 in OUTS[q]), plus the bias in Z24."""
    for j in range(6):
        o(f"\tVMOVAPS {64 * (6 * r + j)}(R13), {M6[j]}")
    output6(M6, Y4, *S4)
    y0, y1, y2, y3 = Y4
    for dst, src, tab, idx in (("Z14", y0, y2, "Z30"), ("Z15", y0, y2, "Z31"),
                               ("Z16", y1, y3, "Z30"), ("Z17", y1, y3, "Z31")):
        o(f"\tVMOVAPS {src}, {dst}")
        o(f"\tVPERMT2PS {tab}, {idx}, {dst}")
    for dst, src, tab, idx in ((OUTS[0], "Z14", "Z16", "Z30"), (OUTS[1], "Z14", "Z16", "Z31"),
                               (OUTS[2], "Z15", "Z17", "Z30"), (OUTS[3], "Z15", "Z17", "Z31")):
        o(f"\tVMOVAPS {src}, {dst}")
        o(f"\tVPERMT2PS {tab}, {idx}, {dst}")
    for q in range(4):
        o(f"\tVADDPS Z24, {OUTS[q]}, {OUTS[q]}")


o('''// func wino4OutputX(m *float32, mstride, mkstride int, y *float32, ykstride, ow, rows, cnt, kn int, bias, res *float32, relu bool)
//
// Y = Aᵀ·M·A (F(4×4, 3×3)) for up to 16 tiles along one tile row, for kn
// output channels, written straight to the image with the epilogue: channel
// i's M row ξ is at m + i·mkstride + ξ·mstride; its output rows (rows of
// them, 1 to 4) at y + i·ykstride + r·ow, cnt ≤ 64 floats each (the tiles'
// four columns interleaved), as act(z + bias[i] + res[same place]); bias
// and res may be nil.''')
# The column transforms go through a 64-byte aligned scratch of 24
# vectors on the stack (R13), as in wino4InputX.
prologue("wino4OutputX", 89, [("m", 0, "SI", False), ("mstride", 8, "R8", True)], local=24 * 64 + 64)
o("\tLEAQ 63(SP), R13")
o("\tANDQ $-64, R13")
o("\tMOVQ mkstride+16(FP), R9")
o("\tSHLQ $2, R9")
o("\tMOVQ y+24(FP), DI")
for arg, off, reg in (("ykstride", 32, "R11"), ("ow", 40, "R12")):
    o(f"\tMOVQ {arg}+{off}(FP), {reg}")
    o(f"\tSHLQ $2, {reg}")
o("\tMOVQ cnt+56(FP), CX")
o("\tMOVQ $-1, BX")
o("\tCMPQ CX, $64")
o("\tJGE wino4OutputX_masks")
o("\tMOVQ $1, BX")
o("\tSHLQ CX, BX")
o("\tDECQ BX")
o("wino4OutputX_masks:")
for q in range(4):
    o(f"\tKMOVW BX, K{q + 1}")
    if q < 3:
        o("\tSHRQ $16, BX")
o("\tMOVQ kn+64(FP), DX")
o("\tMOVQ bias+72(FP), R14")
o("\tMOVQ res+80(FP), R15")
o("\tMOVBLZX relu+88(FP), AX")
o("\tVMOVUPS zipLo<>(SB), Z30")
o("\tVMOVUPS zipHi<>(SB), Z31")
o("\tVXORPS Z25, Z25, Z25")
o("\tTESTQ DX, DX")
o("\tJEQ wino4OutputX_done")
o("wino4OutputX_loop:")
output_columns("BX")
o("\tVMOVAPS Z25, Z24")
o("\tTESTQ R14, R14")
o("\tJEQ wino4OutputX_nobias")
o("\tVBROADCASTSS (R14), Z24")
o("\tADDQ $4, R14")
o("wino4OutputX_nobias:")
# Along the rows: BX walks the output rows, R10 the residual's.
o("\tMOVQ DI, BX")
o("\tMOVQ R15, R10")
outs = OUTS
for r in range(4):
    if r > 0:
        o(f"\tCMPQ rows+48(FP), ${r + 1}")
        o("\tJLT wino4OutputX_next")
    output_row(r)
    o("\tTESTQ R15, R15")
    o(f"\tJEQ wino4OutputX_act{r}")
    for q in range(4):
        o(f"\tVMOVUPS.Z {64 * q}(R10), K{q + 1}, Z22")
        o(f"\tVADDPS Z22, {outs[q]}, {outs[q]}")
    o(f"wino4OutputX_act{r}:")
    o("\tTESTQ AX, AX")
    o(f"\tJEQ wino4OutputX_store{r}")
    for q in range(4):
        o(f"\tVCMPPS $5, Z25, {outs[q]}, K5")
        o(f"\tVMOVAPS.Z {outs[q]}, K5, {outs[q]}")
    o(f"wino4OutputX_store{r}:")
    for q in range(4):
        o(f"\tVMOVUPS {outs[q]}, K{q + 1}, {64 * q}(BX)")
    o("\tADDQ R12, BX")
    o("\tADDQ R12, R10")
o("wino4OutputX_next:")
epilogue("wino4OutputX", "DX", ["\tADDQ R9, SI", "\tADDQ R11, DI", "\tTESTQ R15, R15",
                                "\tJEQ wino4OutputX_nores", "\tADDQ R11, R15", "wino4OutputX_nores:"])

o('''// func wino4InputG(x *float32, offs *[16]int32, masks *[36]uint16, w, hw, cn int, dst *float32, dcstride, dstride int, store uint32)
//
// V = Bᵀ·d·B (F(4×4, 3×3)) for up to 16 tiles anywhere in the batch (the
// small maps whose tile rows are shorter than 16 tiles): lane l's 6×6 patch
// d[a][b] is x[offs[l] + a·w + b] (+ i·hw for channel i), gathered under
// masks[6a+b] (the lanes whose element lies in the image; the others are
// zeros). V's row ξ = 6a+b of channel i goes to dst + i·dcstride +
// ξ·dstride, lanes in store.''')
prologue("wino4InputG", 76, [("x", 0, "SI", False), ("offs", 8, "AX", False)], local=36 * 64 + 64)
o("\tLEAQ 63(SP), R14")
o("\tANDQ $-64, R14")
o("\tVMOVDQU32 (AX), Z27")  # the lanes' patch origins
o("\tMOVQ masks+16(FP), BX")
o("\tMOVQ w+24(FP), R8")
o("\tVPBROADCASTD R8, Z28")  # w, added to the index from row to row
for arg, off, reg in (("hw", 32, "R9"),):
    o(f"\tMOVQ {arg}+{off}(FP), {reg}")
    o(f"\tSHLQ $2, {reg}")
o("\tMOVQ cn+40(FP), CX")
o("\tMOVQ dst+48(FP), DI")
for arg, off, reg in (("dcstride", 56, "R11"), ("dstride", 64, "R12")):
    o(f"\tMOVQ {arg}+{off}(FP), {reg}")
    o(f"\tSHLQ $2, {reg}")
o("\tLEAQ (R12)(R12*2), R13")
o("\tADDQ R13, R13")
o("\tMOVL store+72(FP), DX")
o("\tKMOVW DX, K6")
o("\tVBROADCASTSS w4consts<>+0(SB), Z24")
o("\tVBROADCASTSS w4consts<>+4(SB), Z25")
o("\tTESTQ CX, CX")
o("\tJEQ wino4InputG_done")
o("wino4InputG_loop:")
o("\tVMOVDQA32 Z27, Z26")  # index of row a
PG = [Z(5 + i) for i in range(6)]
TG = [Z(11 + i) for i in range(6)]
for a in range(6):
    for b in range(6):
        o(f"\tKMOVW {2 * (6 * a + b)}(BX), K1")
        o(f"\tVXORPS {PG[b]}, {PG[b]}, {PG[b]}")
        o(f"\tVGATHERDPS {4 * b}(SI)(Z26*4), K1, {PG[b]}")
    input6(PG, TG, "Z24", "Z25", "Z17", "Z18")
    for b in range(6):
        o(f"\tVMOVAPS {TG[b]}, {64 * (6 * a + b)}(R14)")
    if a < 5:
        o("\tVPADDD Z28, Z26, Z26")
o("\tMOVQ DI, DX")
for b in range(6):
    for a in range(6):
        o(f"\tVMOVAPS {64 * (6 * a + b)}(R14), {PG[a]}")
    input6(PG, TG, "Z24", "Z25", "Z17", "Z18")
    o("\tMOVQ DX, AX")
    for a in range(6):
        o(f"\tVMOVUPS {TG[a]}, K6, (AX)")
        if a < 5:
            o("\tADDQ R13, AX")
    o("\tADDQ R12, DX")
epilogue("wino4InputG", "CX", ["\tADDQ R9, SI", "\tADDQ R11, DI"])

o('''// func wino4OutputG(m *float32, mstride, mkstride int, y *float32, ykstride, ow int, u *wino4OutUnit, kn int, bias, res *float32, relu bool)
//
// Y = Aᵀ·M·A (F(4×4, 3×3)) for up to 16 tiles anywhere in the batch, for
// kn output channels, with the epilogue: channel i's M row ξ is at m +
// i·mkstride + ξ·mstride; lane l's output tile starts at y + u.offs[l] +
// i·ykstride, row r stored under u.masks[r][l] (its columns in the image,
// none for rows past it and unused lanes), as act(z + bias[i] + res[same
// place]); bias and res may be nil.''')
prologue("wino4OutputG", 81, [("m", 0, "SI", False), ("mstride", 8, "R8", True)], local=24 * 64 + 64)
o("\tLEAQ 63(SP), R13")
o("\tANDQ $-64, R13")
o("\tMOVQ mkstride+16(FP), R9")
o("\tSHLQ $2, R9")
o("\tMOVQ y+24(FP), DI")
for arg, off, reg in (("ykstride", 32, "R11"), ("ow", 40, "R12")):
    o(f"\tMOVQ {arg}+{off}(FP), {reg}")
    o(f"\tSHLQ $2, {reg}")
o("\tMOVQ u+48(FP), BX")
o("\tMOVQ kn+56(FP), DX")
o("\tMOVQ bias+64(FP), R14")
o("\tMOVQ res+72(FP), R15")
# K7: all lanes when there is no ReLU (ORed into its keep mask).
o("\tMOVBLZX relu+80(FP), AX")
o("\tDECL AX")
o("\tKMOVW AX, K7")
o("\tVMOVUPS zipLo<>(SB), Z30")
o("\tVMOVUPS zipHi<>(SB), Z31")
o("\tVXORPS Z25, Z25, Z25")
o("\tTESTQ DX, DX")
o("\tJEQ wino4OutputG_done")
o("wino4OutputG_loop:")
output_columns("AX")
o("\tVMOVAPS Z25, Z24")
o("\tTESTQ R14, R14")
o("\tJEQ wino4OutputG_nobias")
o("\tVBROADCASTSS (R14), Z24")
o("\tADDQ $4, R14")
o("wino4OutputG_nobias:")
# R10 walks the output rows, AX the residual's.
o("\tMOVQ DI, R10")
o("\tMOVQ R15, AX")
outs = OUTS
resv = ["Z26", "Z27", "Z28", "Z29"]
for r in range(4):
    output_row(r)
    o("\tTESTQ R15, R15")
    o(f"\tJEQ wino4OutputG_act{r}")
    for l in range(16):
        o(f"\tMOVQ {8 * l}(BX), CX")
        o(f"\tKMOVW {128 + 2 * (16 * r + l)}(BX), K1")
        o("\tVMOVUPS.Z (AX)(CX*4), K1, X22")
        o(f"\tVINSERTF32X4 ${l % 4}, X22, {resv[l // 4]}, {resv[l // 4]}")
    for q in range(4):
        o(f"\tVADDPS {resv[q]}, {outs[q]}, {outs[q]}")
    o(f"wino4OutputG_act{r}:")
    for q in range(4):
        o(f"\tVCMPPS $5, Z25, {outs[q]}, K5")
        o("\tKORW K7, K5, K5")
        o(f"\tVMOVAPS.Z {outs[q]}, K5, {outs[q]}")
    for l in range(16):
        o(f"\tMOVQ {8 * l}(BX), CX")
        o(f"\tKMOVW {128 + 2 * (16 * r + l)}(BX), K1")
        o(f"\tVEXTRACTF32X4 ${l % 4}, {outs[l // 4]}, K1, (R10)(CX*4)")
    if r < 3:
        o("\tADDQ R12, R10")
        o("\tADDQ R12, AX")
epilogue("wino4OutputG", "DX", ["\tADDQ R9, SI", "\tADDQ R11, DI", "\tTESTQ R15, R15",
                                "\tJEQ wino4OutputG_nores", "\tADDQ R11, R15", "wino4OutputG_nores:"])

# transpose16: unpack pairs of floats, pairs of doubles, then 128-bit lanes twice.
o('''// func transpose16(dst *float32, ldd int, src *float32, lds int)
//
// Writes the transpose of the 16×16 block at src (rows lds floats apart)
// to dst (rows ldd floats apart).''')
prologue("transpose16", 32, [("dst", 0, "DI", False), ("ldd", 8, "R8", True), ("src", 16, "SI", False),
                              ("lds", 24, "R9", True)])
o("\tLEAQ (R9)(R9*2), R10")
o("\tLEAQ (R8)(R8*2), R11")
rows4x4("SI", "R9", "R10", "AX", [Z(i) for i in range(16)])
R = lambda i: Z(i)
T = lambda i: Z(16 + i)
for j in range(8):
    a, b = 2 * j, 2 * j + 1
    o(f"\tVUNPCKLPS {R(b)}, {R(a)}, {T(a)}")
    o(f"\tVUNPCKHPS {R(b)}, {R(a)}, {T(b)}")
for g in range(4):
    t0, t1, t2, t3 = 4 * g, 4 * g + 1, 4 * g + 2, 4 * g + 3
    o(f"\tVUNPCKLPD {T(t2)}, {T(t0)}, {R(t0)}")
    o(f"\tVUNPCKHPD {T(t2)}, {T(t0)}, {R(t1)}")
    o(f"\tVUNPCKLPD {T(t3)}, {T(t1)}, {R(t2)}")
    o(f"\tVUNPCKHPD {T(t3)}, {T(t1)}, {R(t3)}")
for h in (0, 8):
    for i in range(4):
        o(f"\tVSHUFF32X4 $0x88, {R(h + i + 4)}, {R(h + i)}, {T(h + i)}")
        o(f"\tVSHUFF32X4 $0xdd, {R(h + i + 4)}, {R(h + i)}, {T(h + 4 + i)}")
for i in range(8):
    o(f"\tVSHUFF32X4 $0x88, {T(i + 8)}, {T(i)}, {R(i)}")
    o(f"\tVSHUFF32X4 $0xdd, {T(i + 8)}, {T(i)}, {R(8 + i)}")
rows4x4("DI", "R8", "R11", "DX", [Z(i) for i in range(16)], store=True)
o("\tVZEROUPPER")
o("\tRET")

print("\n".join(out))
