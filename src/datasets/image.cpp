// image.cpp: decode_image, the one way an image file becomes pixels: the
// first bytes say JPEG or PNG, the project's checks run (jpeg_check.cpp,
// png_check.cpp), stb_image reads the header, and only then decodes; its
// [H, W, C] result is rearranged to the [C, H, W] layout the sensor reads.
#include "datasets/image.h"

#include <cstdio>
#include <memory>
#include <stdexcept>

// stb_image is a single header; its implementation is compiled here, once,
// with only the two decoders an image folder may use, and without the
// warnings its code raises under -Wall -Wextra.
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

namespace {

constexpr int kChannels = 3;

std::runtime_error file_error(const std::string& path, const std::string& what) {
  return std::runtime_error(path + ": " + what);
}

// The file's kind by its signature (JPEG: SOI marker ff d8 and the ff of the
// next marker; PNG: the 8-byte signature of PNG spec section 5.2).
bool starts_with(const std::vector<uint8_t>& bytes, std::initializer_list<uint8_t> magic) {
  if (bytes.size() < magic.size()) return false;
  std::size_t i = 0;
  for (uint8_t byte : magic)
    if (bytes[i++] != byte) return false;
  return true;
}

std::string first_bytes(const std::vector<uint8_t>& bytes) {
  if (bytes.empty()) return "it is empty";
  std::string shown = "it starts";
  for (std::size_t i = 0; i < bytes.size() && i < 8; ++i) {
    char hex[4];
    std::snprintf(hex, sizeof hex, " %02x", bytes[i]);
    shown += hex;
  }
  return shown;
}

}  // namespace

std::size_t max_image_file_bytes(int width, int height) {
  return (std::size_t{4} << 20) + 2 * std::size_t{8} * static_cast<std::size_t>(width) * height;
}

void refuse_image_size(const std::string& path, long found_width, long found_height, int width, int height) {
  throw file_error(path, "is " + std::to_string(found_width) + "x" + std::to_string(found_height) +
                             ", expected " + std::to_string(width) + "x" + std::to_string(height));
}

std::vector<uint8_t> decode_image(const std::vector<uint8_t>& bytes, const std::string& path, int width,
                                  int height) {
  if (width < 1 || height < 1 || width > kMaxImageSide || height > kMaxImageSide) {
    throw file_error(path, "cannot be read as a " + std::to_string(width) + "x" + std::to_string(height) +
                               " image: each side must be 1.." + std::to_string(kMaxImageSide));
  }
  if (bytes.size() > max_image_file_bytes(width, height)) {
    throw file_error(path, "is " + std::to_string(bytes.size()) + " bytes, more than the " +
                               std::to_string(max_image_file_bytes(width, height)) + " a " +
                               std::to_string(width) + "x" + std::to_string(height) + " image file may hold");
  }
  if (starts_with(bytes, {0xff, 0xd8, 0xff})) {
    check_jpeg(bytes.data(), bytes.size(), path, width, height);
  } else if (starts_with(bytes, {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a})) {
    check_png(bytes.data(), bytes.size(), path, width, height);
  } else {
    throw file_error(path, "is neither a JPEG (which starts ff d8 ff) nor a PNG file (89 50 4e 47 0d 0a 1a 0a): " +
                               first_bytes(bytes));
  }
  // The size again as stb_image reads it, before it allocates for the pixels.
  const int size = static_cast<int>(bytes.size());  // at most max_image_file_bytes
  int w = 0, h = 0, n = 0;
  if (!stbi_info_from_memory(bytes.data(), size, &w, &h, &n)) {
    throw file_error(path, std::string("cannot read the image header: ") + stbi_failure_reason());
  }
  if (w != width || h != height) refuse_image_size(path, w, h, width, height);
  const std::unique_ptr<uint8_t, void (*)(void*)> hwc(stbi_load_from_memory(bytes.data(), size, &w, &h, &n, kChannels),
                                                      &stbi_image_free);
  if (!hwc) throw file_error(path, std::string("cannot decode the image: ") + stbi_failure_reason());
  if (w != width || h != height) refuse_image_size(path, w, h, width, height);
  // [H, W, C] to [C, H, W].
  const std::size_t plane = static_cast<std::size_t>(width) * height;
  std::vector<uint8_t> chw(kChannels * plane);
  for (std::size_t i = 0; i < plane; ++i)
    for (int c = 0; c < kChannels; ++c) chw[c * plane + i] = hwc.get()[i * kChannels + c];
  return chw;
}
