// png_check.cpp: what a PNG file (PNG specification, ISO/IEC 15948) must
// satisfy before stb_image 2.27 may decode it. Each rule stands for a fault of
// that version on a crafted file:
//
//   - a chunk's length must fit in the file: stb_image grows its buffer for
//     the image data to the length a chunk claims before reading it (up to
//     2^31 bytes for a 50-byte file; 2.28 caps it at 2^30, still far past
//     the file);
//   - the compressed image data must be a valid zlib/DEFLATE stream that
//     unpacks to exactly the bytes IHDR's width, height, colour type, bit
//     depth and interlacing call for: its inflater grows its output without
//     limit (a small file could make it allocate gigabytes), and it takes
//     the length symbols 286-287 and distance symbols 30-31, which DEFLATE
//     forbids, as a copy of length 0 or from distance 0, which reads output
//     it has not yet written (refused from 2.28 on). The project's own
//     inflater (gzip.cpp) refuses both;
//   - every pixel of an indexed-colour image must name an entry of the
//     palette: stb_image looks a larger index up in the unset part of its
//     256-entry palette, uninitialised memory (in every release so far), so
//     the pixels would differ from run to run.
//
// The rest (unknown critical chunks, a tRNS chunk of the wrong size, ...) stb
// refuses by itself. The checks read the chunks in file order as stb_image
// does; CRCs and the Adler-32 of the image data are not checked, as stb_image
// does not check them either.
#include <cstdlib>
#include <stdexcept>
#include <vector>

#include "datasets/gzip.h"
#include "datasets/image.h"

namespace {

uint32_t big_endian_u32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// The header chunk's fields (PNG spec 11.2.2).
struct Header {
  uint32_t width = 0, height = 0;
  int depth = 0;       // bits per sample
  int colour = 0;      // colour type: 0 grey, 2 RGB, 3 indexed, 4 grey + alpha, 6 RGBA
  int channels = 0;    // samples per pixel
  bool interlaced = false;  // Adam7
};

// A pass of the image: the whole image, or one of Adam7's seven (PNG spec
// 8.2), each the pixels at (x0 + i * dx, y0 + j * dy).
struct Pass {
  uint32_t width, height;
};

std::vector<Pass> passes(const Header& h) {
  if (!h.interlaced) return {{h.width, h.height}};
  static const int x0[7] = {0, 4, 0, 2, 0, 1, 0}, y0[7] = {0, 0, 4, 0, 2, 0, 1};
  static const int dx[7] = {8, 8, 4, 4, 2, 2, 1}, dy[7] = {8, 8, 8, 4, 4, 2, 2};
  std::vector<Pass> list;
  for (int p = 0; p < 7; ++p) {
    const uint32_t w = h.width > uint32_t(x0[p]) ? (h.width - x0[p] + dx[p] - 1) / dx[p] : 0;
    const uint32_t ht = h.height > uint32_t(y0[p]) ? (h.height - y0[p] + dy[p] - 1) / dy[p] : 0;
    list.push_back({w, ht});
  }
  return list;
}

// Bytes of one row of `width` pixels, without its filter byte.
std::size_t row_bytes(const Header& h, uint32_t width) {
  return (static_cast<std::size_t>(width) * h.channels * h.depth + 7) / 8;
}

// The uncompressed image data: for each pass, each row is a filter-type byte
// and the row's bytes.
std::size_t image_data_bytes(const Header& h) {
  std::size_t total = 0;
  for (const Pass& pass : passes(h))
    if (pass.width > 0 && pass.height > 0) total += pass.height * (1 + row_bytes(h, pass.width));
  return total;
}

class PngCheck {
 public:
  PngCheck(const uint8_t* data, std::size_t size, const std::string& path, int width, int height)
      : data_(data), size_(size), path_(path), width_(width), height_(height) {}

  void run() {
    std::size_t pos = 8;  // after the signature
    bool first = true, ended = false;
    while (!ended) {
      // A chunk: length (4), type (4), data (length), CRC (4).
      if (size_ - pos < 12) fail("the file ends inside the chunk at byte " + std::to_string(pos) + " (no IEND chunk)");
      const uint32_t length = big_endian_u32(data_ + pos);
      const std::string type(reinterpret_cast<const char*>(data_ + pos + 4), 4);
      const uint8_t* body = data_ + pos + 8;
      if (length > size_ - pos - 12)
        fail("chunk " + printable(type) + " at byte " + std::to_string(pos) + " claims " + std::to_string(length) +
             " bytes of data, past the end of the file (" + std::to_string(size_) + " bytes)");
      if (first && type != "IHDR") fail("the first chunk is " + printable(type) + ", not IHDR");
      if (type == "IHDR") {
        if (!first) fail("a second IHDR chunk");
        header(body, length);
      } else if (type == "PLTE") {
        if (length % 3 != 0 || length == 0 || length > 3 * 256)
          fail("a PLTE chunk of " + std::to_string(length) + " bytes, not 1..256 entries of 3");
        palette_entries_ = length / 3;
      } else if (type == "IDAT") {
        compressed_.insert(compressed_.end(), body, body + length);
      } else if (type == "IEND") {
        ended = true;
      }
      first = false;
      pos += 12 + std::size_t{length};
    }
    if (compressed_.empty()) fail("no IDAT chunk: the file holds no image data");
    if (header_.colour == 3 && palette_entries_ == 0) fail("an indexed-colour image without a PLTE chunk");
    const std::vector<uint8_t> raw = inflate_image_data();
    if (header_.colour == 3) check_palette_indices(raw);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw std::runtime_error(path_ + ": PNG: " + what); }

  static std::string printable(const std::string& type) {
    std::string shown;
    for (unsigned char c : type) shown += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
    return "'" + shown + "'";
  }

  void header(const uint8_t* body, uint32_t length) {
    if (length != 13) fail("an IHDR chunk of " + std::to_string(length) + " bytes, not 13");
    header_.width = big_endian_u32(body);
    header_.height = big_endian_u32(body + 4);
    header_.depth = body[8];
    header_.colour = body[9];
    if (header_.width != uint32_t(width_) || header_.height != uint32_t(height_))
      refuse_image_size(path_, header_.width, header_.height, width_, height_);
    // Bit depths each colour type allows (PNG spec table 11.1).
    const int d = header_.depth;
    const bool low = d == 1 || d == 2 || d == 4, eight_or_sixteen = d == 8 || d == 16;
    switch (header_.colour) {
      case 0: header_.channels = 1; break;
      case 2: header_.channels = 3; break;
      case 3: header_.channels = 1; break;
      case 4: header_.channels = 2; break;
      case 6: header_.channels = 4; break;
      default: fail("colour type " + std::to_string(header_.colour) + " (PNG has 0, 2, 3, 4, 6)");
    }
    const bool allowed = header_.colour == 0 ? low || eight_or_sixteen
                         : header_.colour == 3 ? low || d == 8
                                               : eight_or_sixteen;
    if (!allowed)
      fail("bit depth " + std::to_string(d) + " with colour type " + std::to_string(header_.colour) +
           " (PNG spec table 11.1 does not allow it)");
    if (body[10] != 0) fail("compression method " + std::to_string(body[10]) + " (PNG has only 0)");
    if (body[11] != 0) fail("filter method " + std::to_string(body[11]) + " (PNG has only 0)");
    if (body[12] > 1) fail("interlace method " + std::to_string(body[12]) + " (PNG has 0 and 1)");
    header_.interlaced = body[12] == 1;
  }

  // The IDAT chunks' data, joined, is a zlib stream (RFC 1950): CMF, FLG,
  // DEFLATE data, Adler-32. It must unpack to exactly the image's bytes.
  std::vector<uint8_t> inflate_image_data() const {
    if (compressed_.size() < 2) fail("the image data is " + std::to_string(compressed_.size()) + " bytes, too short for zlib");
    const int cmf = compressed_[0], flg = compressed_[1];
    if ((cmf & 15) != 8 || (cmf >> 4) > 7) fail("the image data is not deflate-compressed (zlib CMF " + std::to_string(cmf) + ")");
    if ((cmf * 256 + flg) % 31 != 0) fail("a zlib header whose check bits are wrong");
    if (flg & 32) fail("a zlib header asking for a preset dictionary, which PNG does not use");
    const std::size_t need = image_data_bytes(header_);
    const std::string size = std::to_string(header_.width) + "x" + std::to_string(header_.height);
    std::vector<uint8_t> raw;
    inflate(compressed_.data() + 2, compressed_.size() - 2, need, raw, path_ + ": PNG: image data",
            "as much as a " + size + " image of its kind holds");
    if (raw.size() != need)
      fail("the image data unpacks to " + std::to_string(raw.size()) + " bytes; a " + size +
           " image of its kind is " + std::to_string(need));
    return raw;
  }

  // Undoes the row filters (PNG spec 9.2) pass by pass and checks each
  // palette index. Indexed pixels are at most 8 bits, so every filter looks
  // one byte back: a = the byte to the left, b = the byte above, c = above-left.
  void check_palette_indices(const std::vector<uint8_t>& raw) const {
    std::size_t at = 0;
    int pass_number = 0;
    for (const Pass& pass : passes(header_)) {
      ++pass_number;
      if (pass.width == 0 || pass.height == 0) continue;
      const std::size_t n = row_bytes(header_, pass.width);
      std::vector<uint8_t> above(n, 0), row(n);
      for (uint32_t y = 0; y < pass.height; ++y) {
        const int filter = raw[at++];
        if (filter > 4) fail("row " + std::to_string(y) + " has filter type " + std::to_string(filter) + " (PNG has 0..4)");
        for (std::size_t i = 0; i < n; ++i) {
          const int a = i > 0 ? row[i - 1] : 0, b = above[i], c = i > 0 ? above[i - 1] : 0;
          int predicted = 0;
          if (filter == 1) predicted = a;
          if (filter == 2) predicted = b;
          if (filter == 3) predicted = (a + b) / 2;
          if (filter == 4) predicted = paeth(a, b, c);
          row[i] = static_cast<uint8_t>(raw[at + i] + predicted);
        }
        at += n;
        const int depth = header_.depth;
        for (uint32_t x = 0; x < pass.width; ++x) {
          const std::size_t bit = static_cast<std::size_t>(x) * depth;
          const int index = (row[bit / 8] >> (8 - depth - bit % 8)) & ((1 << depth) - 1);
          if (static_cast<std::size_t>(index) >= palette_entries_)
            fail("pixel " + std::to_string(x) + " of row " + std::to_string(y) +
                 (header_.interlaced ? " of pass " + std::to_string(pass_number) : std::string()) +
                 " is palette entry " + std::to_string(index) + ", but the PLTE chunk has " +
                 std::to_string(palette_entries_));
        }
        above.swap(row);
      }
    }
  }

  // The predictor of PNG spec 9.4: whichever of a, b, c is nearest a + b - c.
  static int paeth(int a, int b, int c) {
    const int p = a + b - c;
    const int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
    if (pa <= pb && pa <= pc) return a;
    return pb <= pc ? b : c;
  }

  const uint8_t* data_;
  std::size_t size_;
  const std::string& path_;
  int width_, height_;
  Header header_;
  std::size_t palette_entries_ = 0;
  std::vector<uint8_t> compressed_;  // the IDAT chunks' data, joined
};

}  // namespace

void check_png(const uint8_t* data, std::size_t size, const std::string& path, int width, int height) {
  PngCheck(data, size, path, width, height).run();
}
