// Measured performance: activation kernels against the machine's own memory roof, BatchNorm, and
// a training step split into matrix products and everything else. Used by `actlab bench`.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace actlab {

struct BenchOptions {
  std::size_t cache_elems = std::size_t(1) << 18;  // 256K floats: cache-resident
  std::size_t dram_elems = std::size_t(1) << 24;   // 16M floats: DRAM-sized
  bool reference = true;        // also time the scalar reference kernels (the baseline)
  std::vector<std::string> activations;  // empty: every table entry (+ gelu:approximate=tanh)
  double min_seconds = 0.2;     // per measurement, split into repetitions; the median is reported
  std::size_t inference_rows = 10000;  // the batch of the inference timing (the test set's size)
};

// Memory roof at one size, measured in the same process with the same threads, before and after
// the kernels of that size (each rate the better of the two): copy y = x (8 bytes/element) and
// triad a = b + s c (12 bytes/element), each the faster of a plain version (memcpy, a plain loop)
// and one whose stores bypass the cache (non-temporal hints).
struct Roof {
  std::size_t elems = 0;
  double copy_gbs = 0.0, triad_gbs = 0.0;  // the roofs: the faster of the two ways below
  double memcpy_gbs = 0.0, stream_copy_gbs = 0.0, plain_triad_gbs = 0.0, stream_triad_gbs = 0.0;
};

// One row per activation, direction and kernels. Besides the table's activations, the PReLU layer
// over [n / 256, 256] (prelu.hpp) as "prelu_layer:weights=1" (one shared slope) and
// "prelu_layer:weights=256" (a slope per channel): its backward also sums the slopes' gradient, as
// PyTorch's does, where the table's "prelu" row (a fixed slope) computes dx alone. Those rows take n
// rounded down to whole rows of 256 (n itself for the sizes `actlab bench` uses).
struct KernelTiming {
  std::string activation;  // canonical spec, e.g. "gelu:approximate=tanh", or prelu_layer:weights=W
  std::string direction;   // forward | backward
  std::string kernels;     // vector | reference
  std::size_t elems = 0;
  double ns_per_elem = 0.0;
  double gbs = 0.0;           // forward moves 8 bytes/element, backward 12
  double roof_fraction = 0.0; // gbs / copy roof (forward) or / triad roof (backward)
};

struct BatchNormTiming {
  std::size_t rows = 0, features = 0;
  std::string kernels;
  double train_forward_ns = 0.0, backward_ns = 0.0, eval_forward_ns = 0.0;  // per element
};

// One training step of the seed recipe (784-256-128-10, batch 128, SGD), in milliseconds.
struct StepBreakdown {
  double step_ms = 0.0;   // forward, loss, backward, optimizer
  double gemm_ms = 0.0;   // the same step's matrix products alone
  double other_ms = 0.0;  // step - gemm
};

// predict() on the seed recipe (784-256-128-10, random weights, BatchNorm folded), warm medians.
struct InferenceTiming {
  std::size_t rows = 0;    // rows of the batch run
  double batch_ms = 0.0;   // all `rows` rows
  double one_row_us = 0.0; // a single row, per call
};

// How fast one thread reads (copies) 256 KB, inside one core's cache, that another thread has just
// written, against data it wrote itself, in bytes read per second: both 0 with one thread. The
// threads are not pinned; with two busy threads on two cores the OS keeps them on different
// cores. On VMs the ratio moves with where the host places the cores (on the development VM, 1.6x
// in one placement and 3.4x in another), and every handover between threads in a training step
// pays it.
struct CrossCoreTiming {
  double own_gbs = 0.0;    // reading what this thread wrote
  double other_gbs = 0.0;  // reading what the other thread wrote
};

struct BenchReport {
  std::string cpu, isa;
  std::string matrix_products;  // describe_matrix_products()
  int threads = 1;
  std::vector<Roof> roofs;
  CrossCoreTiming cross_core;
  std::vector<KernelTiming> kernels;
  std::vector<BatchNormTiming> batchnorm;
  StepBreakdown step;
  InferenceTiming inference;
};

BenchReport run_bench(const BenchOptions& options);

// Forward + backward nanoseconds per element of one activation (a spec) at 256K floats with the
// current kernels, on one thread: the cost column of comparison tables.
double activation_cost_ns(const std::string& spec, double min_seconds = 0.05);

}  // namespace actlab
