// The PReLU kernels (shared and per-channel slopes) against the scalar reference: outputs bit for
// bit, the slopes' gradient within summation-order rounding, at every alignment, on every compiled
// instruction set, with one and two threads.
#include "actlab/activation.hpp"
#include "actlab/prelu.hpp"
#include "every_target.hpp"

#include <gtest/gtest.h>
#include <omp.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <fmt/format.h>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace {

using actlab::Activation;
using actlab::ModeGuard;

// The shared slope's gradient: sum over x <= 0 of dy * x, against the double-accumulating reference.
TEST(ActivationVector, PreluParamGradMatchesReference) {
  const ModeGuard mode(actlab::KernelMode::vector);
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  for (const std::size_t n : {std::size_t(0), std::size_t(1), std::size_t(15), std::size_t(1000), std::size_t(16385), std::size_t(300007)}) {
    std::vector<float> x(n), dy(n);
    for (float& v : x) v = normal(rng);
    for (float& v : dy) v = normal(rng);
    double magnitude = 0;
    for (std::size_t i = 0; i < n; ++i) magnitude += std::fabs(double(dy[i]) * x[i]);
    const Activation act = actlab::parse_activation("prelu");
    const double expected = act.info->reference_f32.param_grad(act.params, dy, x);
    EXPECT_NEAR(actlab::activation_param_grad(act, dy, x), expected, 1e-12 * magnitude + 1e-300) << "n " << n;
  }
}

// Equal element for element; otherwise names the first difference.
testing::AssertionResult same(const std::vector<float>& a, const std::vector<float>& b) {
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::bit_cast<std::uint32_t>(a[i]) != std::bit_cast<std::uint32_t>(b[i]))
      return testing::AssertionFailure() << "first difference at " << i << ": " << a[i] << " vs " << b[i];
  return testing::AssertionSuccess();
}

// PReLU over [rows, channels] (shared and per-channel slopes): outputs exactly the reference's,
// dweight within summation-order rounding, and the same for one and two threads.
TEST(ActivationVector, PreluChannelsMatchReference) {
  const int saved = omp_get_max_threads();
  std::mt19937 rng(8);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<std::pair<std::size_t, std::size_t>> shapes;  // channels, rows
  for (const std::size_t channels : {1, 3, 16, 17, 100, 256})
    for (const std::size_t rows : {1, 5, 1000}) shapes.emplace_back(channels, rows);
  shapes.emplace_back(256, 16400);  // 4.2M values: stored with non-temporal hints
  for (const auto& [channels, rows] : shapes) {
    const std::size_t n = rows * channels;
    std::vector<float> x(n), dy(n), w(channels);
    for (float& v : x) v = normal(rng);
    for (float& v : dy) v = normal(rng);
    for (float& v : w) v = normal(rng) * 0.1f;
    for (const std::size_t weights : {std::size_t(1), channels}) {
      const std::span<const float> ws(w.data(), weights);
      std::vector<float> y[3], dx[3], dw[3];
      for (int run = 0; run < 3; ++run) {  // reference, vector with 1 thread, vector with 2
        const ModeGuard mode(run == 0 ? actlab::KernelMode::reference : actlab::KernelMode::vector);
        omp_set_num_threads(run == 2 ? 2 : 1);
        y[run].resize(n), dx[run].resize(n), dw[run].resize(weights);
        actlab::prelu_forward(y[run], x, ws, channels);
        actlab::prelu_backward(dx[run], dw[run], dy, x, ws, channels);
      }
      const std::string what = fmt::format("{} rows x {} channels, {} weights", rows, channels, weights);
      EXPECT_TRUE(same(y[0], y[1])) << what << " forward, vector against reference";
      EXPECT_TRUE(same(dx[0], dx[1])) << what << " backward, vector against reference";
      EXPECT_TRUE(same(y[1], y[2])) << what << " forward, 1 thread against 2";
      EXPECT_TRUE(same(dx[1], dx[2])) << what << " backward, 1 thread against 2";
      EXPECT_EQ(dw[1], dw[2]) << what << ": dweight depends on the thread count";
      for (std::size_t c = 0; c < weights; ++c) {
        double magnitude = 0;
        for (std::size_t i = c; i < n; i += weights) magnitude += std::fabs(double(dy[i]) * x[i]);
        EXPECT_NEAR(dw[1][c], dw[0][c], 1e-6 * magnitude + 1e-30) << what << ", channel " << c;
      }
    }
  }
  omp_set_num_threads(saved);
}

// No rows: nothing to compute, and the slopes' gradient is a sum over nothing (the per-channel
// backward used to read partial sums it had not allocated).
TEST(ActivationVector, PreluWithoutRows) {
  for (const auto mode : {actlab::KernelMode::reference, actlab::KernelMode::vector}) {
    const ModeGuard guard(mode);
    for (const std::size_t weights : {1, 3}) {
      std::vector<float> none, w(weights, 0.25f), dw(weights, 7.0f);
      actlab::prelu_forward(none, none, w, 3);
      actlab::prelu_backward(none, dw, none, none, w, 3);
      EXPECT_EQ(dw, std::vector<float>(weights, 0.0f)) << weights << " weights";
    }
  }
}

// The per-channel kernels place their weights and accumulators by where the output's first aligned
// vector falls: at every offset of the arrays from a 64-byte boundary, on every instruction set, for
// channel counts that are and are not multiples of the lanes (and below them, dividing the 16, 8 or
// 4 lanes of AVX-512, AVX2 or SSE4; 12, between AVX2's 8 and 16), single rows, several row blocks,
// and wide rows whose groups take two blocks each (17000 x 12), with 1 and 2 threads (the larger
// shapes go parallel), the outputs are still exactly the reference's and dweight within rounding
// and the same for both thread counts. The same with one shared slope (its own fused backward), also
// over fewer values than a vector or two (the shapes of one channel).
TEST(ActivationVector, PreluChannelsAtEveryAlignment) {
  const int saved = omp_get_max_threads();
  std::mt19937 rng(13);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  const std::pair<std::size_t, std::size_t> shapes[] = {  // channels, rows
      {256, 200}, {17, 2000}, {16, 2100}, {12, 300}, {8, 3000}, {4, 5000}, {2, 9000}, {5, 12000}, {3, 1},
      {100, 1}, {17000, 12}, {1, 7}, {1, 17}, {1, 33}};
  for (const auto& [channels, rows] : shapes) {
    const std::size_t n = rows * channels, pad = 16;
    std::vector<float> x(n + pad), dy(n + pad), w(channels);
    for (float& v : x) v = normal(rng);
    for (float& v : dy) v = normal(rng);
    for (float& v : w) v = normal(rng) * 0.1f;
    // The shared slope's path depends on n and the alignment alone: the shapes up to 40K values
    // (34K of them go parallel).
    std::vector<std::size_t> slopes{channels};
    if (channels > 1 && n <= 40000) slopes.push_back(1);
    for (const std::size_t weights : slopes)
      for (std::size_t offset = 0; offset < pad; ++offset) {
        const std::span<const float> xs(x.data() + offset, n), dys(dy.data() + offset, n), ws(w.data(), weights);
        std::vector<float> y_ref(n), dx_ref(n), dw_ref(weights);
        {
          const ModeGuard mode(actlab::KernelMode::reference);
          actlab::prelu_forward(y_ref, xs, ws, channels);
          actlab::prelu_backward(dx_ref, dw_ref, dys, xs, ws, channels);
        }
        const ModeGuard mode(actlab::KernelMode::vector);
        actlab::on_every_target([&] {
          std::vector<float> dw_one_thread;
          for (const int threads : {1, 2}) {
            omp_set_num_threads(threads);
            std::vector<float> y(n + pad), dx(n + pad), dw(weights);
            const std::span<float> ys(y.data() + offset, n), dxs(dx.data() + offset, n);
            actlab::prelu_forward(ys, xs, ws, channels);
            actlab::prelu_backward(dxs, dw, dys, xs, ws, channels);
            const std::string what = fmt::format("{} channels x {} rows, {} weights, offset {}, {} threads",
                                                 channels, rows, weights, offset, threads);
            EXPECT_TRUE(same(std::vector<float>(ys.begin(), ys.end()), y_ref)) << what << " forward";
            EXPECT_TRUE(same(std::vector<float>(dxs.begin(), dxs.end()), dx_ref)) << what << " backward";
            for (std::size_t c = 0; c < weights; ++c) {
              double magnitude = 0;
              for (std::size_t i = c; i < n; i += weights) magnitude += std::fabs(double(dys[i]) * xs[i]);
              EXPECT_NEAR(dw[c], dw_ref[c], 1e-6 * magnitude + 1e-30) << what << ", slope " << c;
            }
            if (threads == 1) dw_one_thread = dw;
            else EXPECT_EQ(dw, dw_one_thread) << what << ": dweight depends on the thread count";
          }
        });
      }
  }
  omp_set_num_threads(saved);
}

}  // namespace
