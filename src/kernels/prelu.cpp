// PReLU with a shared or per-channel slope: the reference loops (the specification, also run when
// kernel_mode() is reference) and the vector path. A shared slope's forward goes through prelu's
// entry of the activation table, its backward through one fused pass (dx and dweight); per-channel
// slopes through vector_prelu_forward/backward over fixed blocks of rows. dweight is summed from
// fixed pieces in a fixed order, whatever the thread count.
#include "actlab/prelu.hpp"

#include "actlab/activation.hpp"
#include "actlab/kernels.hpp"
#include "kernels/parallel_policy.hpp"
#include "kernels/vector_activations.hpp"

#include <algorithm>
#include <cstdint>
#include <fmt/format.h>
#include <stdexcept>
#include <vector>

namespace actlab {
namespace {

void check_prelu(std::size_t n, std::size_t weights, std::size_t channels) {
  if (channels == 0 || n % channels != 0)
    throw std::invalid_argument(fmt::format("prelu: {} values do not split into {} channels", n, channels));
  if (weights != 1 && weights != channels)
    throw std::invalid_argument(
        fmt::format("prelu: {} weights for {} channels (need 1 or {})", weights, channels, channels));
}

Activation shared_prelu(float weight) {
  static const ActivationInfo* const info = find_activation("prelu");
  return Activation{info, {double(weight), 0.0}};
}

// The per-channel kernels store whole vectors from the first vector-aligned address of a block's
// output on; with channels a multiple of the lanes, every such vector starts at the channel that
// address holds. The extended weights and the backward's accumulators are placed so that this
// channel's slot is 64-byte aligned too: their vector loads and stores then stay within one cache
// line each. (With the accumulators 16 bytes off, as std::vector's data is here, the backward over
// L2-resident rows took 1.3-1.8x as long.)
std::size_t first_vector_channel(const float* out, std::size_t channels) {
  const std::size_t lanes = vector_lanes();
  const std::size_t misalign = (reinterpret_cast<std::uintptr_t>(out) / sizeof(float)) % lanes;
  return (misalign ? lanes - misalign : 0) % channels;
}

// The first q >= p with q + index at a 64-byte boundary (p aligned to sizeof(T)); the buffer
// behind p has 64 / sizeof(T) spare values for it.
template <class T>
T* aligned_slot(T* p, std::size_t index) {
  constexpr std::size_t per_line = 64 / sizeof(T);
  const std::size_t at = (reinterpret_cast<std::uintptr_t>(p) / sizeof(T) + index) % per_line;
  return p + (per_line - at) % per_line;
}

// weight repeated cyclically to channels + vector_lanes() values, slot `channel` aligned (per
// thread, grown once).
const float* extended_weights(std::span<const float> weight, std::size_t channel) {
  thread_local std::vector<float> buffer;
  const std::size_t count = weight.size() + vector_lanes();
  buffer.resize(count + 64 / sizeof(float));
  float* const ext = aligned_slot(buffer.data(), channel);
  // The slopes, then the cycle continued from what is already there (no division per value).
  std::copy(weight.begin(), weight.end(), ext);
  for (std::size_t k = weight.size(); k < count; ++k) ext[k] = ext[k - weight.size()];
  return ext;
}

// Blocks of about 16K values (whole rows); in parallel from 32K values (the cheap activations wait
// for 64K; in a training step a 32K-value PReLU layer measured the same either way); outputs
// streamed past the last-level cache from 4M values.
constexpr std::size_t block_values = 16384, parallel_values = 32768, stream_values = std::size_t(4) << 20;

// Rows per block: about block_values values.
std::size_t block_rows(std::size_t channels) { return std::max<std::size_t>(1, block_values / channels); }

// body(b, first row, rows) for consecutive blocks of `per` rows, in parallel from parallel_values.
template <class Body>
void for_row_blocks(std::size_t rows, std::size_t per, std::size_t channels, Body&& body) {
  const auto blocks = std::int64_t((rows + per - 1) / per);
  const bool parallel = worth_parallel(double(rows * channels), parallel_values);
#pragma omp parallel for schedule(dynamic) if (parallel)
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::size_t r0 = std::size_t(b) * per;
    body(b, r0, std::min(per, rows - r0));
  }
}

void reference_forward(std::span<float> y, std::span<const float> x, std::span<const float> weight,
                       std::size_t channels) {
  const std::size_t step = weight.size() == 1 ? 0 : 1;  // shared slope: always weight[0]
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float a = weight[(i % channels) * step];
    y[i] = x[i] > 0.0f ? x[i] : a * x[i];
  }
}

void reference_backward(std::span<float> dx, std::span<float> dweight, std::span<const float> dy,
                        std::span<const float> x, std::span<const float> weight, std::size_t channels) {
  const std::size_t step = weight.size() == 1 ? 0 : 1;
  std::vector<double> acc(weight.size(), 0.0);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::size_t w = (i % channels) * step;
    const float g = dy[i];
    if (x[i] > 0.0f) {
      dx[i] = g;
    } else {
      acc[w] += double(g) * x[i];
      dx[i] = g * weight[w];
    }
  }
  for (std::size_t w = 0; w < weight.size(); ++w) dweight[w] = float(acc[w]);
}

}  // namespace

void prelu_forward(std::span<float> y, std::span<const float> x, std::span<const float> weight,
                   std::size_t channels) {
  check_prelu(x.size(), weight.size(), channels);
  if (y.size() != x.size()) throw std::invalid_argument("prelu_forward: y and x differ in length");
  if (kernel_mode() == KernelMode::reference) return reference_forward(y, x, weight, channels);
  if (weight.size() == 1) return activation_forward(shared_prelu(weight[0]), y, x);
  const bool stream = x.size() >= stream_values;
  const float* w_ext = extended_weights(weight, first_vector_channel(y.data(), channels));
  for_row_blocks(x.size() / channels, block_rows(channels), channels, [&](std::int64_t, std::size_t r0, std::size_t rows) {
    const std::size_t o = r0 * channels;
    vector_prelu_forward(y.data() + o, x.data() + o, w_ext, rows * channels, channels, stream);
  });
}

void prelu_backward(std::span<float> dx, std::span<float> dweight, std::span<const float> dy,
                    std::span<const float> x, std::span<const float> weight, std::size_t channels) {
  check_prelu(x.size(), weight.size(), channels);
  if (dx.size() != x.size() || dy.size() != x.size() || dweight.size() != weight.size())
    throw std::invalid_argument("prelu_backward: array lengths disagree");
  if (kernel_mode() == KernelMode::reference) return reference_backward(dx, dweight, dy, x, weight, channels);
  const bool stream = x.size() >= stream_values;
  if (weight.size() == 1) {
    // Fixed pieces of 16K values (larger beyond 16M values, so that the partials fit on the stack).
    constexpr std::size_t max_pieces = 1024;
    const std::size_t n = x.size();
    const std::size_t piece = block_values * std::max<std::size_t>(1, (n + block_values * max_pieces - 1) / (block_values * max_pieces));
    const auto pieces = std::int64_t((n + piece - 1) / piece);
    double partial[max_pieces];
    const bool parallel = worth_parallel(double(n), parallel_values);
#pragma omp parallel for schedule(dynamic) if (parallel)
    for (std::int64_t p = 0; p < pieces; ++p) {
      const std::size_t b = std::size_t(p) * piece;
      partial[p] = vector_prelu_shared_backward(dx.data() + b, dy.data() + b, x.data() + b, weight[0],
                                                std::min(piece, n - b), stream);
    }
    double sum = 0.0;
    for (std::int64_t p = 0; p < pieces; ++p) sum += partial[p];
    dweight[0] = float(sum);
    return;
  }
  // One extended row of partial sums per group of rows (see vector_prelu_backward), each placed like
  // the weights (first_vector_channel), summed in group order: groups depend on the shape alone, so
  // the bits do not depend on the thread count. A group is a run of whole blocks, one block each up
  // to 8 blocks, and beyond that about one per 16 rows, at most 64 groups: the partial sums, zeroed
  // and folded on every call, then stay small beside the data (with a partial row per 16K-value
  // block they were as large as the data for wide rows: 8192 channels at 2M values, 30% of the
  // time). The scratch grows once per thread.
  const std::size_t rows = x.size() / channels;
  if (rows == 0) return std::fill(dweight.begin(), dweight.end(), 0.0f);  // a sum over nothing
  const std::size_t blocks = (rows + block_rows(channels) - 1) / block_rows(channels);
  const std::size_t wanted = std::max<std::size_t>(8, std::min<std::size_t>(64, rows / 16));
  const std::size_t count = std::min(blocks, wanted);
  const std::size_t per = block_rows(channels) * ((blocks + count - 1) / count);
  const std::size_t groups = (rows + per - 1) / per, ext = channels + vector_lanes();
  const std::size_t stride = ext + 64 / sizeof(double);
  const std::size_t channel = first_vector_channel(dx.data(), channels);
  const float* w_ext = extended_weights(weight, channel);
  thread_local std::vector<double> partial;
  partial.assign(groups * stride, 0.0);
  double* const scratch = partial.data();  // the calling thread's: the groups run on any thread
  const auto group_acc = [&](std::size_t g) {
    return aligned_slot(scratch + g * stride, first_vector_channel(dx.data() + g * per * channels, channels));
  };
  for_row_blocks(rows, per, channels, [&](std::int64_t g, std::size_t r0, std::size_t n_rows) {
    const std::size_t o = r0 * channels;
    vector_prelu_backward(dx.data() + o, group_acc(std::size_t(g)), dy.data() + o, x.data() + o, w_ext,
                          n_rows * channels, channels, stream);
  });
  double* const acc = group_acc(0);
  for (std::size_t g = 1; g < groups; ++g) {  // into group 0
    const double* const from = group_acc(g);
    for (std::size_t k = 0; k < ext; ++k) acc[k] += from[k];
  }
  for (std::size_t c = 0; c < channels; ++c) {
    double sum = 0.0;
    for (std::size_t k = c; k < ext; k += channels) sum += acc[k];
    dweight[c] = float(sum);
  }
}

}  // namespace actlab
