// catalog.cpp: data set names, their default directories, and their loaders.
#include "datasets/catalog.h"

#include <stdexcept>

#include "kernels/random.h"

namespace {
// Keys that keep the placements of the three splits apart.
constexpr uint64_t kKeyTrain = 0x747261696e;  // "train"
constexpr uint64_t kKeyValid = 0x76616c6964;  // "valid"
constexpr uint64_t kKeyTest = 0x74657374;     // "test"
}  // namespace

const char* known_datasets() { return "mnist, fashion-mnist, cifar10, translated-mnist, cluttered-mnist"; }

bool is_known_dataset(const std::string& name) {
  return name == "mnist" || name == "fashion-mnist" || name == "cifar10" || is_placed_mnist(name);
}

bool is_placed_mnist(const std::string& name) { return name == "translated-mnist" || name == "cluttered-mnist"; }

PlacementConfig default_placement(const std::string& name, int canvas) {
  PlacementConfig p;
  p.canvas = canvas;
  if (name == "cluttered-mnist") p.clutter = canvas >= 100 ? 8 : 4;
  return p;
}

std::string default_data_dir(const std::string& dataset) {
  if (dataset == "fashion-mnist") return "/usr/share/datasets/fashion-mnist";  // Debian's dataset-fashion-mnist
  if (dataset == "cifar10") return "data/cifar10-jpg";                         // data/fetch_cifar10.sh
  return "data/mnist";                                                         // data/fetch_mnist.sh
}

DataSplits load_dataset(const std::string& name, const std::string& dir, uint64_t seed,
                        const PlacementConfig& placement) {
  if (name == "mnist" || name == "fashion-mnist") return load_mnist(dir, seed);  // Fashion-MNIST: the same files, gzipped
  if (is_placed_mnist(name)) {
    // Each split is placed from its own digits, so no test digit leaks into
    // the training images as clutter, nor the other way round.
    const DataSplits digits = load_mnist(dir, seed);
    DataSplits placed;
    placed.valid = place_digits(digits.valid, placement, mix_key(seed, kKeyValid));
    placed.test = place_digits(digits.test, placement, mix_key(seed, kKeyTest));
    placed.training_epoch = [train = digits.train, placement, seed](int epoch) {
      return place_digits(train, placement, mix_key(seed, kKeyTrain, static_cast<uint64_t>(epoch)));
    };
    placed.train = placed.training_epoch(0);
    return placed;
  }
  if (name == "cifar10") return load_cifar10(dir, seed);
  throw std::invalid_argument("--dataset: unknown data set '" + name + "' (known: " + known_datasets() + ")");
}
