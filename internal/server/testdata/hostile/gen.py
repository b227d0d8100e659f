#!/usr/bin/python3
"""Writes the images of internal/server's hostile-input tests that Go cannot
encode: lossless and lossy WebP, progressive JPEG (colour and grey).
Run from this directory: /usr/bin/python3 gen.py (Debian python3-pil)."""
from PIL import Image


def pattern(w, h, mode):
    img = Image.new("RGBA", (w, h))
    px = img.load()
    for y in range(h):
        for x in range(w):
            px[x, y] = ((x * 7) % 256, (y * 5) % 256, ((x ^ y) * 3) % 256, 255 - (x + y) % 64)
    return img.convert(mode)


rgba = pattern(640, 480, "RGBA")
rgba.save("lossless.webp", lossless=True)
rgba.convert("RGB").save("lossy.webp", quality=80)
rgba.convert("RGB").save("progressive.jpg", progressive=True, quality=90)
rgba.convert("L").save("progressive_grey.jpg", progressive=True, quality=90)

# Issue 18's memory bomb: 1.6 KB of lossless WebP that decodes to 6320×6320
# NRGBA (160 MB; Go's decoder allocates twice that), just under the server's
# default 40e6-pixel limit.
Image.new("RGBA", (6320, 6320), (10, 20, 30, 255)).save("bomb_6320.webp", lossless=True)
