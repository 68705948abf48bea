// image_files.h: small JPEG and PNG files built byte by byte, for the image
// tests (test_image.cpp) and the fuzz seeds (tests/fuzz/make_seeds.cpp):
//   - a baseline greyscale JPEG whose every 8x8 block is flat grey, coded with
//     one-symbol Huffman tables, so each block is the two bits "00" (DC
//     difference 0, end of block), and each part can be broken on purpose;
//   - PNGs of any colour type whose image data is zlib-stored (uncompressed),
//     so the filtered rows are visible in the file.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/gzip.h"

// ---- JPEG (ITU T.81) ----

// A marker segment: ff, the marker, a 2-byte length counting itself, the body.
inline std::vector<uint8_t> jpeg_segment(uint8_t marker, const std::vector<uint8_t>& body) {
  const std::size_t length = body.size() + 2;
  std::vector<uint8_t> bytes(4 + body.size());
  bytes[0] = 0xff;
  bytes[1] = marker;
  bytes[2] = uint8_t(length >> 8);
  bytes[3] = uint8_t(length);
  std::copy(body.begin(), body.end(), bytes.begin() + 4);
  return bytes;
}

// A DHT segment of one table: class (0 DC, 1 AC) and destination, the 16
// code counts (lengths 1..16), the symbols.
inline std::vector<uint8_t> jpeg_huffman(int table_class, int destination, const std::vector<int>& counts,
                                         const std::vector<uint8_t>& symbols) {
  std::vector<uint8_t> body = {uint8_t(table_class << 4 | destination)};
  for (int len = 0; len < 16; ++len) body.push_back(uint8_t(len < int(counts.size()) ? counts[len] : 0));
  body.insert(body.end(), symbols.begin(), symbols.end());
  return jpeg_segment(0xc4, body);
}

// Entropy-coded data from bits written as '0'/'1', most significant first,
// padded with 1s to a whole byte, with every ff byte stuffed as ff 00.
inline std::vector<uint8_t> jpeg_scan_data(const std::string& bits) {
  std::string padded = bits;
  while (padded.size() % 8 != 0) padded += '1';
  std::vector<uint8_t> bytes;
  for (std::size_t i = 0; i < padded.size(); i += 8) {
    const uint8_t byte = uint8_t(std::stoi(padded.substr(i, 8), nullptr, 2));
    bytes.push_back(byte);
    if (byte == 0xff) bytes.push_back(0x00);
  }
  return bytes;
}

// The parts of a tiny baseline JPEG, in file order, each replaceable.
struct JpegParts {
  std::vector<uint8_t> dqt, sof, dht_dc, dht_ac, dri, sos, data;
  std::vector<uint8_t> bytes() const {
    std::vector<uint8_t> file = {0xff, 0xd8};
    for (const auto* part : {&dqt, &sof, &dht_dc, &dht_ac, &dri, &sos, &data}) file.insert(file.end(), part->begin(), part->end());
    file.insert(file.end(), {0xff, 0xd9});
    return file;
  }
};

// A width x height greyscale JPEG (sides multiples of 8) of flat grey 128:
// quantisation steps `step`, a DC table whose one symbol is category 0 (code
// "0"), an AC table whose one symbol is end-of-block (code "0"). With
// `restart`, every block is a restart interval of its own, ended by RST0..7.
inline JpegParts tiny_jpeg(int width, int height, bool restart = false, int step = 1) {
  JpegParts p;
  std::vector<uint8_t> quant = {0x00};
  quant.insert(quant.end(), 64, uint8_t(step));
  p.dqt = jpeg_segment(0xdb, quant);
  p.sof = jpeg_segment(0xc0, {8, uint8_t(height >> 8), uint8_t(height), uint8_t(width >> 8), uint8_t(width), 1,
                              1, 0x11, 0});
  p.dht_dc = jpeg_huffman(0, 0, {1}, {0x00});
  p.dht_ac = jpeg_huffman(1, 0, {1}, {0x00});
  p.sos = jpeg_segment(0xda, {1, 1, 0x00, 0, 63, 0});
  const int blocks = (width / 8) * (height / 8);
  if (restart) {
    p.dri = jpeg_segment(0xdd, {0, 1});
    for (int b = 0; b < blocks; ++b) {
      const std::vector<uint8_t> interval = jpeg_scan_data("00");
      p.data.insert(p.data.end(), interval.begin(), interval.end());
      if (b + 1 < blocks) p.data.insert(p.data.end(), {0xff, uint8_t(0xd0 + b % 8)});
    }
  } else {
    p.data = jpeg_scan_data(std::string(2 * blocks, '0'));
  }
  return p;
}

// ---- PNG (ISO/IEC 15948) ----

inline void append_big_endian(std::vector<uint8_t>& bytes, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(uint8_t(value >> shift));
}

// A chunk: length, type, data, CRC-32 of type and data.
inline std::vector<uint8_t> png_chunk(const std::string& type, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> chunk;
  append_big_endian(chunk, uint32_t(data.size()));
  chunk.insert(chunk.end(), type.begin(), type.end());
  chunk.insert(chunk.end(), data.begin(), data.end());
  append_big_endian(chunk, crc32(chunk.data() + 4, chunk.size() - 4));
  return chunk;
}

// A zlib stream (RFC 1950) of stored DEFLATE blocks holding `raw` as it is.
inline std::vector<uint8_t> zlib_stored(const std::vector<uint8_t>& raw) {
  std::vector<uint8_t> z = {0x78, 0x01};
  std::size_t at = 0;
  do {
    const std::size_t n = std::min<std::size_t>(raw.size() - at, 65535);
    const bool last = at + n == raw.size();
    z.insert(z.end(), {uint8_t(last ? 1 : 0), uint8_t(n), uint8_t(n >> 8), uint8_t(~n), uint8_t(~n >> 8)});
    z.insert(z.end(), raw.begin() + at, raw.begin() + at + n);
    at += n;
  } while (at < raw.size());
  uint32_t a = 1, b = 0;  // Adler-32
  for (uint8_t byte : raw) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  append_big_endian(z, b << 16 | a);
  return z;
}

inline std::vector<uint8_t> png_ihdr(uint32_t width, uint32_t height, int depth, int colour, int interlace = 0) {
  std::vector<uint8_t> data;
  append_big_endian(data, width);
  append_big_endian(data, height);
  data.insert(data.end(), {uint8_t(depth), uint8_t(colour), 0, 0, uint8_t(interlace)});
  return png_chunk("IHDR", data);
}

// A PNG of the given chunks: the signature, then each chunk in order.
inline std::vector<uint8_t> png_file(const std::vector<std::vector<uint8_t>>& chunks) {
  std::vector<uint8_t> file = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
  for (const auto& chunk : chunks) file.insert(file.end(), chunk.begin(), chunk.end());
  return file;
}

// A width x height 8-bit RGB PNG of the [H, W, C] pixels `hwc`, rows
// unfiltered (filter type 0), stored.
inline std::vector<uint8_t> rgb_png(int width, int height, const std::vector<uint8_t>& hwc) {
  std::vector<uint8_t> raw;
  for (int y = 0; y < height; ++y) {
    raw.push_back(0);
    raw.insert(raw.end(), hwc.begin() + y * width * 3, hwc.begin() + (y + 1) * width * 3);
  }
  return png_file({png_ihdr(width, height, 8, 2), png_chunk("IDAT", zlib_stored(raw)), png_chunk("IEND", {})});
}
