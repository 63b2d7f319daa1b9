"""bento::Image's decoding and resizing against Pillow (PyPI's, as BentoML users have it).

src/io/resize_parity_check.py compares bento_resize_tool with Pillow on skimage's photos, every
format bento decodes and random crops through every filter; here it runs as a test. PNG is
decoded by libpng directly, so every PNG colour type and depth is checked too, on files written
here byte by byte (Pillow cannot write 16-bit colour or interlaced PNGs)."""
import pathlib
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from PIL import Image

from conftest import BIN, ROOT, SANITIZER

TOOL = BIN / "bento_resize_tool"
CHELSEA = pathlib.Path("/usr/lib/python3/dist-packages/skimage/data/chelsea.png")
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
         (0, 1, 1, 2)]  # (x0, y0, dx, dy) of each pass


def test_resize_and_decode_parity_with_pillow():
    # Under a sanitizer, one photo and no random crops: the same code, a tenth of the runs.
    trimmed = [str(CHELSEA), "--random", "0"] if SANITIZER else ["--random", "12"]
    run = subprocess.run([sys.executable, str(ROOT / "src/io/resize_parity_check.py"), str(TOOL),
                          *trimmed], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(samples, color_type, depth, extra=(), interlaced=False):
    """A PNG of `samples` (height x width x channels, integers of `depth` bits), filter 0."""
    height, width = samples.shape[:2]

    def rows(block):
        if depth >= 8:
            data = block.astype(">u2" if depth == 16 else "u1")
            return b"".join(b"\0" + row.tobytes() for row in data)
        out = b""
        for row in block[..., 0]:  # gray of 1, 2 or 4 bits, packed high bits first
            bits = "".join(format(int(v), f"0{depth}b") for v in row)
            bits += "0" * (-len(bits) % 8)
            out += b"\0" + int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""
        return out

    if interlaced:
        raw = b"".join(rows(samples[y0::dy, x0::dx]) for x0, y0, dx, dy in ADAM7
                       if samples[y0::dy, x0::dx].size)
    else:
        raw = rows(samples)
    header = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, int(interlaced))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + b"".join(chunk(k, d) for k, d in extra)
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def decode(path, rgb):
    args = [str(TOOL), str(path), "0", "0", "bicubic"] + (["--rgb"] if rgb else [])
    run = subprocess.run(args, capture_output=True, check=True)
    *warnings, shape = run.stderr.decode().splitlines()
    width, height, channels = map(int, shape.split("x"))
    return np.frombuffer(run.stdout, np.uint8).reshape(height, width, channels), warnings


def pngs():
    rng = np.random.default_rng(3)
    w, h = 13, 7  # odd sizes: every Adam7 pass is partial
    rgb16 = rng.integers(0, 65536, (h, w, 3))
    gray16 = rng.integers(0, 600, (h, w, 1))  # around 255: the clip shows
    rgba16 = rng.integers(0, 65536, (h, w, 4))
    gray8 = rng.integers(0, 256, (h, w, 1))
    rgb8 = rng.integers(0, 256, (h, w, 3))
    rgb8[0, 0] = (10, 20, 30)  # the transparent colour
    palette = bytes(rng.integers(0, 256, 3 * 16, dtype=np.uint8))
    index = rng.integers(0, 16, (h, w, 1))
    yield "rgb16", encode_png(rgb16, 2, 16)
    yield "gray16", encode_png(gray16, 0, 16)
    yield "gray_alpha16", encode_png(rgba16[..., :2], 4, 16)
    yield "rgba16", encode_png(rgba16, 6, 16)
    yield "rgb_trns", encode_png(rgb8, 2, 8, [(b"tRNS", struct.pack(">HHH", 10, 20, 30))])
    yield "gray_trns", encode_png(gray8, 0, 8, [(b"tRNS", struct.pack(">H", 5))])
    yield "palette_trns", encode_png(index, 3, 8, [(b"PLTE", palette), (b"tRNS", b"\0\x80")])
    yield "palette4", encode_png(index, 3, 4, [(b"PLTE", palette)])
    for depth in (1, 2, 4):
        yield f"gray{depth}", encode_png(rng.integers(0, 2**depth, (h, w, 1)), 0, depth)
    yield "rgb_interlaced", encode_png(rgb8, 2, 8, interlaced=True)
    yield "rgba16_interlaced", encode_png(rgba16, 6, 16, interlaced=True)


@pytest.mark.parametrize("name,data", list(pngs()), ids=[n for n, _ in pngs()])
def test_every_png_colour_type_and_depth_decodes_as_pillow_does(tmp_path, name, data):
    path = tmp_path / f"{name}.png"
    path.write_bytes(data)
    got, warnings = decode(path, rgb=True)
    want = np.asarray(Image.open(path).convert("RGB"))
    np.testing.assert_array_equal(got, want)
    assert not warnings
    # Natively: gray as one channel, colour as three, transparency as four (RGBA).
    native, _ = decode(path, rgb=False)
    image = Image.open(path)
    if name.startswith(("gray_alpha", "rgba", "rgb_trns", "palette_trns")):
        assert native.shape[2] == 4
        np.testing.assert_array_equal(native, np.asarray(image.convert("RGBA")))
    elif image.mode in ("L", "RGB"):
        np.testing.assert_array_equal(native.reshape(np.asarray(image).shape), np.asarray(image))


def test_a_known_incorrect_srgb_profile_is_no_warning_on_stderr():
    # chelsea.png, README's own image, carries an iCCP profile libpng warns about.
    _, warnings = decode(CHELSEA, rgb=True)
    assert warnings == []


def test_broken_pngs_are_errors_that_say_why(tmp_path):
    good = encode_png(np.zeros((4, 4, 3), int), 2, 8)
    bad_crc = bytearray(good)
    bad_crc[-20] ^= 1  # inside IDAT
    cases = {"crc.png": bytes(bad_crc), "cut.png": good[:-12 - 12], "bad_depth.png":
             good[:24] + bytes([3]) + good[25:]}
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        run = subprocess.run([str(TOOL), str(path), "0", "0", "bicubic"], capture_output=True,
                             text=True)
        assert run.returncode != 0, name
        assert "not an image" in run.stderr, (name, run.stderr)
