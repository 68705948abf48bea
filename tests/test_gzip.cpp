// test_gzip.cpp: the gzip reader (gzip.cpp) on streams of each DEFLATE block
// type (gzip_samples.h), damaged, truncated or lying about their length, and
// the IDX reader on a gzip-compressed label file, as Debian ships
// Fashion-MNIST.
#include <doctest/doctest.h>

#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/gzip.h"
#include "gzip_samples.h"
#include "test_files.h"

TEST_CASE("gzip: CRC-32 of the standard check string") {
  const std::string check = "123456789";
  CHECK(crc32(reinterpret_cast<const uint8_t*>(check.data()), check.size()) == 0xCBF43926u);
}

TEST_CASE("gzip: stored, fixed and dynamic blocks decode to what was compressed") {
  const std::vector<uint8_t> stored = gunzip(kStoredGzip, "stored.gz", kMaxDataFileBytes);
  std::vector<uint8_t> counting(40);
  std::iota(counting.begin(), counting.end(), 0);
  CHECK(stored == counting);
  const std::vector<uint8_t> fixed = gunzip(kFixedGzip, "fixed.gz", kMaxDataFileBytes);
  CHECK(std::string(fixed.begin(), fixed.end()) == "hello hello hello hello, said the glimpse");
  const std::vector<uint8_t> labels = gunzip(kDynamicGzip, "labels.gz", kMaxDataFileBytes);
  REQUIRE(labels.size() == 8 + 1500);
  CHECK(labels[3] == 0x01);  // magic 0x00000801
  CHECK(std::accumulate(labels.begin() + 8, labels.end(), 0) == 1397);
  const std::vector<uint8_t> first = {1, 1, 2, 4, 1, 3, 0, 0, 4, 1, 3, 0};
  CHECK(std::vector<uint8_t>(labels.begin() + 8, labels.begin() + 20) == first);
}

TEST_CASE("gzip: damaged and truncated streams are refused, naming the file") {
  std::vector<uint8_t> bad = kDynamicGzip;
  bad[bad.size() / 2] ^= 0x55;
  std::string e = error_of([&] { gunzip(bad, "bad.gz", kMaxDataFileBytes); });
  CHECK(contains(e, "bad.gz: gzip: "));
  bad = kDynamicGzip;
  bad.resize(bad.size() - 20);
  e = error_of([&] { gunzip(bad, "short.gz", kMaxDataFileBytes); });
  CHECK(contains(e, "short.gz: gzip: "));
  CHECK(contains(e, "truncated"));
  bad = kFixedGzip;
  bad[bad.size() - 8] ^= 1;  // the CRC-32 in the trailer
  CHECK(contains(error_of([&] { gunzip(bad, "crc.gz", kMaxDataFileBytes); }), "CRC-32 mismatch"));
  CHECK(contains(error_of([&] { gunzip({0x1f, 0x8b, 8}, "tiny.gz", kMaxDataFileBytes); }), "too short"));
}

TEST_CASE("gzip: what a file unpacks to is bounded, by its trailer's length and a limit, before inflating") {
  // The trailer's length (1,508) over the limit: refused before inflating.
  std::string e = error_of([&] { gunzip(kDynamicGzip, "big.gz", 1000); });
  CHECK(contains(e, "big.gz: gzip: the trailer gives an unpacked length of 1508 bytes, more than the 1000"));
  // A length no DEFLATE stream of this size can reach.
  std::vector<uint8_t> lying = kFixedGzip;
  const std::size_t at = lying.size() - 4;
  lying[at] = 0x40, lying[at + 1] = 0x42, lying[at + 2] = 0x0f, lying[at + 3] = 0;  // 1,000,000
  e = error_of([&] { gunzip(lying, "ratio.gz", kMaxDataFileBytes); });
  CHECK(contains(e, "ratio.gz: gzip: the trailer gives an unpacked length of 1000000 bytes, more than DEFLATE can "
                    "unpack from 53 bytes"));
  // A trailer claiming less than the data holds: inflating stops at it.
  lying[at] = 10, lying[at + 1] = lying[at + 2] = lying[at + 3] = 0;
  e = error_of([&] { gunzip(lying, "short.gz", kMaxDataFileBytes); });
  CHECK(contains(e, "short.gz: gzip: unpacks to more than 10 bytes, the length its trailer gives"));
  // Bytes between the compressed data and the trailer (a second member).
  std::vector<uint8_t> extra = kFixedGzip;
  extra.insert(extra.end() - 8, {1, 2, 3});
  e = error_of([&] { gunzip(extra, "two.gz", kMaxDataFileBytes); });
  CHECK(contains(e, "two.gz: gzip: 3 bytes between the end of the compressed data and the trailer"));
  // inflate itself, on the stored block of kStoredGzip (40 bytes).
  std::vector<uint8_t> out;
  e = error_of([&] { inflate(kStoredGzip.data() + 17, kStoredGzip.size() - 25, 39, out, "raw", "the test's limit"); });
  CHECK(contains(e, "raw: unpacks to more than 39 bytes, the test's limit"));
  out.clear();
  CHECK(inflate(kStoredGzip.data() + 17, kStoredGzip.size() - 25, 40, out, "raw", "") == kStoredGzip.size() - 25);
  CHECK(out.size() == 40);
}

TEST_CASE("gzip: the IDX reader unpacks a gzip-compressed label file by itself") {
  TempDir dir;
  write_file(dir.file("labels.gz"), kDynamicGzip);
  const std::vector<uint8_t> labels = read_idx_labels(dir.file("labels.gz"), 10);
  CHECK(labels.size() == 1500);
  CHECK(std::accumulate(labels.begin(), labels.end(), 0) == 1397);
}

TEST_CASE("gzip: Fashion-MNIST as Debian ships it, when installed, splits 50,000 / 10,000 / 10,000") {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(dir + "/train-images-idx3-ubyte.gz")) {
    MESSAGE("dataset-fashion-mnist not installed; skipped");
    return;
  }
  const DataSplits d = load_mnist(dir, 1);
  CHECK(d.train.count == 50000);
  CHECK(d.valid.count == 10000);
  CHECK(d.test.count == 10000);
  CHECK(d.train.height == 28);
  CHECK(d.train.classes == 10);
}
