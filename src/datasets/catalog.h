// catalog.h: the data sets the program knows by name, where each is read
// from unless --data says otherwise, and the one call that loads any of them.
// (The top-level data/ folder holds the scripts that fetch the files; this
// is the code that reads them.)
#pragma once

#include <cstdint>
#include <string>

#include "datasets/dataset.h"

// "mnist, fashion-mnist, cifar10": for messages.
const char* known_datasets();
bool is_known_dataset(const std::string& name);
// Where each data set is read from unless --data says otherwise.
std::string default_data_dir(const std::string& dataset);
// Reads the named data set from dir, split by seed (dataset.h). Throws
// std::invalid_argument for an unknown name, std::runtime_error naming the
// file for a bad one.
DataSplits load_dataset(const std::string& name, const std::string& dir, uint64_t seed);
