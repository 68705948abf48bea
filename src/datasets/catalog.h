// catalog.h: the data sets the program knows by name, where each is read
// from unless --data says otherwise, and the one call that loads any of them.
// (The top-level data/ folder holds the scripts that fetch the files; this
// is the code that reads them.)
#pragma once

#include <cstdint>
#include <string>

#include "datasets/dataset.h"
#include "datasets/translated_mnist.h"

// "mnist, fashion-mnist, cifar10, translated-mnist, cluttered-mnist": for messages.
const char* known_datasets();
bool is_known_dataset(const std::string& name);
// Where each data set is read from unless --data says otherwise.
std::string default_data_dir(const std::string& dataset);
// Whether the data set is MNIST digits placed on a canvas (translated_mnist.h).
bool is_placed_mnist(const std::string& name);
// The placement a data set uses when --canvas, --clutter and --clutter-size
// are not given: translated-mnist 60x60 without clutter; cluttered-mnist
// 60x60 with 4 pieces of 8x8 (RAM paper), or 8 pieces on a canvas of 100 or
// more (DeepMind's mnist-cluttered).
PlacementConfig default_placement(const std::string& name, int canvas = 60);
// Reads the named data set from dir, split by seed (dataset.h); the placed
// MNIST data sets take `placement`, the others ignore it. Throws
// std::invalid_argument for an unknown name, std::runtime_error naming the
// file for a bad one.
DataSplits load_dataset(const std::string& name, const std::string& dir, uint64_t seed,
                        const PlacementConfig& placement = {});
