// gif.cpp: the GIF89a writer (gif.h). The format: W3C's "Graphics
// Interchange Format, Version 89a" (CompuServe, 1990), sections 17-26 and
// appendix F (variable-length-code LZW).
#include "tools/gif.h"

#include <array>
#include <stdexcept>
#include <unordered_map>

#include "train/atomic_file.h"

namespace {

constexpr int kCubeLevels = 6;  // 0, 51, 102, 153, 204, 255
constexpr int kCubeColors = kCubeLevels * kCubeLevels * kCubeLevels;  // 216
constexpr int kGreys = kGifPaletteSize - kCubeColors;                   // 40

int squared_distance(Color a, Color b) {
  const int dr = a.r - b.r, dg = a.g - b.g, db = a.b - b.b;
  return dr * dr + dg * dg + db * db;
}

void put_u16(std::string& out, int v) {
  out += static_cast<char>(v & 0xff);
  out += static_cast<char>((v >> 8) & 0xff);
}

// LZW codes packed least significant bit first into sub-blocks of at most
// 255 bytes, each preceded by its length (GIF89a section 15).
class CodeWriter {
 public:
  explicit CodeWriter(std::string& out) : out_(out) {}
  void put(int code, int size) {
    bits_ |= static_cast<uint32_t>(code) << count_;
    count_ += size;
    while (count_ >= 8) {
      byte(static_cast<uint8_t>(bits_ & 0xff));
      bits_ >>= 8;
      count_ -= 8;
    }
  }
  void finish() {
    if (count_ > 0) byte(static_cast<uint8_t>(bits_ & 0xff));
    flush_block();
    out_ += '\0';  // the block terminator
  }

 private:
  void byte(uint8_t b) {
    block_[length_++] = b;
    if (length_ == 255) flush_block();
  }
  void flush_block() {
    if (length_ == 0) return;
    out_ += static_cast<char>(length_);
    out_.append(reinterpret_cast<const char*>(block_.data()), length_);
    length_ = 0;
  }
  std::string& out_;
  uint32_t bits_ = 0;
  int count_ = 0;
  std::array<uint8_t, 255> block_{};
  int length_ = 0;
};

// The image's palette indices, LZW-coded with 8-bit roots: codes 0..255
// stand for themselves, 256 clears the table, 257 ends the data, and new
// strings take 258, 259, ... The code size starts at 9 bits and grows by
// one when the next new code no longer fits, up to 12 bits (4096 codes);
// then a clear code starts the table afresh. The decoder adds each string
// one code after the encoder does, so the encoder widens its codes when the
// code it is about to assign exceeds 2^size, not when it reaches it.
void lzw_encode(const std::vector<uint8_t>& indices, std::string& out) {
  constexpr int kRootBits = 8, kClear = 1 << kRootBits, kEnd = kClear + 1, kMaxCodes = 4096;
  out += static_cast<char>(kRootBits);
  CodeWriter writer(out);
  std::unordered_map<uint32_t, int> table;  // (prefix code << 8 | next index) -> code
  table.reserve(kMaxCodes);
  int size = kRootBits + 1, next = kEnd + 1;
  writer.put(kClear, size);
  if (indices.empty()) {
    writer.put(kEnd, size);
    writer.finish();
    return;
  }
  int prefix = indices[0];
  for (std::size_t i = 1; i < indices.size(); ++i) {
    const uint32_t key = static_cast<uint32_t>(prefix) << 8 | indices[i];
    const auto found = table.find(key);
    if (found != table.end()) {
      prefix = found->second;
      continue;
    }
    writer.put(prefix, size);
    table.emplace(key, next++);
    if (next > (1 << size) && size < 12) ++size;
    if (next == kMaxCodes) {
      writer.put(kClear, size);
      table.clear();
      size = kRootBits + 1;
      next = kEnd + 1;
    }
    prefix = indices[i];
  }
  writer.put(prefix, size);
  writer.put(kEnd, size);
  writer.finish();
}

}  // namespace

Color gif_palette_color(int index) {
  if (index < 0 || index >= kGifPaletteSize) throw std::out_of_range("gif palette index");
  if (index < kCubeColors) {
    const int r = index / 36, g = index / 6 % 6, b = index % 6;
    return {static_cast<uint8_t>(51 * r), static_cast<uint8_t>(51 * g), static_cast<uint8_t>(51 * b)};
  }
  // Greys 255 (k + 1) / 41 for k = 0..39, rounded: between the cube's
  // levels, never on one (51 j = 255 (k + 1) / 41 needs 41 | k + 1).
  const int k = index - kCubeColors;
  const uint8_t v = static_cast<uint8_t>((255 * (k + 1) + 20) / (kGreys + 1));
  return {v, v, v};
}

int gif_palette_index(Color c) {
  // The nearest cube colour is the nearest level on each channel; the
  // nearest grey is near the channels' mean. The better of the two wins.
  auto level = [](uint8_t v) { return (v + 25) / 51; };
  const int cube = level(c.r) * 36 + level(c.g) * 6 + level(c.b);
  int best = cube, best_distance = squared_distance(c, gif_palette_color(cube));
  const int mean = (c.r + c.g + c.b) / 3;
  const int k0 = mean * (kGreys + 1) / 255 - 1;
  for (int k = k0 - 1; k <= k0 + 1; ++k) {
    if (k < 0 || k >= kGreys) continue;
    const int d = squared_distance(c, gif_palette_color(kCubeColors + k));
    if (d < best_distance) {
      best = kCubeColors + k;
      best_distance = d;
    }
  }
  return best;
}

std::string encode_gif(const std::vector<Canvas>& frames, const std::vector<int>& delays_cs) {
  if (frames.empty()) throw std::invalid_argument("GIF: no frames");
  if (delays_cs.size() != frames.size()) throw std::invalid_argument("GIF: one delay per frame is needed");
  const int width = frames[0].width(), height = frames[0].height();
  if (width > 65535 || height > 65535) throw std::invalid_argument("GIF: frames larger than 65535 pixels");
  std::string out = "GIF89a";
  // Logical screen: the size, then a global colour table of 2^(7+1) entries
  // of 8-bit colour (packed field 1 111 0 111).
  put_u16(out, width);
  put_u16(out, height);
  out += static_cast<char>(0xF7);
  out += '\0';  // background colour index
  out += '\0';  // no pixel aspect ratio
  for (int i = 0; i < kGifPaletteSize; ++i) {
    const Color c = gif_palette_color(i);
    out += static_cast<char>(c.r);
    out += static_cast<char>(c.g);
    out += static_cast<char>(c.b);
  }
  // Loop forever: the NETSCAPE2.0 application extension, repeat count 0.
  out += std::string("\x21\xFF\x0BNETSCAPE2.0\x03\x01\x00\x00\x00", 19);
  std::vector<uint8_t> indices(static_cast<std::size_t>(width) * height);
  for (std::size_t f = 0; f < frames.size(); ++f) {
    const Canvas& frame = frames[f];
    if (frame.width() != width || frame.height() != height)
      throw std::invalid_argument("GIF: frame " + std::to_string(f + 1) + " differs in size from the first");
    // Graphic control: leave the frame in place (disposal 1), the delay.
    out += std::string("\x21\xF9\x04\x04", 4);
    put_u16(out, delays_cs[f]);
    out += std::string("\x00\x00", 2);
    // Image descriptor: the whole screen, no local colour table.
    out += '\x2C';
    put_u16(out, 0);
    put_u16(out, 0);
    put_u16(out, width);
    put_u16(out, height);
    out += '\0';
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x)
        indices[static_cast<std::size_t>(y) * width + x] = static_cast<uint8_t>(gif_palette_index(frame.get(x, y)));
    lzw_encode(indices, out);
  }
  out += '\x3B';  // trailer
  return out;
}

void save_gif(const std::string& path, const std::vector<Canvas>& frames, const std::vector<int>& delays_cs) {
  write_file_atomically(path, encode_gif(frames, delays_cs));
}
