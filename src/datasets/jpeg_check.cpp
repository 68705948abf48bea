// jpeg_check.cpp: what a JPEG file (ITU T.81) must satisfy before stb_image
// 2.27 may decode it. The check walks every marker segment and the scans'
// Huffman-coded data the way that version's decoder will, and refuses each
// file on which it would go wrong:
//
//   - a DHT table whose 16 code counts sum past 256, or whose codes of some
//     length do not fit: stb_image writes the code lengths into a 257-byte
//     array and the symbols into a 256-byte one before it looks (an
//     out-of-bounds write from a 9-byte file; refused from 2.28 on);
//   - a scan that uses a Huffman or quantisation table no segment defined:
//     2.27 does not clear its decoder state, so it would decode with
//     uninitialised tables (an index far out of bounds; cleared from 2.28);
//   - a scan whose data ends before its last block: at the first marker,
//     2.27's bit reader stops filling and its bit count goes negative, which
//     makes later shifts undefined (2.28 returns zeros instead);
//   - a DC coefficient that does not fit 16 bits: its product with the
//     quantisation step overflows an int (checked from 2.28 on; a step of 0,
//     which T.81 does not allow, is refused too);
//   - a restart interval not ended by a restart marker, junk after an
//     interval, or a component that no scan covers: stb_image stops or
//     skips, and the blocks it never decoded come out of uninitialised
//     memory (in every release so far).
//
// Only baseline and extended sequential Huffman JPEGs (SOF0, SOF1: every file
// of data/fetch_cifar10.sh is SOF0) are checked, so only they are accepted: a
// progressive one (SOF2) is refused, and stb_image decodes no other kind.
// The walk is stricter than the decoder (no junk between segments, an EOI
// marker at the end), never looser.
#include <algorithm>
#include <array>
#include <cstdio>
#include <stdexcept>
#include <vector>

#include "datasets/image.h"

namespace {

// A Huffman table as a DHT segment defines it (T.81 B.2.4.2): how many codes
// have each length 1..16, then the symbols in code order.
struct HuffmanTable {
  bool defined = false;
  std::array<int, 17> count{};  // count[len], len 1..16
  std::array<uint8_t, 256> symbols{};
};

// A quantisation table (T.81 B.2.4.1); only its first, DC, step is needed.
struct QuantTable {
  bool defined = false;
  int dc_step = 0;
};

// A frame component (T.81 B.2.2) and where its blocks are.
struct Component {
  int id = 0, h = 1, v = 1, tq = 0;  // identifier, sampling factors, quantisation table
  int blocks_x = 0, blocks_y = 0;    // its blocks when a scan holds it alone
  bool scanned = false;
};

// A marker found in the file: its code (the byte after 0xff) and where what
// follows it starts.
struct Marker {
  int code;
  std::size_t start, next;  // position of its first 0xff, and just after its code
};

bool is_restart(int code) { return code >= 0xd0 && code <= 0xd7; }

std::string hex(int byte) {
  char text[8];
  std::snprintf(text, sizeof text, "%02x", byte);
  return text;
}

int big_endian_u16(const uint8_t* p) { return (p[0] << 8) | p[1]; }

class JpegCheck {
 public:
  JpegCheck(const uint8_t* data, std::size_t size, const std::string& path, int width, int height)
      : data_(data), size_(size), path_(path), width_(width), height_(height) {}

  void run() {
    std::size_t pos = 2;  // after SOI, ff d8
    for (;;) {
      const Marker marker = marker_at(pos);
      const int code = marker.code;
      if (code == 0xd9) break;  // EOI: stb_image stops here
      if (code == 0xda) {
        if (components_.empty()) fail("a scan (SOS) before the frame header");
        pos = scan(marker);
        continue;
      }
      std::size_t length = 0;
      const uint8_t* body = segment(marker, length);
      pos = marker.next + 2 + length;
      if (code == 0xc4) {
        define_huffman(body, length);
      } else if (code == 0xdb) {
        define_quantisation(body, length);
      } else if (code == 0xdd) {
        if (length != 2) fail("a DRI segment of " + std::to_string(length + 2) + " bytes, not 4");
        restart_interval_ = big_endian_u16(body);
      } else if (code == 0xc0 || code == 0xc1) {
        if (!components_.empty()) fail("a second frame header (SOF)");
        frame(body, length);
      } else if (code == 0xc2) {
        fail("a progressive JPEG (SOF2): only baseline JPEGs are accepted; save it as baseline");
      } else if (!((code >= 0xe0 && code <= 0xef) || code == 0xfe)) {  // APPn and COM are skipped
        fail("marker ff " + hex(code) + " at byte " + std::to_string(marker.start) +
             ", which a baseline JPEG does not use here");
      }
    }
    if (components_.empty()) fail("no frame header (SOF0 or SOF1)");
    for (const Component& c : components_)
      if (!c.scanned) fail("component " + std::to_string(c.id) + " is in no scan, so its pixels would be undefined");
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw std::runtime_error(path_ + ": JPEG: " + what); }

  // The marker at pos: 0xff, any number of 0xff fill bytes, its code.
  Marker marker_at(std::size_t pos) const {
    if (pos >= size_) fail("no EOI marker: the file ends at byte " + std::to_string(size_));
    if (data_[pos] != 0xff)
      fail("byte " + std::to_string(pos) + " is " + hex(data_[pos]) + " where a marker should start");
    std::size_t at = pos + 1;
    while (at < size_ && data_[at] == 0xff) ++at;
    if (at >= size_) fail("the file ends inside a marker");
    if (data_[at] == 0x00 || data_[at] == 0xd8) fail("marker ff " + hex(data_[at]) + " at byte " + std::to_string(pos));
    return {data_[at], pos, at + 1};
  }

  // A marker segment's body (after its 2-byte length, which counts itself).
  const uint8_t* segment(const Marker& marker, std::size_t& length) const {
    if (size_ - marker.next < 2) fail("the file ends inside the segment of marker ff " + hex(marker.code));
    const int stated = big_endian_u16(data_ + marker.next);
    if (stated < 2 || static_cast<std::size_t>(stated - 2) > size_ - marker.next - 2)
      fail("the segment of marker ff " + hex(marker.code) + " at byte " + std::to_string(marker.start) +
           " claims " + std::to_string(stated) + " bytes; " + std::to_string(size_ - marker.next) + " are left");
    length = static_cast<std::size_t>(stated - 2);
    return data_ + marker.next + 2;
  }

  // DHT: one or more tables, each a class/destination byte, 16 counts, the
  // symbols; they must fill the segment exactly.
  void define_huffman(const uint8_t* body, std::size_t length) {
    std::size_t at = 0;
    while (at < length) {
      if (length - at < 17) fail("a DHT segment ends inside a table's 16 code counts");
      const int table_class = body[at] >> 4, destination = body[at] & 15;
      if (table_class > 1 || destination > 3)
        fail("a DHT table of class " + std::to_string(table_class) + ", destination " + std::to_string(destination) +
             " (at most 1 and 3)");
      HuffmanTable table;
      table.defined = true;
      int total = 0;
      for (int len = 1; len <= 16; ++len) total += table.count[len] = body[at + len];
      if (total > 256)
        fail("a Huffman table whose 16 code counts sum to " + std::to_string(total) +
             ", past the 256 symbols a table holds");
      // Canonical codes (T.81 C.2): those of each length follow the shorter
      // ones; the last of a length must fit in that many bits.
      unsigned code = 0;
      for (int len = 1; len <= 16; ++len) {
        code += table.count[len];
        if (table.count[len] > 0 && code - 1 >= (1u << len))
          fail("a Huffman table with more codes of length " + std::to_string(len) + " than " +
               std::to_string(len) + " bits hold");
        code <<= 1;
      }
      if (length - at - 17 < static_cast<std::size_t>(total)) fail("a DHT segment ends inside a table's symbols");
      for (int i = 0; i < total; ++i) table.symbols[i] = body[at + 17 + i];
      (table_class == 0 ? dc_tables_ : ac_tables_)[destination] = table;
      at += 17 + total;
    }
  }

  // DQT: one or more tables of 64 steps, 8 or 16 bits each.
  void define_quantisation(const uint8_t* body, std::size_t length) {
    std::size_t at = 0;
    while (at < length) {
      const int precision = body[at] >> 4, destination = body[at] & 15;
      if (precision > 1 || destination > 3)
        fail("a DQT table of precision " + std::to_string(precision) + ", destination " +
             std::to_string(destination) + " (at most 1 and 3)");
      const std::size_t step_bytes = precision ? 2 : 1;
      if (length - at < 1 + 64 * step_bytes) fail("a DQT segment ends inside a table");
      for (int i = 0; i < 64; ++i) {
        const uint8_t* step = body + at + 1 + i * step_bytes;
        const int value = precision ? big_endian_u16(step) : step[0];
        if (value == 0) fail("a quantisation table with a step of 0");
        if (i == 0) quant_tables_[destination] = {true, value};
      }
      at += 1 + 64 * step_bytes;
    }
  }

  // SOF0/SOF1: precision, height, width, components (T.81 B.2.2).
  void frame(const uint8_t* body, std::size_t length) {
    if (length < 6) fail("a frame header of " + std::to_string(length + 2) + " bytes");
    if (body[0] != 8) fail("samples of " + std::to_string(body[0]) + " bits; only 8 are read");
    const int height = big_endian_u16(body + 1), width = big_endian_u16(body + 3), count = body[5];
    if (width != width_ || height != height_) refuse_image_size(path_, width, height, width_, height_);
    if (count != 1 && count != 3 && count != 4) fail(std::to_string(count) + " components (1, 3 or 4 are read)");
    if (length != 6 + 3 * static_cast<std::size_t>(count)) fail("a frame header whose length disagrees with its components");
    int h_max = 1, v_max = 1;
    for (int i = 0; i < count; ++i) {
      Component c;
      c.id = body[6 + 3 * i];
      c.h = body[7 + 3 * i] >> 4;
      c.v = body[7 + 3 * i] & 15;
      c.tq = body[8 + 3 * i];
      if (c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4)
        fail("component " + std::to_string(c.id) + " has sampling factors " + std::to_string(c.h) + "x" +
             std::to_string(c.v) + " (1..4 each)");
      if (c.tq > 3) fail("component " + std::to_string(c.id) + " uses quantisation table " + std::to_string(c.tq));
      h_max = std::max(h_max, c.h);
      v_max = std::max(v_max, c.v);
      components_.push_back(c);
    }
    // The block grid, as stb_image lays it out: whole MCUs of h_max x v_max
    // blocks for interleaved scans; for a component alone, its own pixels
    // (the image scaled by h / h_max, v / v_max) in whole blocks.
    mcus_x_ = (width + 8 * h_max - 1) / (8 * h_max);
    mcus_y_ = (height + 8 * v_max - 1) / (8 * v_max);
    for (Component& c : components_) {
      if (h_max % c.h != 0 || v_max % c.v != 0)
        fail("component " + std::to_string(c.id) + " is subsampled by a fraction");
      c.blocks_x = ((width * c.h + h_max - 1) / h_max + 7) / 8;
      c.blocks_y = ((height * c.v + v_max - 1) / v_max + 7) / 8;
    }
  }

  // SOS and its entropy-coded data; returns where the marker after it starts.
  std::size_t scan(const Marker& sos) {
    std::size_t length = 0;
    const uint8_t* body = segment(sos, length);
    const std::size_t count = length > 0 ? body[0] : 0;
    if (count < 1 || count > 4 || count > components_.size())
      fail("a scan of " + std::to_string(count) + " components; the frame has " + std::to_string(components_.size()));
    if (length != 4 + 2 * count) fail("a scan header whose length disagrees with its components");
    std::vector<int> order;  // the frame component of each scan component
    for (std::size_t i = 0; i < count; ++i) {
      const int id = body[1 + 2 * i], dc = body[2 + 2 * i] >> 4, ac = body[2 + 2 * i] & 15;
      // The first frame component of that identifier, as stb_image looks it up.
      std::size_t which = 0;
      while (which < components_.size() && components_[which].id != id) ++which;
      if (which == components_.size()) fail("a scan names component " + std::to_string(id) + ", not in the frame");
      if (dc > 3 || ac > 3 || !dc_tables_[dc].defined || !ac_tables_[ac].defined)
        fail("a scan uses Huffman tables DC " + std::to_string(dc) + ", AC " + std::to_string(ac) +
             ", which no DHT segment before it defined");
      if (!quant_tables_[components_[which].tq].defined)
        fail("a scan uses quantisation table " + std::to_string(components_[which].tq) +
             ", which no DQT segment before it defined");
      components_[which].scanned = true;
      scan_dc_[i] = dc;
      scan_ac_[i] = ac;
      order.push_back(static_cast<int>(which));
    }
    const int spectral_start = body[1 + 2 * count], approximation = body[3 + 2 * count];
    if (spectral_start != 0 || approximation != 0) fail("a scan header of a progressive JPEG in a baseline one");

    // Units: MCUs of an interleaved scan, blocks of a scan of one component.
    const Component& only = components_[order[0]];
    const long units = count == 1 ? long{only.blocks_x} * only.blocks_y : long{mcus_x_} * mcus_y_;
    const long per_interval = restart_interval_ > 0 ? restart_interval_ : units;
    std::size_t pos = sos.next + 2 + length;
    long done = 0;
    for (int interval = 0; done < units; ++interval) {
      const Marker after = entropy_data(pos);
      bit_ = 0;
      dc_prediction_.fill(0);
      const long n = std::min(per_interval, units - done);
      for (long u = 0; u < n; ++u) {
        for (std::size_t i = 0; i < count; ++i) {
          const Component& c = components_[order[i]];
          const int blocks = count == 1 ? 1 : c.h * c.v;
          for (int b = 0; b < blocks; ++b) block(order[i], dc_tables_[scan_dc_[i]], ac_tables_[scan_ac_[i]], c);
        }
      }
      done += n;
      // At most the padding to a whole byte may be left over: stb_image
      // reads on to the restart marker only if fewer than 8 bits are.
      if (8 * interval_bytes_.size() - bit_ >= 8)
        fail(std::to_string((8 * interval_bytes_.size() - bit_) / 8) + " bytes of scan data after the last block of " +
             (restart_interval_ > 0 ? "restart interval " + std::to_string(interval) : std::string("the scan")));
      if (done < units) {
        if (!is_restart(after.code))
          fail("restart interval " + std::to_string(interval) + " ends in marker ff " + hex(after.code) +
               ", not a restart marker");
        pos = after.next;
      } else {
        if (is_restart(after.code)) fail("a restart marker after the scan's last block");
        pos = after.start;
      }
    }
    return pos;
  }

  // The entropy-coded data from pos to the next marker, with T.81's byte
  // stuffing undone (ff 00 is the data byte ff), into interval_bytes_.
  Marker entropy_data(std::size_t pos) {
    interval_bytes_.clear();
    while (pos < size_) {
      if (data_[pos] != 0xff) {
        interval_bytes_.push_back(data_[pos++]);
        continue;
      }
      std::size_t at = pos + 1;
      while (at < size_ && data_[at] == 0xff) ++at;
      if (at >= size_) break;
      if (data_[at] != 0x00) return {data_[at], pos, at + 1};
      interval_bytes_.push_back(0xff);
      pos = at + 1;
    }
    fail("the scan data runs to the end of the file, with no marker after it");
  }

  int bit() {
    if (bit_ >= 8 * interval_bytes_.size())
      fail("the scan data ends before its last block (" + std::to_string(interval_bytes_.size()) + " bytes)");
    const int value = (interval_bytes_[bit_ / 8] >> (7 - bit_ % 8)) & 1;
    ++bit_;
    return value;
  }

  int bits(int n) {
    int value = 0;
    while (n-- > 0) value = (value << 1) | bit();
    return value;
  }

  // One symbol: the codes of each length are [first, first + count); a code
  // below `first` would have ended at a shorter length, so none is.
  int decode(const HuffmanTable& table) {
    int code = 0, first = 0, index = 0;
    for (int len = 1; len <= 16; ++len) {
      code = (code << 1) | bit();
      if (code - first < table.count[len]) return table.symbols[index + code - first];
      index += table.count[len];
      first = (first + table.count[len]) << 1;
    }
    fail("a code that the scan's Huffman table does not hold");
  }

  // One 8x8 block (T.81 F.2.2): the DC difference, then AC run/size symbols
  // up to 63 coefficients or end-of-block, reading exactly the bits stb_image
  // reads.
  void block(int which, const HuffmanTable& dc, const HuffmanTable& ac, const Component& c) {
    const int category = decode(dc);
    if (category > 11) fail("a DC difference of category " + std::to_string(category) + " (8-bit JPEG has 0..11)");
    int diff = 0;
    if (category > 0) {
      diff = bits(category);
      if (diff < (1 << (category - 1))) diff -= (1 << category) - 1;  // T.81 F.2.2.1, EXTEND
    }
    dc_prediction_[which] += diff;
    const long coefficient = long{dc_prediction_[which]} * quant_tables_[c.tq].dc_step;
    if (coefficient < -32768 || coefficient > 32767)
      fail("a DC coefficient of " + std::to_string(coefficient) + ", outside 16 bits");
    for (int k = 1; k < 64;) {
      const int run_size = decode(ac), run = run_size >> 4, size = run_size & 15;
      if (size == 0) {
        if (run_size != 0xf0) break;  // end of block; 0xf0 is a run of 16 zeros
        k += 16;
      } else {
        bits(size);
        k += run + 1;
      }
    }
  }

  const uint8_t* data_;
  std::size_t size_;
  const std::string& path_;
  int width_, height_;
  std::array<HuffmanTable, 4> dc_tables_, ac_tables_;
  std::array<QuantTable, 4> quant_tables_;
  std::vector<Component> components_;
  int mcus_x_ = 0, mcus_y_ = 0;
  int restart_interval_ = 0;  // MCUs per interval, 0: none
  std::array<int, 4> scan_dc_{}, scan_ac_{};
  std::array<int, 4> dc_prediction_{};  // per frame component, reset each interval
  std::vector<uint8_t> interval_bytes_;
  std::size_t bit_ = 0;  // bits of interval_bytes_ read
};

}  // namespace

void check_jpeg(const uint8_t* data, std::size_t size, const std::string& path, int width, int height) {
  JpegCheck(data, size, path, width, height).run();
}
