// test_image.cpp: decode_image and the checks that run before stb_image sees
// a byte (image.cpp, jpeg_check.cpp, png_check.cpp), on files built byte by
// byte (image_files.h): good JPEGs and PNGs decode to their pixels, and each
// kind of hostile file that stb_image 2.27 mishandles is refused with the
// file's name and the field at fault.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "datasets/image.h"
#include "image_files.h"
#include "image_samples.h"
#include "test_files.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

namespace {

const std::string kPath = "img/cat/0001.jpg";

std::string decode_error(const std::vector<uint8_t>& bytes, int width, int height) {
  return error_of([&] { decode_image(bytes, kPath, width, height); });
}

// What stb_image makes of the bytes on its own, rearranged to [C, H, W].
std::vector<uint8_t> stb_alone(const std::vector<uint8_t>& bytes) {
  int w = 0, h = 0, n = 0;
  uint8_t* hwc = stbi_load_from_memory(bytes.data(), int(bytes.size()), &w, &h, &n, 3);
  REQUIRE(hwc != nullptr);
  std::vector<uint8_t> chw(std::size_t(3) * w * h);
  for (int i = 0; i < w * h; ++i)
    for (int c = 0; c < 3; ++c) chw[std::size_t(c) * w * h + i] = hwc[i * 3 + c];
  stbi_image_free(hwc);
  return chw;
}

// Bits of a DEFLATE stream, least significant first; Huffman codes are
// written most significant bit first (RFC 1951, 3.1.1).
struct DeflateBits {
  std::vector<uint8_t> bytes;
  int count = 0;
  void put(uint32_t value, int n) {
    for (int i = 0; i < n; ++i, ++count) {
      if (count % 8 == 0) bytes.push_back(0);
      bytes.back() |= ((value >> i) & 1) << (count % 8);
    }
  }
  void code(uint32_t code, int length) {
    for (int i = length - 1; i >= 0; --i) put(code >> i, 1);
  }
};

// A 1x1 8-bit grey PNG whose image data is `deflate`, in zlib's wrapper.
std::vector<uint8_t> grey_png_with_deflate(const std::vector<uint8_t>& deflate) {
  std::vector<uint8_t> z = {0x78, 0x01};
  z.insert(z.end(), deflate.begin(), deflate.end());
  z.insert(z.end(), {0, 0, 0, 1});
  return png_file({png_ihdr(1, 1, 8, 0), png_chunk("IDAT", z), png_chunk("IEND", {})});
}

// Rows of palette indices (one byte each) filtered with the given filter type
// per row (PNG spec 9.2): the byte minus its prediction from the left (a),
// above (b) and above-left (c) bytes.
std::vector<uint8_t> filtered_rows(const std::vector<std::vector<uint8_t>>& rows, const std::vector<int>& filters) {
  std::vector<uint8_t> raw;
  std::vector<uint8_t> above(rows[0].size(), 0);
  for (std::size_t y = 0; y < rows.size(); ++y) {
    raw.push_back(uint8_t(filters[y]));
    for (std::size_t i = 0; i < rows[y].size(); ++i) {
      const int a = i ? rows[y][i - 1] : 0, b = above[i], c = i ? above[i - 1] : 0;
      const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
      const int paeth = (pa <= pb && pa <= pc) ? a : pb <= pc ? b : c;
      const int predicted[5] = {0, a, b, (a + b) / 2, paeth};
      raw.push_back(uint8_t(rows[y][i] - predicted[filters[y]]));
    }
    above = rows[y];
  }
  return raw;
}

const std::vector<uint8_t> kPalette = {255, 0, 0, 0, 255, 0, 0, 0, 255};  // red, green, blue

}  // namespace

TEST_CASE("image: JPEGs from libjpeg-turbo and built by hand pass the checks and decode as stb_image decodes them") {
  for (const std::vector<uint8_t>* jpeg : {&kCjpegColour, &kCjpegRestart, &kCjpegGrey}) {
    const std::vector<uint8_t> chw = decode_image(*jpeg, kPath, 32, 32);
    REQUIRE(chw.size() == 3 * 32 * 32);
    CHECK(chw == stb_alone(*jpeg));
  }
  // Each MCU row of kCjpegRestart is a restart interval: removing a restart
  // marker leaves the first interval unended.
  std::vector<uint8_t> no_restart = kCjpegRestart;
  for (std::size_t i = 0; i + 1 < no_restart.size(); ++i)
    if (no_restart[i] == 0xff && no_restart[i + 1] == 0xd0) {
      no_restart.erase(no_restart.begin() + i, no_restart.begin() + i + 2);
      break;
    }
  CHECK(contains(decode_error(no_restart, 32, 32), "of scan data after the last block of restart interval 0"));
  // Flat grey blocks, with and without restart intervals: every pixel 128.
  for (bool restart : {false, true}) {
    CAPTURE(restart);
    const std::vector<uint8_t> chw = decode_image(tiny_jpeg(16, 8, restart).bytes(), kPath, 16, 8);
    CHECK(chw == std::vector<uint8_t>(3 * 16 * 8, 128));
  }
}

TEST_CASE("image: the first bytes say JPEG or PNG; anything else is refused, whatever its name") {
  std::string e = decode_error({'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0}, 32, 32);
  CHECK(contains(e, kPath + ": is neither a JPEG"));
  CHECK(contains(e, "it starts 47 49 46 38 39 61 01 00"));
  CHECK(contains(decode_error({'B', 'M', 0, 0}, 32, 32), "is neither a JPEG"));
  CHECK(contains(decode_error({}, 32, 32), "it is empty"));
  // A PNG in a file called .jpg is read as the PNG it is.
  const std::vector<uint8_t> red(2 * 2 * 3, 0);
  CHECK(decode_image(rgb_png(2, 2, red), kPath, 2, 2).size() == 12);
}

TEST_CASE("image: the size in the header is checked before anything is decoded") {
  CHECK(contains(decode_error(tiny_jpeg(16, 8).bytes(), 32, 32), kPath + ": is 16x8, expected 32x32"));
  CHECK(contains(decode_error(rgb_png(8, 8, std::vector<uint8_t>(8 * 8 * 3)), 32, 32), ": is 8x8, expected 32x32"));
  // Headers claiming a large image over a few bytes of data: refused for
  // their size, before the data is looked at or anything allocated for it.
  JpegParts large = tiny_jpeg(16, 8);
  large.sof = jpeg_segment(0xc0, {8, 0x0f, 0xa0, 0x0f, 0xa0, 1, 1, 0x11, 0});  // 4000x4000
  CHECK(contains(decode_error(large.bytes(), 32, 32), kPath + ": is 4000x4000, expected 32x32"));
  const std::vector<uint8_t> large_png =
      png_file({png_ihdr(100000, 100000, 8, 2), png_chunk("IDAT", zlib_stored({0})), png_chunk("IEND", {})});
  CHECK(contains(decode_error(large_png, 32, 32), kPath + ": is 100000x100000, expected 32x32"));
  CHECK(contains(decode_error(tiny_jpeg(16, 8).bytes(), 0, 8), "each side must be 1..4096"));
  std::vector<uint8_t> huge = tiny_jpeg(16, 8).bytes();
  huge.resize(max_image_file_bytes(16, 8) + 1);
  CHECK(contains(decode_error(huge, 16, 8), "bytes, more than the"));
}

TEST_CASE("JPEG: a DHT table whose counts sum past 256 is refused before stb_image writes past its tables") {
  // The 9-byte file that makes stb_image 2.27 write out of bounds: a DHT
  // segment claiming 255 bytes whose counts (ff ff, then the zeros stb reads
  // past the end) sum to 510.
  std::string e = decode_error({0xff, 0xd8, 0xff, 0xc4, 0x00, 0xff, 0x00, 0xff, 0xff}, 32, 32);
  CHECK(contains(e, kPath + ": JPEG: the segment of marker ff c4 at byte 2 claims 255 bytes"));
  // The same fault in a segment of the right length: 2 codes of 15 bits and
  // 255 of 16 fit their lengths, but make 257 symbols.
  std::vector<int> counts(16, 0);
  counts[14] = 2;
  counts[15] = 255;
  JpegParts p = tiny_jpeg(16, 8);
  p.dht_dc = jpeg_huffman(0, 0, counts, std::vector<uint8_t>(257, 0));
  e = decode_error(p.bytes(), 16, 8);
  CHECK(contains(e, kPath + ": JPEG: a Huffman table whose 16 code counts sum to 257, past the 256"));
}

TEST_CASE("JPEG: Huffman codes that do not fit their length are refused") {
  JpegParts p = tiny_jpeg(16, 8);
  p.dht_ac = jpeg_huffman(1, 0, {3}, {0, 1, 2});
  CHECK(contains(decode_error(p.bytes(), 16, 8), "JPEG: a Huffman table with more codes of length 1 than 1 bits hold"));
  p.dht_ac = jpeg_huffman(2, 0, {1}, {0});
  CHECK(contains(decode_error(p.bytes(), 16, 8), "a DHT table of class 2, destination 0"));
}

TEST_CASE("JPEG: a scan using a table that no segment defined is refused") {
  JpegParts p = tiny_jpeg(16, 8);
  p.sos = jpeg_segment(0xda, {1, 1, 0x01, 0, 63, 0});  // AC table 1
  CHECK(contains(decode_error(p.bytes(), 16, 8), "JPEG: a scan uses Huffman tables DC 0, AC 1, which no DHT segment"));
  p = tiny_jpeg(16, 8);
  p.dqt.clear();
  CHECK(contains(decode_error(p.bytes(), 16, 8), "a scan uses quantisation table 0, which no DQT segment"));
  p = tiny_jpeg(16, 8);
  p.dht_dc.clear();
  CHECK(contains(decode_error(p.bytes(), 16, 8), "a scan uses Huffman tables DC 0, AC 0, which no DHT segment"));
}

TEST_CASE("JPEG: scan data that ends before the last block is refused") {
  // 64 blocks of 2 bits: 16 bytes; half of them is 32 blocks short.
  JpegParts p = tiny_jpeg(64, 64);
  REQUIRE(p.data.size() == 16);
  p.data.resize(8);
  CHECK(contains(decode_error(p.bytes(), 64, 64), kPath + ": JPEG: the scan data ends before its last block (8 bytes)"));
  // A block's bits cut inside a restart interval.
  p = tiny_jpeg(16, 8, true);
  p.data[0] = 0x7f;  // "0" then padding: the end-of-block code is missing
  CHECK(contains(decode_error(p.bytes(), 16, 8), "the scan data ends before its last block"));
}

TEST_CASE("JPEG: junk after the last block, or a restart interval not ended by a restart marker, is refused") {
  JpegParts p = tiny_jpeg(16, 8);
  p.data.insert(p.data.end(), {0x12, 0x34});
  CHECK(contains(decode_error(p.bytes(), 16, 8), "JPEG: 2 bytes of scan data after the last block of the scan"));
  p = tiny_jpeg(16, 8, true);  // 3f ff d0 3f
  REQUIRE(p.data.size() == 4);
  p.data[2] = 0xd9;
  CHECK(contains(decode_error(p.bytes(), 16, 8), "restart interval 0 ends in marker ff d9, not a restart marker"));
  p = tiny_jpeg(16, 8, true);
  p.data.insert(p.data.begin() + 1, 0x00);
  CHECK(contains(decode_error(p.bytes(), 16, 8), "1 bytes of scan data after the last block of restart interval 0"));
  p = tiny_jpeg(16, 8, true);
  p.data.insert(p.data.end(), {0xff, 0xd1});
  CHECK(contains(decode_error(p.bytes(), 16, 8), "a restart marker after the scan's last block"));
}

TEST_CASE("JPEG: a component that no scan covers is refused") {
  JpegParts p = tiny_jpeg(16, 8);
  p.sof = jpeg_segment(0xc0, {8, 0, 8, 0, 16, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0});
  CHECK(contains(decode_error(p.bytes(), 16, 8), "JPEG: component 2 is in no scan, so its pixels would be undefined"));
  // Two components of one identifier: the scan reaches only the first.
  p.sof = jpeg_segment(0xc0, {8, 0, 8, 0, 16, 3, 1, 0x11, 0, 1, 0x11, 0, 1, 0x11, 0});
  p.sos = jpeg_segment(0xda, {3, 1, 0x00, 1, 0x00, 1, 0x00, 0, 63, 0});
  p.data = jpeg_scan_data(std::string(2 * 2 * 3, '0'));
  CHECK(contains(decode_error(p.bytes(), 16, 8), "component 1 is in no scan"));
}

TEST_CASE("JPEG: a DC coefficient past 16 bits, or a quantisation step of 0, is refused") {
  // DC category 11, difference +2047 (eleven 1 bits), step 64: 131,008.
  JpegParts p = tiny_jpeg(16, 8, false, 64);
  p.dht_dc = jpeg_huffman(0, 0, {1}, {11});
  p.data = jpeg_scan_data("0" + std::string(11, '1') + "0" + "0" + std::string(11, '0') + "0");
  CHECK(contains(decode_error(p.bytes(), 16, 8), "JPEG: a DC coefficient of 131008, outside 16 bits"));
  // Negative differences (EXTEND, T.81 F.2.2.1: eleven 0 bits are -2047):
  // -32,752 fits 16 bits after one block, -65,504 after two does not.
  p.dqt = tiny_jpeg(16, 8, false, 16).dqt;
  p.data = jpeg_scan_data("0" + std::string(11, '0') + "0" + "0" + std::string(11, '0') + "0");
  CHECK(contains(decode_error(p.bytes(), 16, 8), "JPEG: a DC coefficient of -65504, outside 16 bits"));
  // Steps of 1 keep it within 16 bits: it decodes.
  p.data = jpeg_scan_data("0" + std::string(11, '1') + "0" + "0" + std::string(11, '0') + "0");
  p.dqt = tiny_jpeg(16, 8).dqt;
  CHECK(decode_image(p.bytes(), kPath, 16, 8).size() == 3 * 16 * 8);
  p.dht_dc = jpeg_huffman(0, 0, {1}, {12});
  CHECK(contains(decode_error(p.bytes(), 16, 8), "a DC difference of category 12 (8-bit JPEG has 0..11)"));
  p = tiny_jpeg(16, 8, false, 0);
  CHECK(contains(decode_error(p.bytes(), 16, 8), "JPEG: a quantisation table with a step of 0"));
}

TEST_CASE("JPEG: progressive and other kinds, stray markers and truncated segments are refused") {
  JpegParts p = tiny_jpeg(16, 8);
  p.sof[1] = 0xc2;
  CHECK(contains(decode_error(p.bytes(), 16, 8), "JPEG: a progressive JPEG (SOF2)"));
  p.sof[1] = 0xc3;
  CHECK(contains(decode_error(p.bytes(), 16, 8), "marker ff c3 at byte"));
  p = tiny_jpeg(16, 8);
  p.sof.insert(p.sof.begin(), 0x00);
  CHECK(contains(decode_error(p.bytes(), 16, 8), "is 00 where a marker should start"));
  std::vector<uint8_t> cut = tiny_jpeg(16, 8).bytes();
  cut.resize(20);  // inside the DQT segment
  CHECK(contains(decode_error(cut, 16, 8), "JPEG: the segment of marker ff db at byte 2 claims 67 bytes"));
  cut = tiny_jpeg(16, 8).bytes();
  cut.resize(cut.size() - 2);  // no EOI
  CHECK(contains(decode_error(cut, 16, 8), "the scan data runs to the end of the file, with no marker after it"));
  p = tiny_jpeg(16, 8);
  std::swap(p.sof, p.sos);
  CHECK(contains(decode_error(p.bytes(), 16, 8), "a scan (SOS) before the frame header"));
}

TEST_CASE("PNG: RGB, palette (every row filter) and interlaced images decode to their pixels") {
  std::vector<uint8_t> hwc(4 * 3 * 3);
  for (std::size_t i = 0; i < hwc.size(); ++i) hwc[i] = uint8_t(i * 20);
  std::vector<uint8_t> chw = decode_image(rgb_png(4, 3, hwc), kPath, 4, 3);
  CHECK(chw[0] == hwc[0]);                // red of pixel (0, 0)
  CHECK(chw[2 * 12 + 5] == hwc[5 * 3 + 2]);  // blue of pixel (1, 1)

  // Palette indices, one row per filter type None, Sub, Up, Average, Paeth.
  const std::vector<std::vector<uint8_t>> rows = {{0, 1, 2}, {2, 2, 1}, {1, 0, 0}, {2, 1, 2}, {0, 2, 1}};
  const std::vector<uint8_t> raw = filtered_rows(rows, {0, 1, 2, 3, 4});
  chw = decode_image(png_file({png_ihdr(3, 5, 8, 3), png_chunk("PLTE", kPalette), png_chunk("IDAT", zlib_stored(raw)),
                               png_chunk("IEND", {})}),
                     kPath, 3, 5);
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 3; ++x)
      for (int c = 0; c < 3; ++c) CHECK(chw[c * 15 + y * 3 + x] == kPalette[rows[y][x] * 3 + c]);

  // Adam7 on 3x3: passes 1, 4, 5, 6, 7 hold 1x1, 1x1, 2x1, 1x2, 3x1 pixels;
  // each pixel (x, y) has the grey value 10 * (3y + x).
  const std::vector<std::vector<std::pair<int, int>>> passes = {
      {{0, 0}}, {{2, 0}}, {{0, 2}, {2, 2}}, {{1, 0}, {1, 2}}, {{0, 1}, {1, 1}, {2, 1}}};
  const std::vector<int> widths = {1, 1, 2, 1, 3};
  std::vector<uint8_t> interlaced;
  for (std::size_t p = 0; p < passes.size(); ++p)
    for (std::size_t i = 0; i < passes[p].size(); ++i) {
      if (i % widths[p] == 0) interlaced.push_back(0);
      interlaced.push_back(uint8_t(10 * (3 * passes[p][i].second + passes[p][i].first)));
    }
  chw = decode_image(png_file({png_ihdr(3, 3, 8, 0, 1), png_chunk("IDAT", zlib_stored(interlaced)), png_chunk("IEND", {})}),
                     kPath, 3, 3);
  for (int i = 0; i < 9; ++i) CHECK(chw[i] == 10 * i);
}

TEST_CASE("PNG: a chunk claiming more bytes than the file holds is refused") {
  std::vector<uint8_t> file = rgb_png(2, 2, std::vector<uint8_t>(12, 7));
  const std::size_t idat = 8 + 25;  // after the signature and IHDR
  file[idat] = 0x7f;
  file[idat + 1] = file[idat + 2] = file[idat + 3] = 0xff;
  CHECK(contains(decode_error(file, 2, 2),
                 kPath + ": PNG: chunk 'IDAT' at byte 33 claims 2147483647 bytes of data, past the end of the file"));
  file.resize(idat + 4);
  CHECK(contains(decode_error(file, 2, 2), "the file ends inside the chunk at byte 33 (no IEND chunk)"));
}

TEST_CASE("PNG: image data that unpacks to more or fewer bytes than the image holds is refused") {
  // 2x2 RGB: two rows of a filter byte and 6 bytes, 14 in all.
  std::vector<uint8_t> raw(14, 0);
  raw.push_back(0);
  auto png = [&] { return png_file({png_ihdr(2, 2, 8, 2), png_chunk("IDAT", zlib_stored(raw)), png_chunk("IEND", {})}); };
  CHECK(contains(decode_error(png(), 2, 2),
                 "PNG: image data: unpacks to more than 14 bytes, as much as a 2x2 image of its kind holds"));
  raw.resize(13);
  CHECK(contains(decode_error(png(), 2, 2), "PNG: the image data unpacks to 13 bytes; a 2x2 image of its kind is 14"));
}

TEST_CASE("PNG: DEFLATE symbols that the format forbids are refused") {
  // Fixed Huffman codes (RFC 1951 3.2.6): literal 'A' (8 bits, 0x30 + 65),
  // length symbol 257 (7 bits, 1), then distance symbol 30, which stb_image
  // 2.27 takes as distance 0 and copies from bytes it has not written.
  DeflateBits bits;
  bits.put(1, 1);  // last block
  bits.put(1, 2);  // fixed codes
  bits.code(0x30 + 'A', 8);
  bits.code(1, 7);
  bits.code(30, 5);
  CHECK(contains(decode_error(grey_png_with_deflate(bits.bytes), 1, 1),
                 kPath + ": PNG: image data: a distance symbol out of range"));
  // Length symbol 286 (8 bits, 0xc0 + 6): no length at all.
  DeflateBits length_286;
  length_286.put(1, 1);
  length_286.put(1, 2);
  length_286.code(0x30 + 'A', 8);
  length_286.code(0xc0 + 6, 8);
  CHECK(contains(decode_error(grey_png_with_deflate(length_286.bytes), 1, 1), "a length symbol out of range"));
}

TEST_CASE("PNG: a pixel naming a palette entry past the PLTE chunk is refused") {
  // Index 3 of a 3-entry palette, written through the Paeth filter, so only
  // the unfiltered byte shows it.
  const std::vector<std::vector<uint8_t>> rows = {{0, 1, 2}, {2, 3, 1}};
  const std::vector<uint8_t> raw = filtered_rows(rows, {0, 4});
  const std::vector<uint8_t> file = png_file(
      {png_ihdr(3, 2, 8, 3), png_chunk("PLTE", kPalette), png_chunk("IDAT", zlib_stored(raw)), png_chunk("IEND", {})});
  CHECK(contains(decode_error(file, 3, 2), kPath + ": PNG: pixel 1 of row 1 is palette entry 3, but the PLTE chunk has 3"));
  // 2-bit indices, four to a byte: pixel 2 of row 0 is index 3.
  const std::vector<uint8_t> packed = {0, 0x1c, 0, 0x00};
  const std::vector<uint8_t> low_depth = png_file(
      {png_ihdr(3, 2, 2, 3), png_chunk("PLTE", kPalette), png_chunk("IDAT", zlib_stored(packed)), png_chunk("IEND", {})});
  CHECK(contains(decode_error(low_depth, 3, 2), "pixel 2 of row 0 is palette entry 3, but the PLTE chunk has 3"));
}

TEST_CASE("PNG: a bad or missing header, palette or image data is refused") {
  const std::vector<uint8_t> idat = png_chunk("IDAT", zlib_stored(std::vector<uint8_t>(2 * 3, 0)));
  const std::vector<uint8_t> iend = png_chunk("IEND", {});
  CHECK(contains(decode_error(png_file({png_chunk("tEXt", {'a', 0, 'b'}), png_ihdr(2, 2, 8, 0), idat, iend}), 2, 2),
                 "PNG: the first chunk is 'tEXt', not IHDR"));
  CHECK(contains(decode_error(png_file({png_ihdr(2, 2, 4, 2), idat, iend}), 2, 2),
                 "PNG: bit depth 4 with colour type 2 (PNG spec table 11.1 does not allow it)"));
  CHECK(contains(decode_error(png_file({png_ihdr(2, 2, 8, 5), idat, iend}), 2, 2), "colour type 5"));
  CHECK(contains(decode_error(png_file({png_ihdr(2, 2, 8, 0, 2), idat, iend}), 2, 2), "interlace method 2"));
  CHECK(contains(decode_error(png_file({png_ihdr(2, 2, 8, 0), iend}), 2, 2), "no IDAT chunk"));
  CHECK(contains(decode_error(png_file({png_ihdr(2, 2, 8, 3), idat, iend}), 2, 2), "an indexed-colour image without a PLTE chunk"));
  CHECK(contains(decode_error(png_file({png_ihdr(2, 2, 8, 3), png_chunk("PLTE", {1, 2}), idat, iend}), 2, 2),
                 "a PLTE chunk of 2 bytes"));
  std::vector<uint8_t> dictionary = zlib_stored(std::vector<uint8_t>(6, 0));
  dictionary[1] = 0x20;  // FDICT; 0x7820 is a multiple of 31, so the check bits hold
  CHECK(contains(decode_error(png_file({png_ihdr(2, 2, 8, 0), png_chunk("IDAT", dictionary), iend}), 2, 2),
                 "a zlib header asking for a preset dictionary"));
}
