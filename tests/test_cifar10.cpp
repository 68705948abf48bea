// test_cifar10.cpp: the CIFAR-10 readers, on tiny files written here: the
// binary records and the image folders read back exactly, and damaged or
// mislabelled files, and entries that are not files, are refused with the
// file's name (the image checks themselves: test_image.cpp). The real data, when
// unpacked into data/cifar10-jpg, is read once as a last check.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <climits>
#include <filesystem>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "test_files.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

namespace {

// A 32x32 RGB image [H, W, C] whose pixel (y, x, c) is (y + 2x + 90c + seed) % 256.
std::vector<uint8_t> rgb_image(int seed, int side = 32) {
  std::vector<uint8_t> hwc(static_cast<std::size_t>(side) * side * 3);
  for (int y = 0; y < side; ++y)
    for (int x = 0; x < side; ++x)
      for (int c = 0; c < 3; ++c) hwc[(y * side + x) * 3 + c] = static_cast<uint8_t>((y + 2 * x + 90 * c + seed) % 256);
  return hwc;
}

void write_png(const std::string& path, const std::vector<uint8_t>& hwc, int side = 32) {
  REQUIRE(stbi_write_png(path.c_str(), side, side, 3, hwc.data(), side * 3) != 0);
}

}  // namespace

TEST_CASE("cifar10 binary: records read back, damaged files are refused by name") {
  TempDir dir;
  // Two records: label 7 then the planes; label 2 then the planes.
  std::vector<uint8_t> bytes;
  for (int label : {7, 2}) {
    bytes.push_back(static_cast<uint8_t>(label));
    for (int i = 0; i < 3072; ++i) bytes.push_back(static_cast<uint8_t>((i + label) % 251));
  }
  write_file(dir.file("data_batch_1.bin"), bytes);
  const Dataset d = read_cifar_binary({dir.file("data_batch_1.bin")});
  CHECK(d.count == 2);
  CHECK(d.channels == 3);
  CHECK(d.labels == std::vector<uint8_t>{7, 2});
  CHECK(d.image(1)[5] == (5 + 2) % 251);
  std::vector<uint8_t> cut = bytes;
  cut.pop_back();
  write_file(dir.file("bad.bin"), cut);
  std::string e = error_of([&] { read_cifar_binary({dir.file("bad.bin")}); });
  CHECK(contains(e, dir.file("bad.bin")));
  CHECK(contains(e, "not a whole number"));
  bytes[0] = 10;
  write_file(dir.file("bad.bin"), bytes);
  e = error_of([&] { read_cifar_binary({dir.file("bad.bin")}); });
  CHECK(contains(e, "label 10 of record 0"));
  // Batches append; a directory given as a batch is refused by name.
  const Dataset twice = read_cifar_binary({dir.file("data_batch_1.bin"), dir.file("data_batch_1.bin")});
  CHECK(twice.count == 4);
  CHECK(twice.labels == std::vector<uint8_t>{7, 2, 7, 2});
  CHECK(twice.pixels.size() == 4 * 3072);
  e = error_of([&] { read_cifar_binary({dir.path()}); });
  CHECK(contains(e, dir.path() + ": is a directory"));
  // The count stays an int: a batch that would pass INT_MAX images is refused.
  Dataset full;
  full.count = INT_MAX;
  e = error_of([&] { parse_cifar_binary(bytes, "last.bin", full); });
  CHECK(contains(e, "last.bin: 2 records would make more than 2147483647 images in all"));
}

TEST_CASE("cifar10 folders: pixels in [C, H, W], labels from sorted class folders, bad images named") {
  TempDir dir;
  for (const char* cls : {"cat", "airplane"}) std::filesystem::create_directories(dir.file(std::string("train/") + cls));
  write_png(dir.file("train/airplane/b.png"), rgb_image(1));
  write_png(dir.file("train/airplane/a.png"), rgb_image(2));
  write_png(dir.file("train/cat/x.png"), rgb_image(3));
  const std::vector<std::string> classes = class_folders(dir.file("train"));
  CHECK(classes == std::vector<std::string>{"airplane", "cat"});
  const Dataset d = read_image_folders(dir.file("train"), classes, 32, 32);
  REQUIRE(d.count == 3);
  CHECK(d.labels == std::vector<uint8_t>{0, 0, 1});
  // Files in sorted order: a.png (seed 2) first. Pixel (y = 4, x = 5) of
  // channel 2 sits at [2, 4, 5] = 2 * 1024 + 4 * 32 + 5.
  CHECK(d.image(0)[2 * 1024 + 4 * 32 + 5] == (4 + 10 + 180 + 2) % 256);
  CHECK(d.image(2)[0] == 3);
  // A file that is not an image, and an image of the wrong size.
  write_file(dir.file("train/cat/broken.jpg"), {1, 2, 3, 4});
  std::string e = error_of([&] { read_image_folders(dir.file("train"), classes, 32, 32); });
  CHECK(contains(e, dir.file("train/cat/broken.jpg") + ": is neither a JPEG"));
  std::filesystem::remove(dir.file("train/cat/broken.jpg"));
  write_png(dir.file("train/cat/small.png"), rgb_image(4, 8), 8);
  e = error_of([&] { read_image_folders(dir.file("train"), classes, 32, 32); });
  CHECK(contains(e, "small.png"));
  CHECK(contains(e, "is 8x8, expected 32x32"));
  // load_cifar10 on a folder that is neither form.
  e = error_of([&] { load_cifar10(dir.file("train/cat"), 1); });
  CHECK(contains(e, "neither data_batch_1.bin"));
}

TEST_CASE("cifar10 folders: a directory, pipe or device named like an image is refused by name, not read") {
  TempDir dir;
  for (const char* cls : {"cat", "dog"}) std::filesystem::create_directories(dir.file(std::string("train/") + cls));
  write_png(dir.file("train/cat/a.png"), rgb_image(1));
  write_png(dir.file("train/dog/a.png"), rgb_image(2));
  const std::vector<std::string> classes = {"cat", "dog"};
  std::filesystem::create_directory(dir.file("train/dog/b.png"));
  std::string e = error_of([&] { read_image_folders(dir.file("train"), classes, 32, 32); });
  CHECK(contains(e, dir.file("train/dog/b.png") + ": is a directory"));
  std::filesystem::remove(dir.file("train/dog/b.png"));
  // A named pipe: opening it for reading would wait for a writer forever.
  REQUIRE(mkfifo(dir.file("train/dog/c.jpg").c_str(), 0600) == 0);
  e = error_of([&] { read_image_folders(dir.file("train"), classes, 32, 32); });
  CHECK(contains(e, dir.file("train/dog/c.jpg") + ": is not a regular file"));
  std::filesystem::remove(dir.file("train/dog/c.jpg"));
  std::filesystem::create_symlink("/dev/zero", dir.file("train/dog/d.png"));
  e = error_of([&] { read_image_folders(dir.file("train"), classes, 32, 32); });
  CHECK(contains(e, dir.file("train/dog/d.png") + ": is not a regular file"));
}

TEST_CASE("cifar10: the real data, when unpacked in data/cifar10-jpg, splits 40,000 / 10,000 / 10,000") {
  if (!std::filesystem::exists("data/cifar10-jpg/train")) {
    MESSAGE("data/cifar10-jpg not unpacked (sh data/fetch_cifar10.sh); skipped");
    return;
  }
  const DataSplits d = load_cifar10("data/cifar10-jpg", 1);
  CHECK(d.train.count == 40000);
  CHECK(d.valid.count == 10000);
  CHECK(d.test.count == 10000);
  CHECK(d.train.classes == 10);
  CHECK(d.train.channels == 3);
}
