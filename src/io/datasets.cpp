// Data-set assembly: load_data's source strings, MNIST-layout IDX pairs, NPY pairs, the 80/20 split,
// and per-batch scaling (Dataset::gather).
#include "actlab/dataset.hpp"
#include "actlab/kernels.hpp"
#include "actlab/npy.hpp"
#include "kernels/parse_number.hpp"
#include "io/io_internal.hpp"
#include "kernels/convert_kernels.hpp"
#include "kernels/parallel_policy.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <sys/mman.h>
#include <filesystem>
#include <numeric>
#include <stdexcept>

namespace actlab {

namespace {

// Rows fetched ahead while one is converted, and the batch size (values) from which threads share
// the rows.
constexpr std::int64_t gather_prefetch_distance = 4;
constexpr std::size_t gather_parallel_values = 65536;

// Stored floats are scaled by a loop the compiler vectorizes (restrict: out never aliases in);
// stored bytes by the dispatched kernel of convert_kernels.hpp, which widens a vector of them at a
// time (16 with AVX-512, 8 with AVX2).
void scale_row(float* __restrict out, const float* __restrict in, std::size_t n, float scale, float shift) {
  for (std::size_t j = 0; j < n; ++j) out[j] = float(in[j]) * scale + shift;
}

}  // namespace

void Dataset::gather(std::span<const std::size_t> indices, std::span<float> out) const {
  if (out.size() != indices.size() * features)
    throw std::invalid_argument(fmt::format("Dataset::gather: out holds {} floats, {} rows x {} features need {}",
                                            out.size(), indices.size(), features, indices.size() * features));
  const bool raw = !pixels.empty();
  if ((raw ? pixels.size() : values.size()) != rows * features)
    throw std::logic_error(fmt::format("Dataset::gather: {} stored values for {} rows x {} features",
                                       raw ? pixels.size() : values.size(), rows, features));
  for (const std::size_t r : indices)
    if (r >= rows) throw std::out_of_range(fmt::format("Dataset::gather: row {} is outside [0, {})", r, rows));
  const float scale = scaling.scale, shift = scaling.shift;
  const std::size_t bytes = row_bytes();
  if (raw) (void)kernel_mode();  // applies ACTLAB_ISA before the first dispatch (same bits in every mode)
  // Each row is converted on its own, so threads may share the rows: a batch of shuffled rows waits
  // mostly on main memory, and two cores wait in parallel.
  const auto n = std::int64_t(indices.size());
  const bool parallel = worth_parallel(double(indices.size() * features), gather_parallel_values);
#pragma omp parallel for schedule(static) if (parallel)
  for (std::int64_t k = 0; k < n; ++k) {
    // Shuffled rows are far apart, so each one would start with a wait on main memory: fetch the
    // rows a few ahead while this one is converted.
    if (k + gather_prefetch_distance < n) {
      const char* ahead = row_address(indices[std::size_t(k + gather_prefetch_distance)]);
      for (std::size_t b = 0; b < bytes; b += 64) __builtin_prefetch(ahead + b);
    }
    const std::size_t r = indices[std::size_t(k)];
    float* o = out.data() + std::size_t(k) * features;
    if (raw) vector_scale_bytes(o, pixels.data() + r * features, features, scale, shift);
    else scale_row(o, values.data() + r * features, features, scale, shift);
  }
}

std::size_t Dataset::row_bytes() const {
  return features * (pixels.empty() ? sizeof(values[0]) : sizeof(pixels[0]));
}

const char* Dataset::row_address(std::size_t r) const {
  return pixels.empty() ? reinterpret_cast<const char*>(values.data() + r * features)
                        : reinterpret_cast<const char*>(pixels.data() + r * features);
}

void Dataset::prefetch(std::span<const std::size_t> indices) const {
  if ((pixels.empty() ? values.size() : pixels.size()) != rows * features) return;  // gather reports it
  const std::size_t bytes = row_bytes();
  for (const std::size_t r : indices) {
    if (r >= rows) continue;  // gather reports it
    const char* row = row_address(r);
    for (std::size_t b = 0; b < bytes; b += 64) __builtin_prefetch(row + b, 0, 2);
  }
}

namespace io_detail {

void advise_huge_pages(void* p, std::size_t bytes) {
#ifdef MADV_HUGEPAGE
  constexpr std::uintptr_t huge = std::uintptr_t(2) << 20;
  const auto begin = (reinterpret_cast<std::uintptr_t>(p) + huge - 1) / huge * huge;
  const auto end = (reinterpret_cast<std::uintptr_t>(p) + bytes) / huge * huge;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

DataSplit split_shuffled(std::string name, const Dataset& all, std::uint64_t seed, const std::string& what) {
  if (all.rows < 5)
    throw std::runtime_error(fmt::format("{}: {} rows are too few to split 80/20 (need at least 5)", what, all.rows));
  std::vector<std::size_t> order(all.rows);
  std::iota(order.begin(), order.end(), std::size_t(0));
  Rng rng(seed);
  for (std::size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[rng.below(i + 1)]);  // Fisher-Yates

  const std::size_t n_test = all.rows / 5, n_train = all.rows - n_test;
  auto take = [&](std::size_t from, std::size_t to) {
    Dataset d;
    d.rows = to - from;
    d.features = all.features;
    d.num_classes = all.num_classes;
    d.scaling = all.scaling;
    const std::size_t f = all.features;
    for (std::size_t i = from; i < to; ++i) {
      const std::size_t r = order[i];
      if (!all.pixels.empty())
        d.pixels.insert(d.pixels.end(), all.pixels.begin() + r * f, all.pixels.begin() + (r + 1) * f);
      if (!all.values.empty())
        d.values.insert(d.values.end(), all.values.begin() + r * f, all.values.begin() + (r + 1) * f);
      d.labels.push_back(all.labels[r]);
    }
    return d;
  };
  DataSplit split;
  split.name = std::move(name);
  split.train = take(0, n_train);
  split.test = take(n_train, all.rows);
  return split;
}

}  // namespace io_detail

namespace {

using io_detail::split_shuffled;

std::string find_idx(const std::string& dir, const std::string& base) {
  namespace fs = std::filesystem;
  const fs::path p = fs::path(dir) / base;
  std::error_code ec;
  if (fs::exists(p, ec)) return p.string();
  if (fs::exists(p.string() + ".gz", ec)) return p.string() + ".gz";
  throw std::runtime_error(fmt::format("{}[.gz]: not found", p.string()));
}

// An image file [N, ...] and a label file [N] with labels below `classes`; pixels stay uint8.
Dataset load_idx_pair(const std::string& images_path, const std::string& labels_path, int classes) {
  IdxArray images = read_idx(images_path);
  const IdxArray labels = read_idx(labels_path);
  if (images.dims.size() < 2)
    throw std::runtime_error(fmt::format("{}: expected images [N, height, width], got [{}]", images_path,
                                         fmt::join(images.dims, ", ")));
  if (labels.dims.size() != 1)
    throw std::runtime_error(
        fmt::format("{}: expected labels [N], got [{}]", labels_path, fmt::join(labels.dims, ", ")));
  if (labels.dims[0] != images.dims[0])
    throw std::runtime_error(fmt::format("{}: {} labels, but {} has {} images", labels_path, labels.dims[0],
                                         images_path, images.dims[0]));
  Dataset ds;
  ds.rows = images.dims[0];
  ds.features = ds.rows ? images.data.size() / ds.rows : 0;
  if (ds.rows == 0 || ds.features == 0)
    throw std::runtime_error(fmt::format("{}: holds no images", images_path));
  for (std::size_t i = 0; i < labels.data.size(); ++i)
    if (labels.data[i] >= classes)
      throw std::runtime_error(fmt::format("{}: label {} at index {} is out of range [0, {})", labels_path,
                                           labels.data[i], i, classes));
  ds.pixels = std::move(images.data);
  ds.labels.assign(labels.data.begin(), labels.data.end());
  ds.num_classes = classes;
  ds.scaling = {1.0f / 255.0f, 0.0f};  // pixels 0..255 to inputs in [0, 1]
  return ds;
}

DataSplit load_mnist_dir(const std::string& dir, std::string name) {
  DataSplit split;
  split.name = std::move(name);
  split.train = load_idx_pair(find_idx(dir, "train-images-idx3-ubyte"), find_idx(dir, "train-labels-idx1-ubyte"), 10);
  split.test = load_idx_pair(find_idx(dir, "t10k-images-idx3-ubyte"), find_idx(dir, "t10k-labels-idx1-ubyte"), 10);
  if (split.train.features != split.test.features)
    throw std::runtime_error(fmt::format("{}: training images have {} pixels but test images have {}", dir,
                                         split.train.features, split.test.features));
  return split;
}

// X [N, ...] features (flattened per row) and Y [N] or [N, 1] integer labels.
Dataset read_npy_dataset(const std::string& x_path, const std::string& y_path) {
  NpyArray x = read_npy(x_path);
  const NpyArray y = read_npy(y_path);
  if (x.shape.size() < 2)
    throw std::runtime_error(fmt::format("{}: expected features [N, features], got shape ({})", x_path,
                                         fmt::join(x.shape, ", ")));
  if (y.shape.empty() || y.shape.size() > 2 || (y.shape.size() == 2 && y.shape[1] != 1))
    throw std::runtime_error(fmt::format("{}: expected labels [N], got shape ({})", y_path, fmt::join(y.shape, ", ")));
  if (y.shape[0] != x.shape[0])
    throw std::runtime_error(
        fmt::format("{}: {} labels, but {} has {} rows", y_path, y.shape[0], x_path, x.shape[0]));
  Dataset ds;
  ds.rows = x.shape[0];
  ds.features = ds.rows ? x.data.size() / ds.rows : 0;
  if (ds.rows == 0 || ds.features == 0) throw std::runtime_error(fmt::format("{}: holds no data", x_path));
  for (std::size_t i = 0; i < x.data.size(); ++i)
    if (!std::isfinite(x.data[i]))
      throw std::runtime_error(fmt::format("{}: row {}, feature {}: value {} is not finite", x_path,
                                           i / ds.features, i % ds.features, x.data[i]));
  std::int32_t max_label = 0;
  for (std::size_t i = 0; i < y.data.size(); ++i) {
    const float v = y.data[i];
    if (!(v >= 0.0f && v <= 255.0f && v == std::floor(v)))
      throw std::runtime_error(
          fmt::format("{}: row {}: label {} is out of range (class index in [0, 255])", y_path, i, v));
    ds.labels.push_back(std::int32_t(v));
    max_label = std::max(max_label, ds.labels.back());
  }
  ds.values = std::move(x.data);
  ds.num_classes = max_label + 1;
  return ds;
}

std::string stem(std::string_view path) { return std::filesystem::path(path).stem().string(); }

// The split's shuffle gets its own stream, not the generator's, so noise and order are unrelated.
constexpr std::uint64_t kSplitSalt = 0x53504C4954ull;  // "SPLIT"

}  // namespace

std::string absolute_data_source(std::string_view source) {
  const std::size_t colon = source.find(':');
  const std::string_view kind = source.substr(0, colon);
  const bool names_files = kind == "csv" || kind == "npy" || kind == "mnist";
  if (colon == std::string_view::npos || colon + 1 == source.size() || !names_files) return std::string(source);
  const auto absolute = [](std::string_view p) { return std::filesystem::absolute(std::string(p)).string(); };
  const std::string_view arg = source.substr(colon + 1);
  const std::size_t comma = arg.find(',');
  if (kind == "npy" && comma != std::string_view::npos)
    return fmt::format("npy:{},{}", absolute(arg.substr(0, comma)), absolute(arg.substr(comma + 1)));
  return fmt::format("{}:{}", kind, absolute(arg));
}

namespace {

DataSplit load_split(std::string_view source, std::uint64_t seed) {
  const std::size_t colon = source.find(':');
  const std::string_view kind = source.substr(0, colon);
  const bool has_arg = colon != std::string_view::npos;
  const std::string arg(has_arg ? source.substr(colon + 1) : std::string_view());
  const std::string what = fmt::format("data source '{}'", source);
  if (has_arg && arg.empty()) throw std::invalid_argument(fmt::format("{}: nothing after ':'", what));

  if (kind == "fashion-mnist" && !has_arg) return load_mnist_dir("/usr/share/datasets/fashion-mnist", "fashion-mnist");
  if (kind == "mnist" && has_arg) return load_mnist_dir(arg, "mnist");
  if (kind == "csv" && has_arg) return split_shuffled(stem(arg), io_detail::read_csv_dataset(arg), seed, arg);
  if (kind == "npy" && has_arg) {
    const std::size_t comma = arg.find(',');
    if (comma == std::string::npos || comma == 0 || comma + 1 == arg.size() ||
        arg.find(',', comma + 1) != std::string::npos)
      throw std::invalid_argument(fmt::format("{}: expected npy:X.npy,Y.npy", what));
    const std::string x = arg.substr(0, comma), y = arg.substr(comma + 1);
    return split_shuffled(stem(x), read_npy_dataset(x, y), seed, x);
  }
  const long long max_points = 1 << 24;
  auto count = [&](long long fallback) {
    return has_arg ? std::size_t(parse_integer(arg, what, 5, max_points)) : std::size_t(fallback);
  };
  const std::string name(kind);
  if (kind == "spirals") return split_shuffled(name, make_spirals(count(1000), 3, seed), seed ^ kSplitSalt, name);
  if (kind == "moons") return split_shuffled(name, make_moons(count(2000), 0.1f, seed), seed ^ kSplitSalt, name);
  if (kind == "blobs") return split_shuffled(name, make_blobs(count(2000), 4, 2, seed), seed ^ kSplitSalt, name);
  throw std::invalid_argument(fmt::format(
      "unknown data source '{}' (expected fashion-mnist, mnist:DIR, csv:FILE, npy:X.npy,Y.npy, spirals[:N], "
      "moons[:N] or blobs[:N])",
      source));
}

}  // namespace

DataSplit load_data(std::string_view source, std::uint64_t seed) {
  DataSplit split = load_split(source, seed);
  split.source = absolute_data_source(source);
  split.seed = seed;
  return split;
}

}  // namespace actlab
