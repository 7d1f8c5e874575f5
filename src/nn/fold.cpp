#include "actlab/fold.hpp"

#include "actlab/random.hpp"
#include "kernels/gemm.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <fmt/format.h>
#include <omp.h>
#include <optional>
#include <stdexcept>

namespace actlab {

Sequential fold_batchnorm(const Sequential& model) {
  std::vector<Layer> out;
  const auto& layers = model.layers();
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const auto* lin = std::get_if<Linear>(&layers[i]);
    const auto* bn = i + 1 < layers.size() ? std::get_if<BatchNorm1d>(&layers[i + 1]) : nullptr;
    if (!lin || !bn) {
      out.push_back(layers[i]);
      continue;
    }
    Linear folded = *lin;
    for (std::size_t o = 0; o < lin->out_features; ++o) {
      // In double: the folded weights are then within one float rounding of the exact product.
      const double s = double(bn->weight[o]) / std::sqrt(double(bn->running_var[o]) + double(bn->eps));
      for (std::size_t k = 0; k < lin->in_features; ++k) {
        float& w = folded.weight[o * lin->in_features + k];
        w = float(s * double(w));
      }
      folded.bias[o] = float(s * (double(lin->bias[o]) - bn->running_mean[o]) + bn->bias[o]);
    }
    out.push_back(std::move(folded));
    ++i;  // the BatchNorm is now part of the Linear
  }
  return Sequential(model.in_features(), std::move(out));
}

std::size_t predict_chunk_rows() { return gemm_uses_packed_kernel() ? 2048 : 256; }

namespace {

// The chunks of a thread that runs its own share of the rows. Each such thread packs every weight
// matrix for each of its chunks (where each layer's work is split between the threads, each packs
// half of each), so they are smaller than predict_chunk_rows(): seed recipe, 10,000 images, 2
// threads, Zen 5: 10.5-10.7 ms in chunks of 768 against 11.1-11.2 in chunks of 2048. On OpenBLAS
// the chunks of one thread, as its rounding of a row depends on them (below).
std::size_t share_chunk_rows() { return gemm_uses_packed_kernel() ? 768 : predict_chunk_rows(); }

// A copy of the model's layers for evaluation on another thread: each Linear without its gradient
// buffers, which are as large as its weights and which evaluation never touches.
Sequential evaluation_copy(const Sequential& model) {
  std::vector<Layer> layers;
  layers.reserve(model.layers().size());
  for (const Layer& layer : model.layers()) {
    if (const auto* lin = std::get_if<Linear>(&layer)) {
      Linear lean;
      lean.in_features = lin->in_features;
      lean.out_features = lin->out_features;
      lean.weight = lin->weight;
      lean.bias = lin->bias;
      layers.emplace_back(std::move(lean));
    } else {
      layers.push_back(layer);
    }
  }
  return Sequential(model.in_features(), std::move(layers));
}

// The rows [begin, end) of predict's output, in chunks of chunk_rows, on the calling thread.
void predict_rows(Sequential& model, std::span<const float> x, std::span<float> y, std::size_t begin,
                  std::size_t end, std::size_t chunk_rows) {
  const std::size_t features = model.in_features(), classes = model.out_features();
  Rng unused_rng(0);  // evaluation draws no random numbers
  for (std::size_t start = begin, n = 0; start < end; start += n) {
    n = std::min(chunk_rows, end - start);
    // A last chunk of one row would run as a matrix-vector product, which rounds differently from
    // the matrix products of the rows before it: two rows are left for it instead.
    if (end - start - n == 1 && n > 2) --n;
    const auto out = model.forward(x.subspan(start * features, n * features), n, Mode::eval, unused_rng);
    std::copy(out.begin(), out.end(), y.begin() + std::ptrdiff_t(start * classes));
  }
}

}  // namespace

// Against each layer's work split between the threads, seed recipe, 2 threads, Zen 5, in the normal
// state: 512-2000 rows 3-7% slower, 3000 rows 1.5-2.6%, 5000 rows 0.4-1.6%, 10,000 and 20,000 rows
// the same (-2% to +2%). Where reading the other core's caches is slow, 10,000 rows 1.20-1.26x
// faster. Hence two chunks a thread.
std::size_t predict_rows_per_thread() { return 2 * share_chunk_rows(); }

std::vector<float> predict(Sequential& model, std::span<const float> x, std::size_t rows) {
  const std::size_t features = model.in_features(), classes = model.out_features();
  if (x.size() != rows * features)
    throw std::invalid_argument(
        fmt::format("predict: {} values are not {} rows of {} features", x.size(), rows, features));
  std::vector<float> y(rows * classes);
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (threads == 1 || rows / std::size_t(threads) < predict_rows_per_thread()) {
    // On OpenBLAS, chunks of 256 rows: on 10,000 Fashion-MNIST images (seed recipe, one thread, the
    // Zen 4 machine) they took 55 ms, against 57 ms for 1024 rows and 60 ms for one chunk.
    predict_rows(model, x, y, 0, rows, predict_chunk_rows());
    return y;
  }
  // OpenBLAS may round a row differently with the rows around it (measured: the seed recipe's outputs
  // moved in their last bits with the chunk's row count), so there each thread takes whole chunks,
  // cut where one thread would cut them. The packed kernel's bits depend on nothing but the row.
  const std::size_t chunk_rows = share_chunk_rows();
  const std::size_t unit = gemm_uses_packed_kernel() ? 1 : chunk_rows, units = (rows + unit - 1) / unit;
  // Each thread runs whole chunks of its own rows through every layer, on its own copy of the model
  // (the first thread on `model`), so that no layer's output is read by another core. The outputs'
  // bits are those of one thread: no kernel sums across rows, the packed kernel's products depend on
  // the row alone, and OpenBLAS's see the same chunks.
  std::exception_ptr failure;
  std::atomic<bool> copy_failed{false};  // read after the barrier, while `failure` may be written
#pragma omp parallel num_threads(threads)
  {
    // Shares of units / team units or one more. With unit 1, none is a single row (each has at
    // least predict_rows_per_thread()), which would round differently; with whole chunks, each
    // share is cut into the chunks one thread would cut there. The team may be smaller than asked
    // for (OMP_DYNAMIC, OMP_THREAD_LIMIT).
    const auto t = std::size_t(omp_get_thread_num()), team = std::size_t(omp_get_num_threads());
    const std::size_t begin = std::min(rows, units * t / team * unit);
    const std::size_t end = std::min(rows, units * (t + 1) / team * unit);
    // Each copy (evaluation_copy) is made before the first thread's forward starts writing to
    // `model`; the copy's memory is then first touched by its own thread.
    std::optional<Sequential> copy;
    try {
      if (t != 0) copy.emplace(evaluation_copy(model));
    } catch (...) {
      copy_failed = true;
#pragma omp critical(actlab_predict_failure)
      if (!failure) failure = std::current_exception();
    }
#pragma omp barrier
    try {
      if (begin < end && !copy_failed) predict_rows(copy ? *copy : model, x, y, begin, end, chunk_rows);
    } catch (...) {
#pragma omp critical(actlab_predict_failure)
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
  return y;
}

}  // namespace actlab
