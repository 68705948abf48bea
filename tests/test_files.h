// test_files.h: small files for tests: a temporary directory, IDX files
// written byte by byte, a fake MNIST directory, and the message a failing call
// throws.
#pragma once

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "datasets/dataset.h"

constexpr uint32_t kImagesMagic = 0x00000803;
constexpr uint32_t kLabelsMagic = 0x00000801;

// A fresh directory under /tmp, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/ram_test_XXXXXX";
    if (!mkdtemp(name)) throw std::runtime_error("mkdtemp failed");
    path_ = name;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline void append_big_endian_u32(std::vector<uint8_t>& bytes, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<uint8_t>(value >> shift));
}

// An IDX file's bytes: magic, one size per dimension, then `data`.
inline std::vector<uint8_t> idx_bytes(uint32_t magic, const std::vector<uint32_t>& dims,
                               const std::vector<uint8_t>& data) {
  std::vector<uint8_t> bytes;
  append_big_endian_u32(bytes, magic);
  for (uint32_t size : dims) append_big_endian_u32(bytes, size);
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

inline void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

// The message `action` throws, or "" when it throws nothing.
inline std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "";
}

// The whole of a text file ("" when it cannot be read).
inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A metrics.csv's text without its last column, the wall-clock seconds.
inline std::string without_seconds(const std::string& text) {
  std::string out;
  std::size_t begin = 0;
  while (begin < text.size()) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(begin, end - begin);
    out += line.substr(0, line.rfind(',')) + "\n";
    begin = end + 1;
  }
  return out;
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Fake MNIST of 2x2 images whose four pixels spell the image's number in its
// file, big-endian, so a split can be traced back to the file. Labels are the
// number mod 10.
constexpr int kFakeSide = 2;

inline std::vector<uint8_t> numbered_images(int count) {
  std::vector<uint8_t> pixels;
  for (int i = 0; i < count; ++i) append_big_endian_u32(pixels, static_cast<uint32_t>(i));
  return pixels;
}

inline std::vector<uint8_t> numbered_labels(int count) {
  std::vector<uint8_t> labels;
  for (int i = 0; i < count; ++i) labels.push_back(static_cast<uint8_t>(i % 10));
  return labels;
}

inline int image_number(const Dataset& set, int i) {
  const uint8_t* p = set.image(i);
  return static_cast<int>((uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) |
                          uint32_t{p[3]});
}

inline void write_fake_mnist(const TempDir& dir, int train_count, int test_count,
                      int train_label_count) {
  const uint32_t side = kFakeSide;
  write_file(dir.file("train-images-idx3-ubyte"),
             idx_bytes(kImagesMagic, {uint32_t(train_count), side, side}, numbered_images(train_count)));
  write_file(dir.file("train-labels-idx1-ubyte"),
             idx_bytes(kLabelsMagic, {uint32_t(train_label_count)}, numbered_labels(train_label_count)));
  write_file(dir.file("t10k-images-idx3-ubyte"),
             idx_bytes(kImagesMagic, {uint32_t(test_count), side, side}, numbered_images(test_count)));
  write_file(dir.file("t10k-labels-idx1-ubyte"),
             idx_bytes(kLabelsMagic, {uint32_t(test_count)}, numbered_labels(test_count)));
}

