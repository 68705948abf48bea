// test_dataset.cpp: the IDX readers and the MNIST split, on tiny files written
// into a temporary directory.
//
// Every malformed file must be refused with a message that names the file and
// the problem, since that message is all a user sees of a bad download. The
// split must be a pure function of the seed, and train and validation must
// partition the training file. The real MNIST, when fetched into data/mnist,
// is read once as a last check; without it that test only says it skipped.
#include <doctest/doctest.h>

#include <stdlib.h>
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "test_files.h"

namespace {

// The file numbers of a split's images, in split order.
std::vector<int> image_numbers(const Dataset& set) {
  std::vector<int> numbers;
  for (int i = 0; i < set.count; ++i) numbers.push_back(image_number(set, i));
  return numbers;
}

}  // namespace

TEST_CASE("read_idx_images reads a good file back exactly") {
  TempDir dir;
  // 3 images of 2 rows x 3 cols: rows != cols catches swapped dimensions.
  std::vector<uint8_t> pixels;
  for (int p = 0; p < 3 * 2 * 3; ++p) pixels.push_back(static_cast<uint8_t>(p * 13 + 1));
  write_file(dir.file("images"), idx_bytes(kImagesMagic, {3, 2, 3}, pixels));

  const Dataset images = read_idx_images(dir.file("images"));
  CHECK(images.count == 3);
  CHECK(images.channels == 1);
  CHECK(images.height == 2);
  CHECK(images.width == 3);
  CHECK(images.classes == 0);
  CHECK(images.image_size() == 6);
  CHECK(images.pixels == pixels);
  CHECK(images.labels.empty());
  CHECK(images.image(2)[0] == pixels[12]);
}

TEST_CASE("read_idx_labels reads a good file back exactly") {
  TempDir dir;
  const std::vector<uint8_t> labels = {0, 9, 3, 3, 7};
  write_file(dir.file("labels"), idx_bytes(kLabelsMagic, {5}, labels));
  CHECK(read_idx_labels(dir.file("labels"), 10) == labels);
}

TEST_CASE("a malformed image file is refused, naming the file and the problem") {
  TempDir dir;
  const std::vector<uint8_t> pixels(2 * 4 * 4, 200);
  const std::string path = dir.file("bad-images");
  std::vector<uint8_t> bytes;

  SUBCASE("truncated data") {
    bytes = idx_bytes(kImagesMagic, {2, 4, 4}, pixels);
    bytes.pop_back();
    write_file(path, bytes);
    const std::string message = error_of([&] { read_idx_images(path); });
    CAPTURE(message);
    CHECK(contains(message, path + ": "));
    CHECK(contains(message, "truncated"));
    CHECK(contains(message, "47 bytes"));
    CHECK(contains(message, "promises 48"));
  }
  SUBCASE("trailing bytes") {
    bytes = idx_bytes(kImagesMagic, {2, 4, 4}, pixels);
    bytes.insert(bytes.end(), 5, 0);
    write_file(path, bytes);
    const std::string message = error_of([&] { read_idx_images(path); });
    CAPTURE(message);
    CHECK(contains(message, path + ": "));
    CHECK(contains(message, "5 trailing bytes"));
  }
  SUBCASE("incomplete header") {
    bytes = idx_bytes(kImagesMagic, {2, 4, 4}, {});
    bytes.resize(10);
    write_file(path, bytes);
    const std::string message = error_of([&] { read_idx_images(path); });
    CAPTURE(message);
    CHECK(contains(message, path + ": "));
    CHECK(contains(message, "incomplete header"));
  }
  SUBCASE("empty file") {
    write_file(path, {});
    const std::string message = error_of([&] { read_idx_images(path); });
    CAPTURE(message);
    CHECK(contains(message, path + ": "));
    CHECK(contains(message, "incomplete header"));
  }
  SUBCASE("wrong magic: a label file") {
    write_file(path, idx_bytes(kLabelsMagic, {3}, {1, 2, 3}));
    const std::string message = error_of([&] { read_idx_images(path); });
    CAPTURE(message);
    CHECK(contains(message, path + ": "));
    CHECK(contains(message, "magic number 0x00000801, expected 0x00000803"));
  }
  SUBCASE("a broken gzip file") {
    write_file(path, {0x1f, 0x8b, 0x08, 0x08, 0, 0, 0, 0});
    const std::string message = error_of([&] { read_idx_images(path); });
    CAPTURE(message);
    CHECK(contains(message, path + ": gzip: "));
  }
  SUBCASE("zero rows") {
    write_file(path, idx_bytes(kImagesMagic, {2, 0, 4}, {}));
    const std::string message = error_of([&] { read_idx_images(path); });
    CAPTURE(message);
    CHECK(contains(message, path + ": "));
    CHECK(contains(message, "bad dimensions"));
    CHECK(contains(message, "2 images of 0x4"));
  }
  SUBCASE("zero images") {
    write_file(path, idx_bytes(kImagesMagic, {0, 4, 4}, {}));
    const std::string message = error_of([&] { read_idx_images(path); });
    CAPTURE(message);
    CHECK(contains(message, path + ": "));
    CHECK(contains(message, "bad dimensions"));
  }
  SUBCASE("absurd side") {
    write_file(path, idx_bytes(kImagesMagic, {1, 4, 100000}, pixels));
    const std::string message = error_of([&] { read_idx_images(path); });
    CAPTURE(message);
    CHECK(contains(message, path + ": "));
    CHECK(contains(message, "bad dimensions"));
  }
  SUBCASE("absurd count, too large for an int") {
    write_file(path, idx_bytes(kImagesMagic, {0x80000000u, 1, 1}, pixels));
    const std::string message = error_of([&] { read_idx_images(path); });
    CAPTURE(message);
    CHECK(contains(message, path + ": "));
    CHECK(contains(message, "bad dimensions"));
  }
  SUBCASE("missing file") {
    const std::string missing = dir.file("no-such-file");
    const std::string message = error_of([&] { read_idx_images(missing); });
    CAPTURE(message);
    CHECK(contains(message, missing + ": "));
    CHECK(contains(message, "cannot open"));
    CHECK(contains(message, "No such file"));
  }
}

TEST_CASE("a malformed label file is refused, naming the file and the problem") {
  TempDir dir;
  const std::string path = dir.file("bad-labels");

  SUBCASE("label out of range") {
    write_file(path, idx_bytes(kLabelsMagic, {4}, {1, 9, 10, 2}));
    const std::string message = error_of([&] { read_idx_labels(path, 10); });
    CAPTURE(message);
    CHECK(contains(message, path + ": "));
    CHECK(contains(message, "label 10 at index 2 is out of range"));
  }
  SUBCASE("wrong magic: an image file") {
    write_file(path, idx_bytes(kImagesMagic, {1, 1, 1}, {0}));
    const std::string message = error_of([&] { read_idx_labels(path, 10); });
    CAPTURE(message);
    CHECK(contains(message, path + ": "));
    CHECK(contains(message, "magic number 0x00000803, expected 0x00000801"));
  }
  SUBCASE("truncated") {
    write_file(path, idx_bytes(kLabelsMagic, {4}, {1, 2}));
    const std::string message = error_of([&] { read_idx_labels(path, 10); });
    CAPTURE(message);
    CHECK(contains(message, path + ": "));
    CHECK(contains(message, "truncated"));
  }
  SUBCASE("trailing bytes") {
    write_file(path, idx_bytes(kLabelsMagic, {1}, {1, 2}));
    const std::string message = error_of([&] { read_idx_labels(path, 10); });
    CAPTURE(message);
    CHECK(contains(message, path + ": "));
    CHECK(contains(message, "1 trailing bytes"));
  }
  SUBCASE("zero labels") {
    write_file(path, idx_bytes(kLabelsMagic, {0}, {}));
    const std::string message = error_of([&] { read_idx_labels(path, 10); });
    CAPTURE(message);
    CHECK(contains(message, path + ": "));
    CHECK(contains(message, "bad dimensions"));
  }
}

TEST_CASE("read_file_bytes refuses directories, devices, pipes and files over the limit, by name") {
  TempDir dir;
  const std::string path = dir.file("data");
  write_file(path, std::vector<uint8_t>(100, 7));
  CHECK(read_file_bytes(path, 100) == std::vector<uint8_t>(100, 7));
  std::string e = error_of([&] { read_file_bytes(path, 99); });
  CHECK(contains(e, path + ": is 100 bytes, more than the 99 a file of its kind may hold"));
  e = error_of([&] { read_file_bytes(dir.path(), 100); });
  CHECK(contains(e, dir.path() + ": is a directory"));
  // An endless device is refused before a byte is read.
  e = error_of([&] { read_file_bytes("/dev/zero", kMaxDataFileBytes); });
  CHECK(contains(e, "/dev/zero: is not a regular file"));
  // A named pipe without a writer: refused at once, not waited on.
  REQUIRE(mkfifo(dir.file("pipe").c_str(), 0600) == 0);
  e = error_of([&] { read_file_bytes(dir.file("pipe"), 100); });
  CHECK(contains(e, dir.file("pipe") + ": is not a regular file"));
  // A file that reports no size but has content is still held to the limit.
  if (std::filesystem::exists("/proc/self/status")) {
    e = error_of([&] { read_file_bytes("/proc/self/status", 10); });
    CHECK(contains(e, "/proc/self/status: holds more than the 10 bytes a file of its kind may hold"));
  }
}

TEST_CASE("the IDX parsers read bytes in memory as the readers read the file") {
  std::vector<uint8_t> pixels(2 * 3 * 4);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 11);
  const Dataset images = parse_idx_images(idx_bytes(kImagesMagic, {2, 3, 4}, pixels), "in-memory");
  CHECK(images.count == 2);
  CHECK(images.height == 3);
  CHECK(images.width == 4);
  CHECK(images.pixels == pixels);
  CHECK(parse_idx_labels(idx_bytes(kLabelsMagic, {3}, {4, 0, 9}), "in-memory", 10) == std::vector<uint8_t>{4, 0, 9});
  CHECK(contains(error_of([&] { parse_idx_labels(idx_bytes(kLabelsMagic, {1}, {}), "in-memory", 10); }),
                 "in-memory: truncated"));
}

TEST_CASE("subset copies the chosen images and labels in the given order") {
  Dataset source;
  source.count = 4;
  source.channels = 1;
  source.height = 1;
  source.width = 2;
  source.classes = 5;
  source.pixels = {10, 11, 20, 21, 30, 31, 40, 41};
  source.labels = {0, 1, 2, 3};

  const Dataset picked = subset(source, {3, 0, 3});
  CHECK(picked.count == 3);
  CHECK(picked.channels == 1);
  CHECK(picked.height == 1);
  CHECK(picked.width == 2);
  CHECK(picked.classes == 5);
  CHECK(picked.pixels == std::vector<uint8_t>{40, 41, 10, 11, 40, 41});
  CHECK(picked.labels == std::vector<uint8_t>{3, 0, 3});

  const std::string message = error_of([&] { subset(source, {1, 4}); });
  CAPTURE(message);
  CHECK(contains(message, "index 4 is out of range"));
  CHECK(contains(error_of([&] { subset(source, {-1}); }), "index -1 is out of range"));
}

TEST_CASE("load_mnist reports a missing directory or file and how to fetch it") {
  TempDir dir;
  SUBCASE("missing directory") {
    const std::string missing = dir.file("no-mnist-here");
    const std::string message = error_of([&] { load_mnist(missing, 1); });
    CAPTURE(message);
    CHECK(contains(message, missing + ": "));
    CHECK(contains(message, "no such directory"));
    CHECK(contains(message, "sh data/fetch_mnist.sh " + missing));
  }
  SUBCASE("a directory where a file should be") {
    write_fake_mnist(dir, 10050, 20, 10050);
    std::filesystem::remove(dir.file("t10k-labels-idx1-ubyte"));
    std::filesystem::create_directory(dir.file("t10k-labels-idx1-ubyte"));
    const std::string message = error_of([&] { load_mnist(dir.path(), 1); });
    CAPTURE(message);
    CHECK(contains(message, dir.file("t10k-labels-idx1-ubyte") + ": is a directory"));
  }
  SUBCASE("missing file") {
    write_fake_mnist(dir, 10050, 20, 10050);
    std::filesystem::remove(dir.file("t10k-labels-idx1-ubyte"));
    const std::string message = error_of([&] { load_mnist(dir.path(), 1); });
    CAPTURE(message);
    CHECK(contains(message, dir.file("t10k-labels-idx1-ubyte") + ": "));
    CHECK(contains(message, "missing"));
    CHECK(contains(message, "sh data/fetch_mnist.sh " + dir.path()));
  }
}

TEST_CASE("load_mnist refuses images and labels that disagree") {
  TempDir dir;
  SUBCASE("label count differs from image count") {
    write_fake_mnist(dir, 10050, 20, 10049);
    const std::string message = error_of([&] { load_mnist(dir.path(), 1); });
    CAPTURE(message);
    CHECK(contains(message, dir.file("train-labels-idx1-ubyte") + ": "));
    CHECK(contains(message, "count mismatch"));
    CHECK(contains(message, "10049 labels"));
    CHECK(contains(message, "10050 images"));
  }
  SUBCASE("too few training images for a validation split") {
    write_fake_mnist(dir, 10000, 20, 10000);
    const std::string message = error_of([&] { load_mnist(dir.path(), 1); });
    CAPTURE(message);
    CHECK(contains(message, dir.file("train-images-idx3-ubyte") + ": "));
    CHECK(contains(message, "only 10000 images"));
  }
  SUBCASE("a label out of range for MNIST's ten classes") {
    write_fake_mnist(dir, 10050, 20, 10050);
    write_file(dir.file("t10k-labels-idx1-ubyte"),
               idx_bytes(kLabelsMagic, {20}, std::vector<uint8_t>(20, 10)));
    const std::string message = error_of([&] { load_mnist(dir.path(), 1); });
    CAPTURE(message);
    CHECK(contains(message, dir.file("t10k-labels-idx1-ubyte") + ": "));
    CHECK(contains(message, "label 10 at index 0 is out of range"));
  }
}

TEST_CASE("load_mnist splits the training file by seed: last 10,000 shuffled are validation") {
  TempDir dir;
  const int train_count = 10050, test_count = 20;
  write_fake_mnist(dir, train_count, test_count, train_count);
  const DataSplits splits = load_mnist(dir.path(), 7);

  CHECK(splits.train.count == train_count - 10000);
  CHECK(splits.valid.count == 10000);
  CHECK(splits.test.count == test_count);
  for (const Dataset* set : {&splits.train, &splits.valid, &splits.test}) {
    CHECK(set->channels == 1);
    CHECK(set->height == kFakeSide);
    CHECK(set->width == kFakeSide);
    CHECK(set->classes == 10);
    CHECK(set->pixels.size() == static_cast<size_t>(set->count) * kFakeSide * kFakeSide);
    CHECK(set->labels.size() == static_cast<size_t>(set->count));
    // Each label must travel with its image: the fake label is number mod 10.
    int labels_astray = 0;
    for (int i = 0; i < set->count; ++i) labels_astray += set->labels[i] != image_number(*set, i) % 10;
    CHECK(labels_astray == 0);
  }

  // Train and validation partition the training file.
  const std::vector<int> train_numbers = image_numbers(splits.train);
  const std::vector<int> valid_numbers = image_numbers(splits.valid);
  std::set<int> seen(train_numbers.begin(), train_numbers.end());
  seen.insert(valid_numbers.begin(), valid_numbers.end());
  CHECK(seen.size() == static_cast<size_t>(train_count));
  CHECK(*seen.begin() == 0);
  CHECK(*seen.rbegin() == train_count - 1);

  // The test split is the test file, in file order.
  std::vector<int> in_file_order(test_count);
  for (int i = 0; i < test_count; ++i) in_file_order[i] = i;
  CHECK(image_numbers(splits.test) == in_file_order);

  // The split is shuffled, not the file's first images.
  std::vector<int> first_numbers(train_numbers.size());
  for (size_t i = 0; i < first_numbers.size(); ++i) first_numbers[i] = static_cast<int>(i);
  CHECK(train_numbers != first_numbers);

  const DataSplits same_seed = load_mnist(dir.path(), 7);
  CHECK(image_numbers(same_seed.train) == train_numbers);
  CHECK(image_numbers(same_seed.valid) == valid_numbers);
  CHECK(same_seed.train.labels == splits.train.labels);

  const DataSplits other_seed = load_mnist(dir.path(), 8);
  CHECK(image_numbers(other_seed.train) != train_numbers);
  CHECK(image_numbers(other_seed.valid) != valid_numbers);
}

TEST_CASE("the real MNIST in data/mnist, when fetched, splits 50,000 / 10,000 / 10,000") {
  const std::string dir = "data/mnist";
  for (const char* name : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                           "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
    if (!std::filesystem::exists(dir + "/" + name)) {
      MESSAGE("skipped: no MNIST in " << dir << " (fetch it with: sh data/fetch_mnist.sh " << dir
                                      << ")");
      return;
    }
  }
  const DataSplits splits = load_mnist(dir, 1);
  CHECK(splits.train.count == 50000);
  CHECK(splits.valid.count == 10000);
  CHECK(splits.test.count == 10000);
  for (const Dataset* set : {&splits.train, &splits.valid, &splits.test}) {
    CHECK(set->channels == 1);
    CHECK(set->height == 28);
    CHECK(set->width == 28);
    CHECK(set->classes == 10);
  }
}
