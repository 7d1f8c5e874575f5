// Activation kernels, vector and scalar reference, forward and backward, next to a copy and a
// triad baseline at the same sizes, in one process so that the roof is measured with the kernels:
//   256K floats (cache-resident) and 16M floats (DRAM), with 1 and 2 OpenMP threads.
// Bytes processed: 8 per element forward (read x, write y), 12 backward (read dy and x or y,
// write dx); copy 8, triad 12 (a = b + s c), each also with non-temporal stores (stream_copy,
// stream_triad), which large arrays favour. The counter time/elem is the time per element.
// Before timing, each vector kernel is checked against its reference on random inputs.
//
//   build/release/bench/activation_bench [--benchmark_filter=...] [--benchmark_repetitions=5
//     --benchmark_report_aggregates_only=true]
#include "actlab/activation.hpp"
#include "actlab/kernels.hpp"
#include "actlab/prelu.hpp"
#include "kernels/roof_kernels.hpp"
#include "kernels/vector_activations.hpp"

#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

struct Arrays {
  std::vector<float> x, y, dy, dx;
  explicit Arrays(std::size_t n) : x(n), y(n), dy(n), dx(n) {
    std::mt19937 rng(1);
    std::normal_distribution<float> normal(0.0f, 3.0f);
    for (float& v : x) v = normal(rng);
    for (float& v : dy) v = normal(rng);
    std::copy(x.begin(), x.end(), y.begin());
    std::fill(dx.begin(), dx.end(), 1.0f);
  }
};

// One set of arrays per size, shared by every benchmark of that size (first touched serially).
Arrays& arrays(std::size_t n) {
  static std::vector<std::unique_ptr<Arrays>> cache;
  for (auto& a : cache)
    if (a->x.size() == n) return *a;
  cache.push_back(std::make_unique<Arrays>(n));
  return *cache.back();
}

void set_counters(benchmark::State& state, std::size_t n, std::size_t bytes_per_elem) {
  state.SetItemsProcessed(std::int64_t(state.iterations()) * std::int64_t(n));
  state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(n * bytes_per_elem));
  state.counters["time/elem"] =
      benchmark::Counter(double(n), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// The baselines split the work the way the kernels do (about 8 pieces per thread, dynamically).
template <class F>
void chunked(std::size_t n, F f) {
  const auto threads = std::size_t(omp_get_max_threads());
  const std::size_t piece = std::max<std::size_t>(2048, ((n + 8 * threads - 1) / (8 * threads) + 15) / 16 * 16);
  const auto pieces = std::int64_t((n + piece - 1) / piece);
#pragma omp parallel for schedule(dynamic)
  for (std::int64_t c = 0; c < pieces; ++c) {
    const std::size_t b = std::size_t(c) * piece;
    f(b, std::min(piece, n - b));
  }
}

// With `streaming`, the stores carry non-temporal hints, as the vector kernels' do from 4M values.
void bm_copy(benchmark::State& state, std::size_t n, int threads, bool streaming) {
  omp_set_num_threads(threads);
  Arrays& a = arrays(n);
  for (auto _ : state) {
    chunked(n, [&](std::size_t b, std::size_t m) {
      if (streaming) actlab::stream_copy(a.y.data() + b, a.x.data() + b, m);
      else std::memcpy(a.y.data() + b, a.x.data() + b, m * sizeof(float));
    });
    benchmark::ClobberMemory();
  }
  set_counters(state, n, 8);
}

void bm_triad(benchmark::State& state, std::size_t n, int threads, bool streaming) {
  omp_set_num_threads(threads);
  Arrays& a = arrays(n);
  float* __restrict out = a.dx.data();
  const float* __restrict b = a.x.data();
  const float* __restrict c = a.dy.data();
  for (auto _ : state) {
    chunked(n, [&](std::size_t s, std::size_t m) {
      if (streaming) {
        actlab::stream_triad(out + s, b + s, c + s, 0.5f, m);
        return;
      }
      for (std::size_t i = s; i < s + m; ++i) out[i] = b[i] + 0.5f * c[i];
    });
    benchmark::ClobberMemory();
  }
  set_counters(state, n, 12);
}

void bm_activation(benchmark::State& state, actlab::Activation act, actlab::KernelMode mode, bool backward,
                   std::size_t n, int threads) {
  omp_set_num_threads(threads);
  actlab::set_kernel_mode(mode);
  Arrays& a = arrays(n);
  actlab::activation_forward(act, a.y, a.x);
  for (auto _ : state) {
    if (backward) actlab::activation_backward(act, a.dx, a.dy, a.x, a.y);
    else actlab::activation_forward(act, a.y, a.x);
    benchmark::ClobberMemory();
  }
  set_counters(state, n, backward ? 12 : 8);
}

// The PReLU layer's backward (dx and dweight in one call) over [n / 256, 256], with one shared
// slope or 256 per-channel slopes: reads dy and x, writes dx (12 bytes per element).
void bm_prelu_layer(benchmark::State& state, std::size_t weights, actlab::KernelMode mode, std::size_t n,
                    int threads) {
  omp_set_num_threads(threads);
  actlab::set_kernel_mode(mode);
  Arrays& a = arrays(n);
  const std::size_t channels = 256;
  std::vector<float> w(weights, 0.25f), dw(weights);
  for (auto _ : state) {
    actlab::prelu_backward(a.dx, dw, a.dy, a.x, w, channels);
    benchmark::ClobberMemory();
  }
  set_counters(state, n, 12);
}

// The vector kernel agrees with the reference on random inputs (a loose check; the tests hold the
// stated bounds): returns "" or what disagrees.
std::string check(const actlab::Activation& act) {
  const std::size_t n = 65536;
  Arrays a(n);
  std::vector<float> y_ref(n), dx_ref(n);
  actlab::set_kernel_mode(actlab::KernelMode::vector);
  actlab::activation_forward(act, a.y, a.x);
  actlab::activation_backward(act, a.dx, a.dy, a.x, a.y);
  act.info->reference_f32.forward(act.params, y_ref, a.x);
  act.info->reference_f32.backward(act.params, dx_ref, a.dy, a.x, a.y);
  for (std::size_t i = 0; i < n; ++i) {
    if (std::fabs(a.y[i] - y_ref[i]) > 1e-5f * (1.0f + std::fabs(y_ref[i])))
      return fmt::format("forward at x = {}: {} vs reference {}", a.x[i], a.y[i], y_ref[i]);
    if (std::fabs(a.dx[i] - dx_ref[i]) > 1e-5f * (1.0f + std::fabs(dx_ref[i])))
      return fmt::format("backward at x = {}: {} vs reference {}", a.x[i], a.dx[i], dx_ref[i]);
  }
  return "";
}

std::string cpu_name() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::AddCustomContext("cpu", cpu_name());
  benchmark::AddCustomContext("vector_isa", actlab::vector_isa());
  benchmark::AddCustomContext("omp_max_threads", std::to_string(omp_get_max_threads()));

  std::vector<actlab::Activation> acts;
  for (const actlab::ActivationInfo& info : actlab::activation_table()) {
    acts.push_back(actlab::make_activation(info.name));
    if (std::string_view(info.name) == "gelu") acts.push_back(actlab::parse_activation("gelu:approximate=tanh"));
  }
  for (const actlab::Activation& act : acts)
    if (const std::string problem = check(act); !problem.empty()) {
      fmt::print(stderr, "activation_bench: {} vector kernel disagrees with its reference: {}\n", act.to_string(), problem);
      return 1;
    }

  const std::size_t sizes[] = {std::size_t(256) << 10, std::size_t(16) << 20};
  for (const std::size_t n : sizes) {
    const std::string size = n < (std::size_t(1) << 20) ? "256K" : "16M";
    for (const int threads : {1, 2}) {
      const std::string suffix = fmt::format("/{}/threads:{}", size, threads);
      for (const bool streaming : {false, true}) {
        const std::string prefix = streaming ? "stream_" : "";
        benchmark::RegisterBenchmark((prefix + "copy" + suffix).c_str(), bm_copy, n, threads, streaming)->UseRealTime();
        benchmark::RegisterBenchmark((prefix + "triad" + suffix).c_str(), bm_triad, n, threads, streaming)->UseRealTime();
      }
      for (const std::size_t weights : {std::size_t(1), std::size_t(256)})
        for (const auto mode : {actlab::KernelMode::vector, actlab::KernelMode::reference}) {
          const std::string name = fmt::format("prelu_layer:weights={}/bwd/{}{}", weights,
                                               mode == actlab::KernelMode::vector ? "vector" : "reference", suffix);
          benchmark::RegisterBenchmark(name.c_str(), bm_prelu_layer, weights, mode, n, threads)->UseRealTime();
        }
      for (const actlab::Activation& act : acts)
        for (const bool backward : {false, true})
          for (const auto mode : {actlab::KernelMode::vector, actlab::KernelMode::reference}) {
            const std::string name = fmt::format("{}/{}/{}{}", act.to_string(), backward ? "bwd" : "fwd",
                                                 mode == actlab::KernelMode::vector ? "vector" : "reference", suffix);
            benchmark::RegisterBenchmark(name.c_str(), bm_activation, act, mode, backward, n, threads)->UseRealTime();
          }
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
