#!/usr/bin/python3
"""Writes testdata/torch/preprocess/: real photographs (JPEG, and the same
pixels as PNG) and what torchvision 0.14 on PIL makes of them for each kind of
weights.json entry. internal/vision's tests hold the Go preprocessing to these.

Run with Debian's python3-torchvision (0.14), python3-pil (Pillow 9.4, with
libjpeg-turbo 2.1) from the repository root, with the Go module cache filled
(`go mod download`):

    /usr/bin/python3 testdata/torch/gen_preprocess.py

Inputs (inputs/):
  * JPEGs copied as they ship in Go modules (the source of each is in
    manifest.json), and crops of onnx-go's dog.jpg re-encoded by libjpeg-turbo
    with 4:2:0 and 4:2:2 chroma (odd sizes, a tall one, and one small enough
    that Resize(256) enlarges it);
  * NAME.png: each JPEG as PIL decodes it (mode RGB or L), so a test can start
    from the same pixels on both sides;
  * a palette PNG with a transparent entry, an RGBA PNG with varying alpha, a
    16-bit RGB PNG (written here byte by byte; PIL keeps the high bytes) and a
    16-bit grey PNG (PIL opens it as mode "I" and convert() clips it to 255).

References (ref/NAME.KIND.png), one per input and entry kind:
  imagenet       convert("RGB"), Resize(256), CenterCrop(224)
  cifar10        convert("RGB"), Resize(32),  CenterCrop(32)
  fashion_mnist  convert("L"),   Resize(28),  CenterCrop(28)
saved as 8-bit PNG: the crop before ToTensor. The script checks that
Normalize(ToTensor(crop)) is exactly torchvision's full transform, so the
reference tensor is (ref / 255 - mean) / std in float32 with no loss.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import zlib

import numpy as np
import torch
import torchvision
import torchvision.transforms as T
from PIL import Image, features

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "preprocess")
MOD = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=True).stdout.strip()

COPIED = {  # name: path in the module cache
    "dog416": "github.com/owulveryck/onnx-go@v0.5.0/examples/tiny_yolov2/data/dog_416.jpg",
    "goturnstwo": "golang.org/x/image@v0.48.0/testdata/go-turns-two-280x360.jpeg",
    "mascot": "gorgonia.org/gorgonia@v0.9.18/media/mascot_small.jpg",
    "gofpdf": "codeberg.org/go-pdf/fpdf@v0.11.1/image/logo_gofpdf.jpg",
    "greyjpeg": "github.com/owulveryck/onnx-go@v0.5.0/doc/introduction/assets/test.jpg",
}
DOG = "github.com/owulveryck/onnx-go@v0.5.0/examples/tiny_yolov2/data/dog.jpg"
ENCODED = {  # name: (crop box in dog.jpg, resize to or None, PIL subsampling)
    "dog420": ((100, 80, 433, 331), None, 2),
    "dog422": ((300, 200, 601, 399), None, 1),
    "dogtall": ((400, 150, 551, 483), None, 2),
    "dogsmall": ((0, 0, 768, 576), (181, 135), 2),
}
KINDS = {
    "imagenet": ("RGB", 256, 224, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    "cifar10": ("RGB", 32, 32, [0.4914, 0.4822, 0.4465], [0.2023, 0.1994, 0.201]),
    "fashion_mnist": ("L", 28, 28, [0.1307000070810318], [0.30809998512268066]),
}


def png16(path, a):
    """Writes an H×W×3 uint16 array as a 16-bit RGB PNG."""
    h, w, _ = a.shape
    raw = b"".join(b"\x00" + a[y].astype(">u2").tobytes() for y in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    assert torchvision.__version__.startswith("0.14"), torchvision.__version__
    inp, ref = os.path.join(HERE, "inputs"), os.path.join(HERE, "ref")
    for d in (inp, ref):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    inputs = []  # (file, source, decoded-as)
    for name, src in COPIED.items():
        shutil.copyfile(os.path.join(MOD, src), os.path.join(inp, name + ".jpg"))
        inputs.append((name + ".jpg", src))
    dog = Image.open(os.path.join(MOD, DOG))
    for name, (box, size, sub) in ENCODED.items():
        im = dog.crop(box)
        if size:
            im = im.resize(size, Image.LANCZOS)
        im.save(os.path.join(inp, name + ".jpg"), quality=90, subsampling=sub)
        inputs.append((name + ".jpg", f"{DOG} crop {box} resize {size} subsampling {sub} quality 90"))
    # A CMYK JPEG (Adobe, inverted), as some ImageNet files are.
    Image.open(os.path.join(inp, "dog422.jpg")).convert("CMYK").save(os.path.join(inp, "cmyk.jpg"), quality=90)
    inputs.append(("cmyk.jpg", "dog422.jpg converted to CMYK by PIL, quality 90"))
    # The same pixels as PNG (PIL's decode and convert("RGB")), for the JPEGs small enough to keep.
    for name in ["dog416", "goturnstwo", "mascot", "greyjpeg", "dog420", "dog422", "dogtall", "dogsmall", "cmyk"]:
        im = Image.open(os.path.join(inp, name + ".jpg"))
        im.load()
        if im.mode == "CMYK":
            im = im.convert("RGB")
        im.save(os.path.join(inp, name + ".png"))
        inputs.append((name + ".png", f"{name}.jpg as PIL decodes it ({im.mode})"))
    # Palette with a transparent entry.
    pal = Image.open(os.path.join(inp, "goturnstwo.jpg")).quantize(48)
    pal.save(os.path.join(inp, "palette.png"), transparency=3)
    inputs.append(("palette.png", "goturnstwo.jpg quantised to 48 colours, entry 3 transparent"))
    # RGBA with an alpha ramp and fully transparent corner (colour kept).
    rgb = np.asarray(Image.open(os.path.join(inp, "mascot.jpg")).convert("RGB").crop((20, 30, 237, 290)))
    h, w, _ = rgb.shape
    alpha = (np.add.outer(np.arange(h), np.arange(w)) * 255 // (h + w)).astype(np.uint8)
    alpha[:40, :40] = 0
    Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(os.path.join(inp, "rgba.png"))
    inputs.append(("rgba.png", "mascot.jpg crop (20,30,237,290) with an alpha ramp, top-left 40×40 transparent"))
    # 16-bit RGB: high byte from the photo, low byte noise (PIL must drop it).
    rng = np.random.default_rng(15)
    hi = np.asarray(dog.crop((200, 100, 403, 253)).convert("RGB")).astype(np.uint16)
    png16(os.path.join(inp, "rgb16.png"), hi * 256 + rng.integers(0, 256, hi.shape, dtype=np.uint16))
    inputs.append(("rgb16.png", f"{DOG} crop (200,100,403,253), 16-bit RGB, low bytes random"))
    # 16-bit grey: PIL opens it as "I"; convert() clips values over 255.
    g = np.asarray(dog.crop((0, 0, 97, 67)).convert("L")).astype(np.uint16) * 2
    Image.fromarray(g.astype(np.uint16)).save(os.path.join(inp, "grey16.png"))
    inputs.append(("grey16.png", f"{DOG} crop (0,0,97,67) luma × 2 as 16-bit grey"))

    rgb16 = Image.open(os.path.join(inp, "rgb16.png"))
    assert rgb16.mode == "RGB" and np.array_equal(np.asarray(rgb16), hi.astype(np.uint8)), rgb16.mode
    manifest = {"torchvision": torchvision.__version__, "pillow": Image.__version__,
                "libjpeg_turbo": features.version("libjpeg_turbo"), "kinds": {}, "inputs": []}
    for kind, (mode, resize, crop, mean, std) in KINDS.items():
        manifest["kinds"][kind] = {"mode": mode, "resize": resize, "crop": crop, "mean": mean, "std": std}
    for file, source in inputs:
        im = Image.open(os.path.join(inp, file))
        entry = {"file": file, "source": source, "mode": im.mode, "size": list(im.size), "refs": {}}
        if file.endswith(".jpg"):
            entry["jpeg_layers"] = [list(l) for l in im.layer]
        for kind, (mode, resize, crop, mean, std) in KINDS.items():
            x = Image.open(os.path.join(inp, file)).convert(mode)
            out = T.CenterCrop(crop)(T.Resize(resize)(x))
            full = T.Compose([T.Resize(resize), T.CenterCrop(crop), T.ToTensor(), T.Normalize(mean, std)])(x)
            assert torch.equal(full, T.Normalize(mean, std)(T.ToTensor()(out)))
            name = f"{file.rsplit('.', 1)[0]}.{file.rsplit('.', 1)[1]}.{kind}.png"
            out.save(os.path.join(ref, name))
            entry["refs"][kind] = name
        manifest["inputs"].append(entry)
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


# The tiny ImageNet validation tree for zoo-train verify's end-to-end test:
# folder per synset, mapped to class indices by a synset list, never by the
# folders present. The list is synthetic apart from the ILSVRC-2012 synsets
# it places at their real indices (0-4: tench, goldfish, great white shark,
# tiger shark, hammerhead; 999: toilet tissue); the tree uses indices 1, 2,
# 500 and 999, so a mapping by the folders present (0, 1, 2, 3) would fail.
REAL_SYNSETS = {0: "n01440764", 1: "n01443537", 2: "n01484850", 3: "n01491361", 4: "n01494475", 999: "n15075141"}
TREE = {  # class index: JPEG inputs in its folder
    1: ["dog416.jpg", "dog420.jpg", "dogsmall.jpg"],
    2: ["dogtall.jpg"],  # the model has no such class: a top-1 miss, a top-5 hit
    500: ["goturnstwo.jpg", "greyjpeg.jpg"],
    999: ["mascot.jpg", "gofpdf.jpg", "dog422.jpg"],
}


def synset_list():
    out = []
    for i in range(1000):
        out.append(REAL_SYNSETS.get(i) or "n%08d" % (1500000 + i * 10000))
    assert out == sorted(out) and len(set(out)) == 1000
    return out


def imagenet_tree():
    """A random-weight ResNet-18 (width 8, 1000 classes) whose classifier is
    set to the nearest centroid of its features on the tree's images for
    classes 1, 500 and 999, and a fixed descending bias elsewhere; stored in
    float16 (the logits are computed from those float16 weights)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import models  # noqa: E402

    torch.manual_seed(15)
    net = models.tv_resnet("resnet18", num_classes=1000, width=8).eval()
    net = net.half().float()
    mean, std = KINDS["imagenet"][3], KINDS["imagenet"][4]
    tf = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(mean, std)])
    inp = os.path.join(HERE, "inputs")
    items = [(k, f) for k, files in TREE.items() for f in files]
    x = torch.stack([tf(Image.open(os.path.join(inp, f)).convert("RGB")) for _, f in items])
    fc = net.fc
    net.fc = torch.nn.Identity()
    with torch.no_grad():
        feats = net(x)
    net.fc = fc
    centre = feats.mean(0)
    with torch.no_grad():
        fc.weight.zero_()
        fc.bias.copy_(-5 - 0.01 * torch.arange(1000, dtype=torch.float32))
        spread = (feats - centre).norm(dim=1).mean()
        for k in (1, 500, 999):
            c = feats[[i for i, (kk, _) in enumerate(items) if kk == k]].mean(0) - centre
            fc.weight[k] = 20 * c / c.norm() / spread
            fc.bias[k] = 5 - fc.weight[k] @ centre
    net = net.half().float()
    with torch.no_grad():
        logits = net(x)
    top5 = logits.topk(5, dim=1).indices.tolist()
    hit1 = sum(t[0] == k for t, (k, _) in zip(top5, items))
    hit5 = sum(k in t for t, (k, _) in zip(top5, items))
    torch.save(net.half().state_dict(), os.path.join(HERE, "imagenet_resnet18_w8.pt"))
    syn = synset_list()
    with open(os.path.join(HERE, "imagenet_synsets.txt"), "w") as f:
        for i, s in enumerate(syn):
            f.write(f"{s} class {i}\n")
    doc = {
        "arch": "resnet18", "args": {"num_classes": 1000, "nc": 3, "width": 8}, "pt": "imagenet_resnet18_w8.pt",
        "synsets": "imagenet_synsets.txt",
        "tree": {syn[k]: files for k, files in TREE.items()},
        "images": [{"file": f, "class": k, "synset": syn[k], "top5": t} for (k, f), t in zip(items, top5)],
        "top1": 100 * hit1 / len(items), "top5": 100 * hit5 / len(items),
    }
    with open(os.path.join(HERE, "imagenet_tree.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("imagenet tree: top-1 %.2f top-5 %.2f" % (doc["top1"], doc["top5"]))
    for im in doc["images"]:
        print(" ", im["file"], im["class"], im["top5"])


if __name__ == "__main__":
    main()
    imagenet_tree()
