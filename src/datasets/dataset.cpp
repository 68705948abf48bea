// dataset.cpp: reads MNIST's IDX files and cuts the train/validation/test split.
//
// IDX is the format MNIST is distributed in: a big-endian 32-bit magic number
// 0x000008DD (0x08 = unsigned bytes, DD = number of dimensions), one big-endian
// 32-bit size per dimension, then the bytes, last dimension fastest. Images
// are 0x00000803 (count, rows, cols), labels 0x00000801 (count).
//
// A file is trusted only as far as its length confirms its header: the header
// must promise exactly the bytes that follow it, so a truncated download or a
// file of the wrong kind is caught here, with its name, instead of turning into
// garbage pixels or an out-of-bounds read deep inside training. Before that,
// read_file_bytes refuses what is not a regular file of a sane size, and
// allocates only once it knows the size; the parsers then work on the bytes
// in memory, as the fuzz tests (tests/fuzz/) call them.
#include "datasets/dataset.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <utility>

#include "datasets/gzip.h"
#include "kernels/random.h"

namespace {

constexpr uint32_t kImagesMagic = 0x00000803;
constexpr uint32_t kLabelsMagic = 0x00000801;

// Sides larger than this cannot be an image this project reads; a header that
// claims one is corrupt, and refusing it keeps count * rows * cols far from
// overflow.
constexpr uint32_t kMaxSide = 4096;

// The validation split is the last 10,000 shuffled training images: as large
// as MNIST's test set, so validation and test errors are equally noisy.
constexpr int kValidationCount = 10000;

// The coordinate that gives the split its own random stream; "split" in ASCII,
// so it cannot coincide with a small epoch or step number used elsewhere.
constexpr uint64_t kSplitStream = 0x73706c6974ull;

std::runtime_error file_error(const std::string& path, const std::string& what) {
  return std::runtime_error(path + ": " + what);
}

std::string hex32(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", value);
  return text;
}

// A file descriptor, closed at scope exit.
struct OpenFile {
  explicit OpenFile(int descriptor) : fd(descriptor) {}
  ~OpenFile() {
    if (fd >= 0) ::close(fd);
  }
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  const int fd;
};

uint32_t read_big_endian_u32(const uint8_t* bytes) {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) |
         (uint32_t{bytes[2]} << 8) | uint32_t{bytes[3]};
}

}  // namespace

// The whole file. MNIST's largest file is 47 MB, so reading it at once is
// simpler than streaming and costs nothing that matters. The file's kind and
// size are checked on the open descriptor before anything is allocated.
std::vector<uint8_t> read_file_bytes(const std::string& path, std::size_t max_bytes) {
  // O_NONBLOCK: opening a named pipe must not wait for a writer (it is refused
  // just below); it changes nothing for a regular file.
  const OpenFile file(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (file.fd < 0) throw file_error(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat info;
  if (::fstat(file.fd, &info) != 0) throw file_error(path, std::string("cannot read: ") + std::strerror(errno));
  if (S_ISDIR(info.st_mode)) throw file_error(path, "is a directory, not a data file");
  if (!S_ISREG(info.st_mode)) {
    throw file_error(path, "is not a regular file (a device, pipe or socket), so it is not read");
  }
  if (static_cast<uint64_t>(info.st_size) > max_bytes) {
    throw file_error(path, "is " + std::to_string(info.st_size) + " bytes, more than the " +
                               std::to_string(max_bytes) + " a file of its kind may hold");
  }
  std::vector<uint8_t> bytes;
  bytes.reserve(static_cast<std::size_t>(info.st_size));
  // To the end of the file, which may have grown since fstat (or, like the
  // files under /proc, report no size at all), but never past max_bytes.
  uint8_t chunk[1 << 16];
  for (;;) {
    const ssize_t got = ::read(file.fd, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw file_error(path, std::string("cannot read: ") + std::strerror(errno));
    if (got == 0) break;
    if (static_cast<std::size_t>(got) > max_bytes - bytes.size()) {
      throw file_error(path, "holds more than the " + std::to_string(max_bytes) +
                                 " bytes a file of its kind may hold (it grew while being read)");
    }
    bytes.insert(bytes.end(), chunk, chunk + got);
  }
  return bytes;
}

namespace {

// Parses an IDX file's bytes: `ndims` dimensions with the given magic number;
// checks that its length is exactly the header plus the data the header
// announces, and returns the data with the header removed. `dims` receives
// the sizes; `kind` ("image", "label") names the file in messages.
std::vector<uint8_t> parse_idx(std::vector<uint8_t> bytes, const std::string& path, uint32_t magic,
                               int ndims, const char* kind, std::vector<uint32_t>& dims) {
  // gzip-compressed IDX files (Fashion-MNIST as Debian ships it) are
  // unpacked first, to at most as much as a plain file may hold.
  if (bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) bytes = gunzip(bytes, path, kMaxDataFileBytes);
  const size_t header_bytes = 4 + 4 * static_cast<size_t>(ndims);
  const std::string header_short =
      "incomplete header: the file has " + std::to_string(bytes.size()) +
      " bytes, an IDX " + kind + " header needs " + std::to_string(header_bytes);

  if (bytes.size() < 4) throw file_error(path, header_short);
  const uint32_t found_magic = read_big_endian_u32(bytes.data());
  if (found_magic != magic) {
    throw file_error(path, std::string("not an IDX ") + kind + " file: magic number " +
                               hex32(found_magic) + ", expected " + hex32(magic));
  }
  if (bytes.size() < header_bytes) throw file_error(path, header_short);

  dims.assign(ndims, 0);
  for (int d = 0; d < ndims; ++d) dims[d] = read_big_endian_u32(bytes.data() + 4 + 4 * d);

  // Sizes are checked before they are multiplied: the count must fit the
  // Dataset's int, the sides must be plausible.
  bool sane = dims[0] >= 1 && dims[0] <= static_cast<uint32_t>(INT_MAX);
  for (int d = 1; d < ndims; ++d) sane = sane && dims[d] >= 1 && dims[d] <= kMaxSide;
  if (!sane) {
    std::string shown = std::to_string(dims[0]) + " " + kind + "s";
    if (ndims == 3) shown += " of " + std::to_string(dims[1]) + "x" + std::to_string(dims[2]);
    throw file_error(path, "bad dimensions in the header: " + shown +
                               " (the count must be 1.." + std::to_string(INT_MAX) +
                               (ndims == 3 ? ", each side 1.." + std::to_string(kMaxSide) : "") +
                               ")");
  }

  uint64_t data_bytes = 1;
  for (uint32_t size : dims) data_bytes *= size;
  const uint64_t expected = header_bytes + data_bytes;
  if (bytes.size() != expected) {
    const std::string problem = bytes.size() < expected
                                    ? "truncated"
                                    : std::to_string(bytes.size() - expected) + " trailing bytes";
    throw file_error(path, problem + ": the file has " + std::to_string(bytes.size()) +
                               " bytes, its header promises " + std::to_string(expected) + " (" +
                               std::to_string(header_bytes) + " header + " +
                               std::to_string(data_bytes) + " data)");
  }

  bytes.erase(bytes.begin(), bytes.begin() + header_bytes);
  return bytes;
}

// Images and labels of one half of MNIST, checked to belong together.
Dataset read_labelled(const std::string& images_path, const std::string& labels_path,
                      int classes) {
  Dataset set = read_idx_images(images_path);
  set.labels = read_idx_labels(labels_path, classes);
  if (set.labels.size() != static_cast<size_t>(set.count)) {
    throw file_error(labels_path, "count mismatch: " + std::to_string(set.labels.size()) +
                                      " labels, but " + images_path + " holds " +
                                      std::to_string(set.count) + " images");
  }
  set.classes = classes;
  return set;
}

}  // namespace

Dataset subset(const Dataset& source, const std::vector<int>& indices) {
  const size_t image_bytes = static_cast<size_t>(source.image_size());
  const bool labelled = !source.labels.empty();
  if (source.pixels.size() != static_cast<size_t>(source.count) * image_bytes ||
      (labelled && source.labels.size() != static_cast<size_t>(source.count))) {
    throw std::runtime_error("subset: the source data set's pixels or labels disagree with its count " +
                             std::to_string(source.count));
  }

  Dataset picked;
  picked.count = static_cast<int>(indices.size());
  picked.channels = source.channels;
  picked.height = source.height;
  picked.width = source.width;
  picked.classes = source.classes;
  picked.pixels.reserve(indices.size() * image_bytes);
  if (labelled) picked.labels.reserve(indices.size());
  for (int i : indices) {
    if (i < 0 || i >= source.count) {
      throw std::runtime_error("subset: index " + std::to_string(i) + " is out of range for " +
                               std::to_string(source.count) + " images");
    }
    const uint8_t* image_i = source.image(i);
    picked.pixels.insert(picked.pixels.end(), image_i, image_i + image_bytes);
    if (labelled) picked.labels.push_back(source.labels[i]);
  }
  return picked;
}

Dataset read_idx_images(const std::string& path) {
  return parse_idx_images(read_file_bytes(path, kMaxDataFileBytes), path);
}

std::vector<uint8_t> read_idx_labels(const std::string& path, int classes) {
  return parse_idx_labels(read_file_bytes(path, kMaxDataFileBytes), path, classes);
}

Dataset parse_idx_images(std::vector<uint8_t> bytes, const std::string& path) {
  std::vector<uint32_t> dims;  // count, rows, cols
  Dataset images;
  images.pixels = parse_idx(std::move(bytes), path, kImagesMagic, 3, "image", dims);
  images.count = static_cast<int>(dims[0]);
  images.channels = 1;
  images.height = static_cast<int>(dims[1]);
  images.width = static_cast<int>(dims[2]);
  images.classes = 0;  // known only once labels are attached
  return images;
}

std::vector<uint8_t> parse_idx_labels(std::vector<uint8_t> bytes, const std::string& path, int classes) {
  // A label is one byte, so more than 256 classes cannot be stored.
  if (classes < 1 || classes > 256) {
    throw file_error(path, "cannot check labels against " + std::to_string(classes) +
                               " classes (must be 1..256)");
  }
  std::vector<uint32_t> dims;  // count
  std::vector<uint8_t> labels = parse_idx(std::move(bytes), path, kLabelsMagic, 1, "label", dims);
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] >= classes) {
      throw file_error(path, "label " + std::to_string(labels[i]) + " at index " +
                                 std::to_string(i) + " is out of range (" +
                                 std::to_string(classes) + " classes, so 0.." +
                                 std::to_string(classes - 1) + ")");
    }
  }
  return labels;
}

DataSplits load_mnist(const std::string& dir, uint64_t seed) {
  const std::string fetch_hint = "; fetch MNIST with: sh data/fetch_mnist.sh " + dir;
  std::error_code ignored;
  if (!std::filesystem::is_directory(dir, ignored)) {
    throw file_error(dir, "no such directory" + fetch_hint);
  }
  // Each file as it is, or gzip-compressed with .gz appended (Fashion-MNIST
  // as Debian ships it); the IDX reader unpacks the latter.
  auto find = [&](const std::string& name) {
    const std::string plain = dir + "/" + name;
    if (std::filesystem::exists(plain, ignored) || !std::filesystem::exists(plain + ".gz", ignored)) return plain;
    return plain + ".gz";
  };
  const std::string train_images = find("train-images-idx3-ubyte");
  const std::string train_labels = find("train-labels-idx1-ubyte");
  const std::string test_images = find("t10k-images-idx3-ubyte");
  const std::string test_labels = find("t10k-labels-idx1-ubyte");
  // All four are looked for before any is read, so a half-fetched directory
  // is reported at once rather than after reading 47 MB.
  for (const std::string& path : {train_images, train_labels, test_images, test_labels}) {
    if (!std::filesystem::exists(path, ignored)) throw file_error(path, "missing" + fetch_hint);
  }

  const int classes = 10;
  Dataset all_train = read_labelled(train_images, train_labels, classes);
  DataSplits splits;
  splits.test = read_labelled(test_images, test_labels, classes);
  if (splits.test.height != all_train.height || splits.test.width != all_train.width) {
    throw file_error(test_images, "images are " + std::to_string(splits.test.height) + "x" +
                                      std::to_string(splits.test.width) + ", but " +
                                      train_images + " holds " +
                                      std::to_string(all_train.height) + "x" +
                                      std::to_string(all_train.width));
  }

  return split_validation(all_train, std::move(splits.test), seed, train_images);
}

DataSplits split_validation(const Dataset& all_train, Dataset test, uint64_t seed, const std::string& source) {
  if (all_train.count <= kValidationCount) {
    throw file_error(source, "only " + std::to_string(all_train.count) +
                                 " images; the validation split takes " + std::to_string(kValidationCount) +
                                 ", so at least " + std::to_string(kValidationCount + 1) + " are needed");
  }
  // One shuffle of the training images, fixed by the seed alone; its tail is
  // the validation split, so train and validation never share an image.
  DataSplits splits;
  splits.test = std::move(test);
  const std::vector<int> order =
      random_permutation(all_train.count, mix_key(seed, kSplitStream));
  const auto cut = order.end() - kValidationCount;
  splits.train = subset(all_train, std::vector<int>(order.begin(), cut));
  splits.valid = subset(all_train, std::vector<int>(cut, order.end()));
  return splits;
}
