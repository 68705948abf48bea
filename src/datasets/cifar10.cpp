// dataset_cifar10.cpp: CIFAR-10 (A. Krizhevsky, 2009), the seed paper's second
// data set, from the official binary release or from folders of images.
//
// Binary release: each of data_batch_1..5.bin and test_batch.bin is a run of
// 3,073-byte records, a label byte (0..9) then the red, green and blue 32x32
// planes, which is already the [C, H, W] layout the sensor reads. Folders:
// <split>/<class>/<image>, decoded by stb_image (the only image library the
// project uses) to 3 channels, and rearranged from its [H, W, C] to [C, H, W].
// Files are read in sorted order, so a load is the same on every machine.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "datasets/dataset.h"

// stb_image is a single header; its implementation is compiled here, once,
// with only the decoders CIFAR folders use, and without the warnings its
// code raises under -Wall -Wextra.
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

namespace fs = std::filesystem;

namespace {

constexpr int kSide = 32, kChannels = 3, kClasses = 10;
constexpr int kRecord = 1 + kChannels * kSide * kSide;  // 3,073 bytes

std::runtime_error file_error(const std::string& path, const std::string& what) {
  return std::runtime_error(path + ": " + what);
}

bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

}  // namespace

Dataset read_cifar_binary(const std::vector<std::string>& paths) {
  Dataset d;
  d.channels = kChannels;
  d.height = d.width = kSide;
  d.classes = kClasses;
  for (const std::string& path : paths) {
    const std::vector<uint8_t> bytes = read_file_bytes(path);
    if (bytes.empty() || bytes.size() % kRecord != 0)
      throw file_error(path, std::to_string(bytes.size()) + " bytes, not a whole number of " +
                                 std::to_string(kRecord) + "-byte CIFAR-10 records (truncated or not CIFAR-10)");
    for (std::size_t at = 0; at < bytes.size(); at += kRecord) {
      if (bytes[at] >= kClasses)
        throw file_error(path, "label " + std::to_string(bytes[at]) + " of record " +
                                   std::to_string(at / kRecord) + " is out of range (0..9)");
      d.labels.push_back(bytes[at]);
      d.pixels.insert(d.pixels.end(), bytes.begin() + at + 1, bytes.begin() + at + kRecord);
    }
    d.count = static_cast<int>(d.labels.size());
  }
  return d;
}

std::vector<std::string> class_folders(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw file_error(dir, "no such directory");
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  if (ec) throw file_error(dir, "cannot list: " + ec.message());
  std::sort(names.begin(), names.end());
  if (names.size() < 2) throw file_error(dir, "needs one folder per class, found " + std::to_string(names.size()));
  return names;
}

Dataset read_image_folders(const std::string& dir, const std::vector<std::string>& classes, int width,
                           int height) {
  Dataset d;
  d.channels = kChannels;
  d.height = height;
  d.width = width;
  d.classes = static_cast<int>(classes.size());
  const std::size_t plane = static_cast<std::size_t>(width) * height;
  for (std::size_t label = 0; label < classes.size(); ++label) {
    const std::string folder = dir + "/" + classes[label];
    std::error_code ec;
    if (!fs::is_directory(folder, ec))
      throw file_error(folder, "missing: every split needs the same class folders");
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(folder, ec))
      if (entry.is_regular_file() && is_image_file(entry.path())) files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
    if (files.empty()) throw file_error(folder, "holds no .jpg or .png image");
    for (const std::string& file : files) {
      int w = 0, h = 0, n = 0;
      uint8_t* hwc = stbi_load(file.c_str(), &w, &h, &n, kChannels);
      if (!hwc) throw file_error(file, std::string("cannot decode the image: ") + stbi_failure_reason());
      if (w != width || h != height) {
        stbi_image_free(hwc);
        throw file_error(file, "is " + std::to_string(w) + "x" + std::to_string(h) + ", expected " +
                                   std::to_string(width) + "x" + std::to_string(height));
      }
      // [H, W, C] to [C, H, W].
      const std::size_t start = d.pixels.size();
      d.pixels.resize(start + kChannels * plane);
      for (std::size_t i = 0; i < plane; ++i)
        for (int c = 0; c < kChannels; ++c) d.pixels[start + c * plane + i] = hwc[i * kChannels + c];
      stbi_image_free(hwc);
      d.labels.push_back(static_cast<uint8_t>(label));
    }
  }
  d.count = static_cast<int>(d.labels.size());
  return d;
}

DataSplits load_cifar10(const std::string& dir, uint64_t seed) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw file_error(dir, "no such directory; unpack CIFAR-10 with: sh data/fetch_cifar10.sh " + dir);
  if (fs::exists(dir + "/data_batch_1.bin", ec)) {
    std::vector<std::string> batches;
    for (int i = 1; i <= 5; ++i) batches.push_back(dir + "/data_batch_" + std::to_string(i) + ".bin");
    const Dataset all_train = read_cifar_binary(batches);
    return split_validation(all_train, read_cifar_binary({dir + "/test_batch.bin"}), seed, batches[0]);
  }
  if (!fs::is_directory(dir + "/train", ec))
    throw file_error(dir, "holds neither data_batch_1.bin (the binary release) nor train/ and test/ image folders");
  const std::vector<std::string> classes = class_folders(dir + "/train");
  if (class_folders(dir + "/test") != classes)
    throw file_error(dir + "/test", "its class folders differ from those of " + dir + "/train");
  const Dataset all_train = read_image_folders(dir + "/train", classes, kSide, kSide);
  return split_validation(all_train, read_image_folders(dir + "/test", classes, kSide, kSide), seed,
                          dir + "/train");
}
