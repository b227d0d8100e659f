// Package vision is the one implementation of the models' evaluation
// preprocessing, written to give the same 8-bit pixels and float tensors as
// torchvision 0.14 on PIL images (Pillow 9.4, libjpeg-turbo 2.1):
//
//	img.convert("RGB" or "L") → Resize(N) → CenterCrop(H, W) → ToTensor() → Normalize(mean, std)
//
// Each step follows its reference exactly:
//
//   - Conversion (Convert) is PIL's convert: palette entries and 16-bit
//     samples as PIL reads them (16-bit colour keeps the high byte, 16-bit
//     grey is clipped to 255 as PIL's "I" → "RGB" does), alpha dropped
//     without compositing, grey as ITU-R 601-2 luma in PIL's integer
//     arithmetic: L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16.
//   - A *image.YCbCr (what image/jpeg returns for colour JPEGs) is turned
//     into RGB as libjpeg does by default: "fancy" triangle-filter chroma
//     upsampling (h2v1, h1v2, h2v2, with libjpeg's rounding biases and edge
//     replication) and libjpeg's fixed-point YCbCr → RGB tables. Go's
//     decoder gives the planes; only its IDCT differs from libjpeg's islow
//     (see the tests for how much).
//   - Resize is Pillow's ImagingResample with the bilinear filter: support
//     widened by the downscale factor (antialiasing), coefficients
//     normalised to 22-bit fixed point, the horizontal pass first and its
//     result rounded to 8 bits before the vertical pass.
//     ResizedSize is torchvision's size rule: the shorter side to N, the
//     longer to int(N·long/short).
//   - CenterCrop offsets are int(round((h - th) / 2.0)) with Python's
//     round-half-to-even.
//
// The package works on Planes (8-bit, planar C×H×W); Eval.Apply runs the
// whole chain into a float32 tensor. hub's (*Model).Preprocess and the
// trainer's test-time evaluation both call it, so served, trained and
// verified numbers see the same inputs.
package vision
