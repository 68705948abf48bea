// catalog.cpp: data set names, their default directories, and their loaders.
#include "datasets/catalog.h"

#include <stdexcept>

const char* known_datasets() { return "mnist, fashion-mnist, cifar10"; }

bool is_known_dataset(const std::string& name) {
  return name == "mnist" || name == "fashion-mnist" || name == "cifar10";
}

std::string default_data_dir(const std::string& dataset) {
  if (dataset == "fashion-mnist") return "/usr/share/datasets/fashion-mnist";  // Debian's dataset-fashion-mnist
  if (dataset == "cifar10") return "data/cifar10-jpg";                         // data/fetch_cifar10.sh
  return "data/mnist";                                                         // data/fetch_mnist.sh
}

DataSplits load_dataset(const std::string& name, const std::string& dir, uint64_t seed) {
  if (name == "mnist" || name == "fashion-mnist") return load_mnist(dir, seed);  // Fashion-MNIST: the same files, gzipped
  if (name == "cifar10") return load_cifar10(dir, seed);
  throw std::invalid_argument("--dataset: unknown data set '" + name + "' (known: " + known_datasets() + ")");
}
