// cifar10.cpp: CIFAR-10 (A. Krizhevsky, 2009), the seed paper's second data
// set, from the official binary release or from folders of images.
//
// Binary release: each of data_batch_1..5.bin and test_batch.bin is a run of
// 3,073-byte records, a label byte (0..9) then the red, green and blue 32x32
// planes, which is already the [C, H, W] layout the sensor reads. Folders:
// <split>/<class>/<image>, each a JPEG or PNG file checked and decoded by
// decode_image (image.cpp). Files are read in sorted order, so a load is the
// same on every machine; each is read whole after its kind and size are
// checked (read_file_bytes), and parsed from memory.
#include <algorithm>
#include <climits>
#include <filesystem>
#include <stdexcept>

#include "datasets/dataset.h"
#include "datasets/image.h"

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

void parse_cifar_binary(const std::vector<uint8_t>& bytes, const std::string& path, Dataset& into) {
  into.channels = kChannels;
  into.height = into.width = kSide;
  into.classes = kClasses;
  if (bytes.empty() || bytes.size() % kRecord != 0)
    throw file_error(path, std::to_string(bytes.size()) + " bytes, not a whole number of " +
                               std::to_string(kRecord) + "-byte CIFAR-10 records (truncated or not CIFAR-10)");
  const std::size_t records = bytes.size() / kRecord;
  if (records > static_cast<std::size_t>(INT_MAX - into.count))
    throw file_error(path, std::to_string(records) + " records would make more than " + std::to_string(INT_MAX) +
                               " images in all");
  into.labels.reserve(into.labels.size() + records);
  into.pixels.reserve(into.pixels.size() + records * (kRecord - 1));
  for (std::size_t at = 0; at < bytes.size(); at += kRecord) {
    if (bytes[at] >= kClasses)
      throw file_error(path, "label " + std::to_string(bytes[at]) + " of record " + std::to_string(at / kRecord) +
                                 " is out of range (0..9)");
    into.labels.push_back(bytes[at]);
    into.pixels.insert(into.pixels.end(), bytes.begin() + at + 1, bytes.begin() + at + kRecord);
  }
  into.count = static_cast<int>(into.labels.size());
}

Dataset read_cifar_binary(const std::vector<std::string>& paths) {
  Dataset d;
  for (const std::string& path : paths) parse_cifar_binary(read_file_bytes(path, kMaxDataFileBytes), path, d);
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
  // A label is one byte.
  if (classes.size() > 256) throw file_error(dir, std::to_string(classes.size()) + " class folders, at most 256");
  for (std::size_t label = 0; label < classes.size(); ++label) {
    const std::string folder = dir + "/" + classes[label];
    std::error_code ec;
    if (!fs::is_directory(folder, ec))
      throw file_error(folder, "missing: every split needs the same class folders");
    // Every entry named like an image, so that a directory or a device called
    // x.png is refused by name rather than skipped.
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(folder, ec))
      if (is_image_file(entry.path())) files.push_back(entry.path().string());
    if (ec) throw file_error(folder, "cannot list: " + ec.message());
    std::sort(files.begin(), files.end());
    if (files.empty()) throw file_error(folder, "holds no .jpg or .png image");
    for (const std::string& file : files) {
      const std::vector<uint8_t> chw =
          decode_image(read_file_bytes(file, max_image_file_bytes(width, height)), file, width, height);
      d.pixels.insert(d.pixels.end(), chw.begin(), chw.end());
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
