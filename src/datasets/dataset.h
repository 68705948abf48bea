// dataset.h: images and labels in memory, and the train/validation/test split.
//
// Pixels stay as the bytes the files hold (0..255), [N, C, H, W]; the glimpse
// sensor scales them to [0, 1] as it reads them, so a data set costs one byte
// a pixel in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

struct Dataset {
  int count = 0;     // N images
  int channels = 0;  // C: 1 for MNIST, 3 for CIFAR-10
  int height = 0;    // H pixels
  int width = 0;     // W pixels
  int classes = 0;   // A: number of labels
  std::vector<uint8_t> pixels;  // [N, C, H, W]
  std::vector<uint8_t> labels;  // [N], each < classes

  const uint8_t* image(int i) const {
    return pixels.data() + static_cast<size_t>(i) * channels * height * width;
  }
  int image_size() const { return channels * height * width; }
};

struct DataSplits {
  Dataset train, valid, test;
  // For data sets made on the fly (translated_mnist.h): the training images
  // of an epoch (0-based), drawn anew from the training digits; empty for
  // data sets read as they are.
  std::function<Dataset(int epoch)> training_epoch;
};

// The images at `indices` of `source`, in that order.
Dataset subset(const Dataset& source, const std::vector<int>& indices);

// The most bytes a data file (an IDX file, plain or gzip-compressed, or a
// CIFAR-10 batch) may hold, and a gzip file unpack to: 1 GiB, twenty times
// MNIST's largest file (47 MB). Checked before anything is allocated for it.
constexpr std::size_t kMaxDataFileBytes = std::size_t{1} << 30;

// The whole of a regular file of at most max_bytes. Throws std::runtime_error
// naming it when it cannot be opened or read, is a directory ("is a
// directory"), is not a regular file ("is not a regular file": a device such as
// /dev/zero, a pipe, a socket), or is larger. It never reads more than
// max_bytes + 64 KiB, even from a file that grows while it is read.
std::vector<uint8_t> read_file_bytes(const std::string& path, std::size_t max_bytes);

// Reads one IDX image file (magic 0x00000803) / label file (0x00000801).
// Every problem (missing file, wrong magic, counts or sizes that disagree with
// the file length, a label out of range) throws std::runtime_error naming the
// file and what is wrong.
Dataset read_idx_images(const std::string& path);
std::vector<uint8_t> read_idx_labels(const std::string& path, int classes);
// The same from the file's bytes in memory (gzip-compressed or not), `path`
// naming it in messages: the readers above are read_file_bytes and these.
Dataset parse_idx_images(std::vector<uint8_t> bytes, const std::string& path);
std::vector<uint8_t> parse_idx_labels(std::vector<uint8_t> bytes, const std::string& path, int classes);

// MNIST from the four original IDX files in `dir`, each either as it is or
// gzip-compressed with ".gz" appended (so Fashion-MNIST, same format, too). The 60,000 training images
// are shuffled by `seed` and cut 50,000 train / 10,000 validation; the 10,000
// test images are the test split.
DataSplits load_mnist(const std::string& dir, uint64_t seed);

// The split every loader uses: the training images shuffled by `seed`, the
// last 10,000 of the shuffle the validation split (all_train must hold more;
// errors name `source`).
DataSplits split_validation(const Dataset& all_train, Dataset test, uint64_t seed, const std::string& source);

// CIFAR-10 (cifar10.cpp) from `dir`, in either form:
//   the official binary release: data_batch_1.bin .. data_batch_5.bin and
//     test_batch.bin, records of 1 label byte and 3 x 32 x 32 pixel bytes;
//   an image-folder tree: train/<class>/*.jpg|*.png and test/<class>/...,
//     read with stb_image; the classes are the folder names in sorted order.
// The 50,000 training images are split 40,000 / 10,000 by `seed`.
DataSplits load_cifar10(const std::string& dir, uint64_t seed);
Dataset read_cifar_binary(const std::vector<std::string>& paths);
// One batch file's bytes, its records appended to `into` (which becomes
// 3 x 32 x 32 with 10 classes); errors name `path`.
void parse_cifar_binary(const std::vector<uint8_t>& bytes, const std::string& path, Dataset& into);
// Every image under dir/<class>/ for the given classes (label = index), all
// of width x height, 3 channels, each a JPEG or PNG file checked and decoded
// by decode_image (datasets/image.h). Errors name the file.
Dataset read_image_folders(const std::string& dir, const std::vector<std::string>& classes, int width,
                           int height);
// The sorted names of the subdirectories of dir.
std::vector<std::string> class_folders(const std::string& dir);
