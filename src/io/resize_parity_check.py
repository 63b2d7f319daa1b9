#!/usr/bin/env python3
"""Measures bento::Image decode and resize parity with Pillow.

For each image and case it runs bento_resize_tool and Pillow on the same file and prints the
maximum absolute difference in 0..255 units (and how many bytes differ). Needs Pillow and
numpy, e.g. `python3 -m venv /tmp/pilenv && /tmp/pilenv/bin/pip install Pillow numpy`.

  resize_parity_check.py TOOL [IMAGE...]      (default: skimage's chelsea, coffee, astronaut)

Exit status 1 when any case differs by more than --tolerance (default 0).
"""
import argparse
import io
import pathlib
import random
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

SKIMAGE = pathlib.Path("/usr/lib/python3/dist-packages/skimage/data")
FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "box": Image.Resampling.BOX,
    "bilinear": Image.Resampling.BILINEAR,
    "hamming": Image.Resampling.HAMMING,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}
SIZES = [(224, 224), (299, 299), (640, 480), (97, 1000), (1, 1)]


def bento(tool, path, size, filt, rgb):
    args = [tool, str(path), str(size[0]), str(size[1]), filt] + (["--rgb"] if rgb else [])
    run = subprocess.run(args, capture_output=True, check=True)
    w, h, c = map(int, run.stderr.decode().splitlines()[-1].split("x"))
    return np.frombuffer(run.stdout, np.uint8).reshape(h, w, c)


def pillow(path, size, filt, rgb):
    img = Image.open(path)
    if rgb:
        img = img.convert("RGB")
    if size != (0, 0):
        img = img.resize(size, FILTERS[filt])
    a = np.asarray(img)
    return a.reshape(a.shape[0], a.shape[1], -1)


def compare(tool, path, size, filt, rgb=True):
    a = bento(tool, path, size, filt, rgb).astype(int)
    b = pillow(path, size, filt, rgb).astype(int)
    if a.shape != b.shape:
        return f"shape {a.shape} != {b.shape}", 999
    d = np.abs(a - b)
    return f"max diff {d.max()}, {np.count_nonzero(d)} of {d.size} bytes differ", int(d.max())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("tool")
    p.add_argument("images", nargs="*")
    p.add_argument("--tolerance", type=int, default=0)
    p.add_argument("--random", type=int, default=100, help="random crop cases")
    args = p.parse_args()
    images = [pathlib.Path(i) for i in args.images] or [
        SKIMAGE / n for n in ("chelsea.png", "coffee.png", "astronaut.png", "page.png",
                                      "hubble_deep_field.jpg")]
    worst = 0
    with tempfile.TemporaryDirectory() as tmp:
        cases = list(images)
        # JPEG decode parity: encode the first image with Pillow, decode with both.
        jpeg = pathlib.Path(tmp) / "q90.jpg"
        Image.open(images[0]).convert("RGB").save(jpeg, quality=90)
        cases.append(jpeg)
        # RGBA resize (premultiplied alpha): give the first image a gradient alpha.
        rgba = Image.open(images[0]).convert("RGBA")
        alpha = np.tile(np.arange(rgba.width, dtype=np.uint8)[None, :], (rgba.height, 1))
        rgba.putalpha(Image.fromarray(alpha))
        rgba_path = pathlib.Path(tmp) / "rgba.png"
        rgba.save(rgba_path)
        # Other formats and modes, compared after convert('RGB').
        base = Image.open(images[0]).convert("RGB")
        formats = {
            "bmp.bmp": base, "lossy.webp": base, "lossless.webp": base, "tiff.tif": base,
            "palette.png": base.quantize(64), "gray_alpha.png": base.convert("LA"),
            "gray.jpg": base.convert("L"), "bilevel.png": base.convert("1"),
        }
        for name, img in formats.items():
            path = pathlib.Path(tmp) / name
            img.save(path, lossless=name.startswith("lossless"))
            msg, d = compare(args.tool, path, (0, 0), "bicubic", rgb=True)
            print(f"{name:14} decode + RGB           {msg}")
            worst = max(worst, d)
        for path in cases:
            msg, d = compare(args.tool, path, (0, 0), "bicubic", rgb=False)
            print(f"{path.name:14} decode                 {msg}")
            worst = max(worst, d)
            for size in SIZES:
                for filt in FILTERS:
                    msg, d = compare(args.tool, path, size, filt)
                    print(f"{path.name:14} {filt:8} {size[0]:>4}x{size[1]:<4}   {msg}")
                    worst = max(worst, d)
        for filt in FILTERS:
            msg, d = compare(args.tool, rgba_path, (224, 224), filt, rgb=False)
            print(f"{'rgba.png':14} {filt:8} 224x224 RGBA {msg}")
            worst = max(worst, d)
        # Random crops of gray, RGB and RGBA images to random sizes, tiny ones included.
        rng = random.Random(7)
        crop_path = pathlib.Path(tmp) / "crop.png"
        sources = [Image.open(images[0]).convert(m) for m in ("L", "RGB")] + [rgba]
        random_worst, count = 0, 0
        for i in range(args.random):
            src = sources[i % len(sources)]
            w, h = rng.randint(1, min(src.width, 300)), rng.randint(1, min(src.height, 300))
            src.crop((0, 0, w, h)).save(crop_path)
            size = (rng.randint(1, 400), rng.randint(1, 400))
            for filt in FILTERS:
                msg, d = compare(args.tool, crop_path, size, filt, rgb=False)
                random_worst, count = max(random_worst, d), count + 1
                if d:
                    print(f"{src.mode} {w}x{h} -> {size} {filt}: {msg}")
        print(f"{count} random crop/size/filter cases: max diff {random_worst}")
        worst = max(worst, random_worst)
    print(f"worst max diff: {worst}")
    return 0 if worst <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
