// bento_resize_tool: decodes an image file, optionally converts it to RGB, resizes it the
// way bento::Image::Resize does, and writes the raw interleaved bytes to stdout, so that a
// script (resize_parity_check.py) can compare them with Pillow's output.
//
//   bento_resize_tool IMAGE WIDTH HEIGHT [nearest|box|bilinear|hamming|bicubic|lanczos] [--rgb]
//
// The last stderr line is "WIDTHxHEIGHTxCHANNELS". WIDTH or HEIGHT 0 keeps the size (decode only).
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

#include "base/fs.h"
#include "bento/image.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: " << argv[0] << " IMAGE WIDTH HEIGHT [FILTER] [--rgb]\n";
    return 2;
  }
  using R = bento::Image::Resample;
  const std::map<std::string, R> filters = {
      {"nearest", R::kNearest}, {"box", R::kBox},         {"bilinear", R::kBilinear},
      {"hamming", R::kHamming}, {"bicubic", R::kBicubic}, {"lanczos", R::kLanczos}};
  R filter = R::kBicubic;
  bool rgb = false;
  for (int i = 4; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--rgb") {
      rgb = true;
    } else if (auto it = filters.find(arg); it != filters.end()) {
      filter = it->second;
    } else {
      std::cerr << "unknown filter '" << arg << "'\n";
      return 2;
    }
  }
  const bento::StatusOr<std::string> bytes = bento::fs::ReadFile(argv[1]);
  if (!bytes.ok()) {
    std::cerr << bytes.status() << "\n";
    return 1;
  }
  bento::StatusOr<bento::Image> image = bento::Image::Decode(*bytes);
  if (!image.ok()) {
    std::cerr << image.status() << "\n";
    return 1;
  }
  bento::Image out = rgb ? image->ConvertRGB() : *image;
  const int width = std::atoi(argv[2]);
  const int height = std::atoi(argv[3]);
  if (width > 0 && height > 0) out = out.Resize(width, height, filter);
  std::cerr << out.width() << "x" << out.height() << "x" << out.channels() << "\n";
  const auto pixels = out.pixels();
  std::fwrite(pixels.data(), 1, pixels.size(), stdout);
  return 0;
}
