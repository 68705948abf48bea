// gzip.cpp: gunzip = the gzip wrapper (RFC 1952) around an inflater for
// DEFLATE (RFC 1951). Not a paper component: it lets the Fashion-MNIST files
// of Debian's dataset-fashion-mnist be read as they are shipped, and lets the
// PNG check (png_check.cpp) validate an image's compressed data.
//
// Output is bounded before it is produced: the inflater is given the most
// bytes it may write and stops with an error at the first byte past it, so a
// small hostile file (a "zip bomb") cannot make it allocate gigabytes.
//
// DEFLATE in brief: a stream of blocks, each stored (raw bytes), or coded
// with fixed or with transmitted ("dynamic") Huffman codes. Codes are
// canonical: a code is fully given by the bit length of each symbol. Symbols
// 0..255 are bytes, 256 ends the block, 257..285 are lengths which, with a
// distance symbol after them, copy earlier output. Bits are read from the
// least significant end of each byte; Huffman codes arrive most significant
// bit first, everything else least significant bit first.
#include "datasets/gzip.h"

#include <array>
#include <stdexcept>

namespace {

class Inflater {
 public:
  Inflater(const uint8_t* data, std::size_t size, std::size_t max_out, const std::string& where,
           const std::string& limit_reason)
      : data_(data), size_(size), max_out_(max_out), where_(where), limit_reason_(limit_reason) {}

  // Decodes blocks until the last one; returns the bytes consumed.
  std::size_t run(std::vector<uint8_t>& out) {
    bool last = false;
    while (!last) {
      last = bits(1) == 1;
      const int type = bits(2);
      if (type == 0)
        stored_block(out);
      else if (type == 1)
        fixed_block(out);
      else if (type == 2)
        dynamic_block(out);
      else
        fail("block type 3 is reserved");
    }
    return pos_;  // bits left in the buffer belong to the last byte read
  }

 private:
  // A canonical Huffman code: how many codes have each length, and the
  // symbols in code order.
  struct Code {
    std::array<int, 16> count{};
    std::vector<int> symbols;
  };

  [[noreturn]] void fail(const std::string& what) const { throw std::runtime_error(where_ + ": " + what); }

  // Output may grow by n bytes only while it stays within max_out_.
  void make_room(const std::vector<uint8_t>& out, std::size_t n) const {
    if (out.size() > max_out_ || n > max_out_ - out.size()) {
      fail("unpacks to more than " + std::to_string(max_out_) + " bytes, " + limit_reason_);
    }
  }

  int bits(int n) {
    uint32_t value = bit_buffer_;
    while (bit_count_ < n) {
      if (pos_ >= size_) fail("truncated DEFLATE data");
      value |= static_cast<uint32_t>(data_[pos_++]) << bit_count_;
      bit_count_ += 8;
    }
    bit_buffer_ = value >> n;
    bit_count_ -= n;
    return static_cast<int>(value & ((1u << n) - 1));
  }

  Code build(const int* lengths, int n) {
    Code code;
    for (int s = 0; s < n; ++s) code.count[lengths[s]]++;
    code.count[0] = 0;
    // Codes of each length start where the shorter ones end; more codes than
    // a length can hold is an invalid code.
    int left = 1;
    for (int len = 1; len <= 15; ++len) {
      left = 2 * left - code.count[len];
      if (left < 0) fail("a Huffman code has too many codes");
    }
    std::array<int, 16> start{};
    for (int len = 1; len < 15; ++len) start[len + 1] = start[len] + code.count[len];
    code.symbols.assign(n, 0);
    for (int s = 0; s < n; ++s)
      if (lengths[s] != 0) code.symbols[start[lengths[s]]++] = s;
    return code;
  }

  // Reads one symbol: after each bit, the codes of that length are the range
  // [first, first + count); below it the code is complete.
  int decode(const Code& code) {
    int value = 0, first = 0, index = 0;
    for (int len = 1; len <= 15; ++len) {
      value |= bits(1);
      const int count = code.count[len];
      if (value - first < count) return code.symbols[index + value - first];
      index += count;
      first = (first + count) << 1;
      value <<= 1;
    }
    fail("a code that no Huffman code contains");
  }

  void stored_block(std::vector<uint8_t>& out) {
    bit_buffer_ = 0;  // the rest of the current byte is padding
    bit_count_ = 0;
    if (pos_ + 4 > size_) fail("truncated stored block");
    const int len = data_[pos_] | (data_[pos_ + 1] << 8);
    const int nlen = data_[pos_ + 2] | (data_[pos_ + 3] << 8);
    if (len != (~nlen & 0xffff)) fail("stored block length and its complement disagree");
    pos_ += 4;
    if (pos_ + len > size_) fail("truncated stored block");
    make_room(out, len);
    out.insert(out.end(), data_ + pos_, data_ + pos_ + len);
    pos_ += len;
  }

  // The fixed codes (RFC 1951 3.2.6) include the symbols the format forbids
  // (lengths 286-287, distances 30-31), so that codes() refuses them by name.
  void fixed_block(std::vector<uint8_t>& out) {
    int lengths[288 + 32];
    for (int s = 0; s < 144; ++s) lengths[s] = 8;
    for (int s = 144; s < 256; ++s) lengths[s] = 9;
    for (int s = 256; s < 280; ++s) lengths[s] = 7;
    for (int s = 280; s < 288; ++s) lengths[s] = 8;
    for (int s = 0; s < 32; ++s) lengths[288 + s] = 5;
    codes(out, build(lengths, 288), build(lengths + 288, 32));
  }

  void dynamic_block(std::vector<uint8_t>& out) {
    const int nlen = bits(5) + 257, ndist = bits(5) + 1, ncode = bits(4) + 4;
    if (nlen > 286 || ndist > 30) fail("bad dynamic block header");
    // The lengths of the code-length code come in this fixed order.
    static const int order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
    int lengths[286 + 30] = {};
    for (int i = 0; i < ncode; ++i) lengths[order[i]] = bits(3);
    const Code length_code = build(lengths, 19);
    // Literal/length and distance code lengths, run-length coded:
    // 16 repeats the previous length 3..6 times, 17 and 18 write 3..10 and
    // 11..138 zeros.
    int filled = 0;
    while (filled < nlen + ndist) {
      const int symbol = decode(length_code);
      if (symbol < 16) {
        lengths[filled++] = symbol;
        continue;
      }
      int value = 0, repeat;
      if (symbol == 16) {
        if (filled == 0) fail("a repeat with no length before it");
        value = lengths[filled - 1];
        repeat = 3 + bits(2);
      } else if (symbol == 17) {
        repeat = 3 + bits(3);
      } else {
        repeat = 11 + bits(7);
      }
      if (filled + repeat > nlen + ndist) fail("code lengths run past their end");
      while (repeat--) lengths[filled++] = value;
    }
    if (lengths[256] == 0) fail("the code has no end-of-block symbol");
    codes(out, build(lengths, nlen), build(lengths + nlen, ndist));
  }

  // The body of a Huffman-coded block.
  void codes(std::vector<uint8_t>& out, const Code& litlen, const Code& dist) {
    static const int length_base[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                        31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
    static const int length_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                         2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
    static const int dist_base[30] = {1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,    65,    97,    129,
                                      193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
    static const int dist_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6,
                                       6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
    for (;;) {
      int symbol = decode(litlen);
      if (symbol < 256) {
        make_room(out, 1);
        out.push_back(static_cast<uint8_t>(symbol));
      } else if (symbol == 256) {
        return;
      } else {
        symbol -= 257;
        if (symbol >= 29) fail("a length symbol out of range");
        const int length = length_base[symbol] + bits(length_extra[symbol]);
        const int d = decode(dist);
        if (d >= 30) fail("a distance symbol out of range");
        const std::size_t distance = static_cast<std::size_t>(dist_base[d] + bits(dist_extra[d]));
        if (distance > out.size()) fail("a distance reaching before the start of the data");
        make_room(out, length);
        // Byte by byte: a copy may overlap the bytes it writes.
        const std::size_t from = out.size() - distance;
        for (int k = 0; k < length; ++k) out.push_back(out[from + k]);
      }
    }
  }

  const uint8_t* data_;
  std::size_t size_;
  std::size_t max_out_;
  std::string where_;
  std::string limit_reason_;
  std::size_t pos_ = 0;
  uint32_t bit_buffer_ = 0;
  int bit_count_ = 0;
};

}  // namespace

uint32_t crc32(const uint8_t* data, std::size_t size) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < size; ++i) crc = table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

std::size_t inflate(const uint8_t* data, std::size_t size, std::size_t max_out, std::vector<uint8_t>& out,
                    const std::string& where, const std::string& limit_reason) {
  return Inflater(data, size, max_out, where, limit_reason).run(out);
}

std::vector<uint8_t> gunzip(const std::vector<uint8_t>& gz, const std::string& path, std::size_t max_bytes) {
  auto fail = [&](const std::string& what) { throw std::runtime_error(path + ": gzip: " + what); };
  auto little_endian_u32 = [&](std::size_t at) {
    return gz[at] | (gz[at + 1] << 8) | (gz[at + 2] << 16) | (uint32_t{gz[at + 3]} << 24);
  };
  // Header: 1f 8b, method 8 (deflate), flags, mtime (4), xfl, os.
  if (gz.size() < 18) fail("too short to be a gzip file");
  if (gz[0] != 0x1f || gz[1] != 0x8b) fail("not a gzip file");
  if (gz[2] != 8) fail("compression method " + std::to_string(gz[2]) + ", only deflate (8) is known");
  // The trailer, the file's last 8 bytes: CRC-32 and length (mod 2^32) of the
  // uncompressed data. The length bounds the output before inflating starts:
  // it must be possible (DEFLATE expands at most kDeflateMaxRatio times) and
  // within max_bytes; the data may then not unpack to a byte more.
  const uint32_t crc = little_endian_u32(gz.size() - 8);
  const uint32_t length = little_endian_u32(gz.size() - 4);
  const std::string truncated = " (is the file truncated?)";
  if (length > max_bytes) {
    fail("the trailer gives an unpacked length of " + std::to_string(length) + " bytes, more than the " +
         std::to_string(max_bytes) + " a file of its kind may hold" + truncated);
  }
  if (static_cast<uint64_t>(length) > kDeflateMaxRatio * static_cast<uint64_t>(gz.size())) {
    fail("the trailer gives an unpacked length of " + std::to_string(length) +
         " bytes, more than DEFLATE can unpack from " + std::to_string(gz.size()) + " bytes" + truncated);
  }
  const int flags = gz[3];
  std::size_t pos = 10;
  auto need = [&](std::size_t n) {
    if (n > gz.size() - 8 - pos) fail("truncated header");
  };
  if (flags & 4) {  // FEXTRA
    need(2);
    const std::size_t extra = gz[pos] | (gz[pos + 1] << 8);
    pos += 2;
    need(extra);
    pos += extra;
  }
  for (int bit : {8, 16}) {  // FNAME, FCOMMENT: zero-terminated
    if (flags & bit) {
      while (pos < gz.size() - 8 && gz[pos] != 0) ++pos;
      need(1);
      ++pos;
    }
  }
  if (flags & 2) {  // FHCRC
    need(2);
    pos += 2;
  }
  std::vector<uint8_t> out;
  pos += inflate(gz.data() + pos, gz.size() - 8 - pos, length, out, path + ": gzip",
                 "the length its trailer gives" + truncated);
  if (pos != gz.size() - 8) {
    fail(std::to_string(gz.size() - 8 - pos) +
         " bytes between the end of the compressed data and the trailer (a file of several gzip members "
         "is not read)");
  }
  if (crc != crc32(out.data(), out.size())) fail("CRC-32 mismatch: the data is damaged");
  if (length != static_cast<uint32_t>(out.size())) fail("length in the trailer disagrees with the data");
  return out;
}
