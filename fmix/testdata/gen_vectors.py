#!/usr/bin/env python3
"""Regenerate extra-vectors.json: FMix conformance cases in the format of
fmix-vectors.json, on shapes that exercise cropping and padding in numpy's
irfftn (a first axis shorter or longer than the grid's second, odd sizes,
sizes 2 and 3, 3D masks with unequal sides).

Uses the published algorithm as copied in bench_numpy.py (ecs-vlc/FMix
fmix.py). Run with Debian's python3-numpy:

    /usr/bin/python3 fmix/testdata/gen_vectors.py > fmix/testdata/extra-vectors.json
"""
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_numpy import binarise_mask, fftfreqnd, get_spectrum  # noqa: E402


def low_freq(decay, shape, param, isotropic):
    freqs = fftfreqnd(*shape)
    spectrum = get_spectrum(freqs, decay, 1, *shape, param=param)
    if isotropic:
        spectrum = spectrum[..., 0] + 1j * spectrum[..., 1]
    else:
        spectrum = spectrum[:, 0] + 1j * spectrum[:, 1]
    mask = np.real(np.fft.irfftn(spectrum, shape))
    mask = mask[(slice(0, 1),) + tuple(slice(0, d) for d in shape)]
    mask = mask - mask.min()
    return mask / mask.max()


def main():
    rng = np.random.RandomState(2002)
    shapes = [[2], [3], [5, 9], [9, 5], [2, 3], [3, 2], [2, 2], [40, 3], [3, 40],
              [4, 4, 4], [3, 5, 7], [7, 5, 3], [2, 2, 2], [6, 2, 9], [9, 11, 2]]
    cases = []
    for shape in shapes:
        for variant in ("official", "isotropic"):
            decay = float(rng.choice([1.0, 2.5, 3.0]))
            freqs = fftfreqnd(*shape)
            param = rng.randn(1, *freqs.shape, 2)
            low = low_freq(decay, shape, param, variant == "isotropic")
            masks = []
            for lam, soft in ((0.5, 0.0), (0.3, 0.1), (0.81, 0.25)):
                up = bool(rng.rand() > 0.5)
                m = binarise_mask(low.copy(), lam, shape, soft, round_up=up)
                masks.append({"lam": lam, "round_up": up, "max_soft": soft, "mask": m.reshape(-1).tolist()})
            cases.append({
                "variant": variant, "shape": shape, "grid_shape": list(freqs.shape), "decay_power": decay,
                "normals": param.reshape(-1).tolist(), "freqs": freqs.reshape(-1).tolist(),
                "low_freq": low.reshape(-1).tolist(), "masks": masks,
            })
    about = ("Extra FMix conformance cases written by gen_vectors.py with numpy %s, same layout as "
             "fmix-vectors.json." % np.__version__)
    json.dump({"about": about, "cases": cases}, sys.stdout)


if __name__ == "__main__":
    main()
