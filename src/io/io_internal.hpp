// Helpers shared by the data-set loaders in src/io; not part of the public API.
#pragma once

#include "actlab/dataset.hpp"

#include <cstdint>
#include <string>

namespace actlab::io_detail {

// Reads a numeric CSV (optional header; label column "label", else the first) into float features and
// class labels in [0, 255]; num_classes = max label + 1. Throws std::runtime_error "PATH: line N: ...".
Dataset read_csv_dataset(const std::string& path);

// Shuffles the rows with Rng(seed), then puts the last 20% (rows / 5, rounded down) in the test set.
// `what` names the source in the error for too few rows (at least 5 are needed).
DataSplit split_shuffled(std::string name, const Dataset& all, std::uint64_t seed, const std::string& what);

}  // namespace actlab::io_detail
