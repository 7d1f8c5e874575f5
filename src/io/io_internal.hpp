// Helpers shared by the data-set loaders in src/io; not part of the public API.
#pragma once

#include "actlab/dataset.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace actlab::io_detail {

// Asks Linux to back [p, p + bytes) with transparent huge pages (the 2 MiB-aligned part of it; a
// hint, and nothing elsewhere), for memory not yet touched: pages fault in as huge pages then.
void advise_huge_pages(void* p, std::size_t bytes);

// Reserves room for n values on huge pages where the system offers them, for data sets whose rows
// are gathered in random order: with 4 KiB pages nearly every row costs a TLB miss (a Fashion-MNIST
// batch of 128 rows gathered in 9.6 us instead of 18-19 us in a measurement here). Sizes below
// 4 MiB are left alone.
template <class T>
void reserve_on_huge_pages(std::vector<T>& v, std::size_t n) {
  v.reserve(n);
  if (n * sizeof(T) >= (std::size_t(4) << 20)) advise_huge_pages(v.data(), v.capacity() * sizeof(T));
}

// Reads a numeric CSV (optional header: a first row without numbers, or with a column named "label";
// label column "label", else the first) into float features and
// class labels in [0, 255]; num_classes = max label + 1. Throws std::runtime_error "PATH: line N: ...".
Dataset read_csv_dataset(const std::string& path);

// Shuffles the rows with Rng(seed), then puts the last 20% (rows / 5, rounded down) in the test set.
// `what` names the source in the error for too few rows (at least 5 are needed).
DataSplit split_shuffled(std::string name, const Dataset& all, std::uint64_t seed, const std::string& what);

}  // namespace actlab::io_detail
