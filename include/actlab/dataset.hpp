// Data sets: features kept in their raw form (uint8 images stay uint8), labels as class indices,
// scaled into float batches on demand.
#pragma once

#include "actlab/random.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace actlab {

// How raw features become model inputs: input = raw * scale + shift (recorded in the model config).
struct InputScaling {
  float scale = 1.0f;
  float shift = 0.0f;
};

struct Dataset {
  std::size_t rows = 0;
  std::size_t features = 0;
  std::vector<std::uint8_t> pixels;  // rows * features raw bytes, or empty when `values` is used
  std::vector<float> values;         // rows * features floats, or empty when `pixels` is used
  std::vector<std::int32_t> labels;  // rows class indices in [0, num_classes)
  int num_classes = 0;
  InputScaling scaling;

  // Writes the scaled features of rows indices[0..k) into out ([k, features], row-major).
  void gather(std::span<const std::size_t> indices, std::span<float> out) const;
  // Asks the CPU to start fetching these rows into its caches (a hint: no effect on results), so
  // that a later gather of them does not wait on main memory.
  void prefetch(std::span<const std::size_t> indices) const;

 private:
  std::size_t row_bytes() const;
  const char* row_address(std::size_t r) const;
};

struct DataSplit {
  std::string name;  // e.g. "fashion-mnist"
  Dataset train;
  Dataset test;
  // What load_data was given (the source with absolute paths): load_data(source, seed) gives these
  // rows again. Empty for splits made otherwise.
  std::string source;
  std::uint64_t seed = 0;
};

// Loads a data source:
//   fashion-mnist        /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist)
//   mnist:DIR            IDX files in DIR: train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz],
//                        t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]
//   csv:FILE             numeric CSV, optional header; the label column is the one named "label",
//                        else the first; the last 20% of rows (after a seeded shuffle) are the test set
//   npy:X.npy,Y.npy      X [N, features], Y [N] integer labels; split as for csv
//   spirals, moons, blobs  synthetic 2-D sets (spirals:N adds the number of points), seeded
// Throws std::runtime_error naming the file and what is wrong.
DataSplit load_data(std::string_view source, std::uint64_t seed);

// The same source with its file or folder paths (csv:, npy:, mnist:) made absolute, so that it
// names the same data from another working directory; others are returned as they are.
std::string absolute_data_source(std::string_view source);

// An IDX array (MNIST layout): uint8 data, 1 to 4 dimensions. Gzipped files are detected by magic.
struct IdxArray {
  std::vector<std::size_t> dims;
  std::vector<std::uint8_t> data;
};
IdxArray read_idx(const std::string& path);

// Synthetic sets, for tests and quick runs. Deterministic for a given seed.
Dataset make_spirals(std::size_t points_per_class, int classes, std::uint64_t seed);
Dataset make_moons(std::size_t points, float noise, std::uint64_t seed);
Dataset make_blobs(std::size_t points, int classes, int features, std::uint64_t seed);

}  // namespace actlab
