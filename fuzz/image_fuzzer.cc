// Fuzzes image decoding (include/bento/image.h, src/io/image_header.h): the header reader,
// OpenCV's decoders behind Image::Decode, and the preprocessing a service runs on what
// decodes (convert to RGB, Pillow-exact resize, normalized tensor). A decoded image must
// match the size its header announced.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "bento/image.h"
#include "fuzz/fuzz_check.h"
#include "io/image_header.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto header = bento::io::ReadImageHeader(bytes);
  auto image = bento::Image::Decode(bytes);
  if (!image.ok()) return 0;
  FUZZ_CHECK(header.ok(), "decoded an image whose header does not read: %s",
             header.status().ToString().c_str());
  FUZZ_CHECK(image->width() == header->width && image->height() == header->height,
             "%s header says %lldx%lld, decoded %dx%d", header->format.c_str(),
             static_cast<long long>(header->width), static_cast<long long>(header->height),
             image->width(), image->height());
  // Preprocess small images only: large ones just cost time.
  if (static_cast<int64_t>(image->width()) * image->height() > 64 * 64) return 0;
  bento::Image rgb = image->ConvertRGB();
  FUZZ_CHECK(rgb.channels() == 3, "ConvertRGB gave %d channels", rgb.channels());
  bento::Image small = rgb.Resize(7, 5, bento::Image::Resample::kBicubic);
  bento::Image large = image->Resize(2 * image->width() + 1, 3, bento::Image::Resample::kLanczos);
  FUZZ_CHECK(small.width() == 7 && small.height() == 5, "resize gave %dx%d", small.width(),
             small.height());
  (void)large;
  const double mean[] = {0.485, 0.456, 0.406}, std[] = {0.229, 0.224, 0.225};
  bento::Tensor tensor = small.ToTensor(bento::Image::Layout::kNCHW, mean, std);
  FUZZ_CHECK(tensor.num_elements() == 3 * 7 * 5, "tensor of %lld elements",
             static_cast<long long>(tensor.num_elements()));
  return 0;
}
