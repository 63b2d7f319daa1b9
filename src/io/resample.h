// Resampling of 8-bit interleaved images that reproduces Pillow's Image.resize exactly.
//
// Written from Pillow's documented behaviour (libImaging/Resample.c and Geometry.c):
//  - Box, bilinear (triangle), Hamming, bicubic (a = -0.5) and Lanczos (a = 3) are separable
//    convolutions. When shrinking, the filter support is scaled by the shrink factor, which
//    antialiases. Output pixel i samples around the input coordinate (i + 0.5) * in / out;
//    the taps it uses are clipped to the image and their weights normalized to sum to 1,
//    then turned into fixed point with 22 fractional bits (32 - 8 - 2), rounding half away
//    from zero.
//  - Each pass accumulates in integers starting from one half, shifts right by 22 bits and
//    clips to 0..255. Two passes with an 8-bit intermediate image: usually horizontal first;
//    a pass is skipped when its axis keeps its size. Pillow 13 runs the vertical pass first
//    when the image loses more than twice as many rows as columns (earlier releases always
//    ran the horizontal pass first); we follow Pillow 13, the version measured.
//  - Nearest neighbour is Pillow's affine scaling: source index floor(0.5*s + i*s), with
//    the coordinate accumulated by repeated addition as Pillow does.
//  - Four-channel (RGBA) images are premultiplied by alpha before a filtered resize and
//    unpremultiplied after, with Pillow's integer rounding; nearest does not premultiply.
//
// Thread-safety: pure functions.
#ifndef BENTO_IO_RESAMPLE_H_
#define BENTO_IO_RESAMPLE_H_

#include <cstdint>
#include <span>
#include <vector>

#include "bento/image.h"

namespace bento::io {

// Resizes `in` (in_width*in_height*channels bytes, interleaved) to out_width*out_height.
// REQUIRES: all sizes > 0, channels in 1..4, in.size() == in_width*in_height*channels.
std::vector<uint8_t> ResampleLikePillow(std::span<const uint8_t> in, int in_width, int in_height,
                                        int channels, int out_width, int out_height,
                                        Image::Resample filter);

}  // namespace bento::io

#endif  // BENTO_IO_RESAMPLE_H_
