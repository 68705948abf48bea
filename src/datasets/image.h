// image.h: one JPEG or PNG file's bytes to pixels, for the image-folder form
// of CIFAR-10 (cifar10.cpp). stb_image decodes: Debian's libstb-dev, version
// 2.27, which mishandles some crafted files (fixed in later releases, or not
// at all). Before it sees a byte, the project's own checks (jpeg_check.cpp,
// png_check.cpp) refuse every file that reaches one of those faults, so a
// hostile image is an error naming the file: never a crash, a write out of
// bounds, undefined behaviour, or pixels read from uninitialised memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

// The image's pixels, [C = 3, H = height, W = width]. The bytes must be a JPEG
// or a PNG by their first bytes (whatever the file is called) that passes
// check_jpeg or check_png, and stb_image's reading of the header must agree
// on width x height before it decodes. Every problem throws
// std::runtime_error "<path>: <what is wrong>".
std::vector<uint8_t> decode_image(const std::vector<uint8_t>& bytes, const std::string& path, int width,
                                  int height);

// The most bytes a width x height image file may hold: 4 MiB for metadata
// (EXIF, an ICC profile, text) plus twice the pixels at 16-bit RGBA, more than
// any encoder needs. A 32x32 CIFAR-10 JPEG is about 1 KB.
std::size_t max_image_file_bytes(int width, int height);

// The sides decode_image accepts: 1..kMaxImageSide.
constexpr int kMaxImageSide = 4096;

// What stb_image 2.27 mishandles, refused first. Each throws
// std::runtime_error "<path>: JPEG: <what>" or "<path>: PNG: <what>", or, for
// an image of another size, "<path>: is WxH, expected <width>x<height>".
void check_jpeg(const uint8_t* data, std::size_t size, const std::string& path, int width, int height);
void check_png(const uint8_t* data, std::size_t size, const std::string& path, int width, int height);
[[noreturn]] void refuse_image_size(const std::string& path, long found_width, long found_height, int width,
                                    int height);
