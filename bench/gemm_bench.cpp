// The layers' matrix products on the seed model's shapes, one thread: actlab's packed kernel
// (src/kernels/packed_gemm.hpp) against OpenBLAS's sgemm as loaded (its kernels as named by the
// first line, and by OPENBLAS_CORETYPE when set), in one process. Counter GFLOPS = 2 m n k / time.
// Before timing, each shape's packed result is checked against OpenBLAS's.
//
//   build/release/bench/gemm_bench [--benchmark_filter=...] [--benchmark_repetitions=5
//     --benchmark_report_aggregates_only=true]
#include "actlab/kernels.hpp"
#include "kernels/packed_gemm.hpp"

#include <benchmark/benchmark.h>
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace {

struct Shape {
  const char* what;
  int m, n, k;
  bool trans_a, trans_b;
};
// Batch 128 through 784-256-128-10: y = x W^T, dW = dy^T x, dx = dy W; and 10,000 rows through
// the first layer (predict).
const Shape shapes[] = {{"fwd1", 128, 256, 784, false, true},   {"dW1", 256, 784, 128, true, false},
                        {"fwd2", 128, 128, 256, false, true},   {"dW2", 128, 256, 128, true, false},
                        {"dx2", 128, 256, 128, false, false},   {"fwd3", 128, 10, 128, false, true},
                        {"dW3", 10, 128, 128, true, false},     {"dx3", 128, 128, 10, false, false},
                        {"predict1", 10000, 256, 784, false, true}};

struct Operands {
  std::vector<float> a, b, c;
  int lda, ldb;
  explicit Operands(const Shape& s)
      : a(std::size_t(s.m) * s.k), b(std::size_t(s.k) * s.n), c(std::size_t(s.m) * s.n),
        lda(s.trans_a ? s.m : s.k), ldb(s.trans_b ? s.k : s.n) {
    std::mt19937 rng(7);
    std::normal_distribution<float> normal;
    for (float& v : a) v = normal(rng);
    for (float& v : b) v = normal(rng);
  }
  void blas(const Shape& s) {
    cblas_sgemm(CblasRowMajor, s.trans_a ? CblasTrans : CblasNoTrans, s.trans_b ? CblasTrans : CblasNoTrans, s.m,
                s.n, s.k, 1.0f, a.data(), lda, b.data(), ldb, 0.0f, c.data(), s.n);
  }
  void packed(const Shape& s) {
    actlab::packed_gemm(s.trans_a, s.trans_b, s.m, s.n, s.k, 1.0f, a.data(), lda, b.data(), ldb, 0.0f, c.data(),
                        s.n);
  }
};

void run(benchmark::State& state, const Shape& s, bool packed) {
  omp_set_num_threads(1);
  Operands o(s);
  for (auto _ : state) {
    packed ? o.packed(s) : o.blas(s);
    benchmark::DoNotOptimize(o.c.data());
    benchmark::ClobberMemory();
  }
  const double gflop = 2.0 * s.m * s.n * s.k * 1e-9;
  state.counters["GFLOPS"] = benchmark::Counter(gflop, benchmark::Counter::kIsIterationInvariantRate);
}

// The packed kernel within float accumulation error of OpenBLAS on every shape, or no timings.
bool packed_agrees() {
  for (const Shape& s : shapes) {
    Operands o(s);
    o.blas(s);
    const std::vector<float> expected = o.c;
    o.packed(s);
    for (std::size_t i = 0; i < expected.size(); ++i)
      if (std::fabs(o.c[i] - expected[i]) > 1e-4f * std::sqrt(float(s.k)) * (1.0f + std::fabs(expected[i]))) {
        std::fprintf(stderr, "gemm_bench: packed %s differs from OpenBLAS at %zu: %g vs %g\n", s.what, i, o.c[i],
                     expected[i]);
        return false;
      }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  actlab::kernel_mode();  // applies ACTLAB_ISA (e.g. avx2, to time the packed kernel's AVX2 version)
  if (!packed_agrees()) return 1;
  std::printf("matrix products: %s\nvector kernels (and the packed kernel): %s\n",
              actlab::describe_matrix_products().c_str(), actlab::vector_isa().c_str());
  for (const Shape& s : shapes) {
    for (const bool packed : {false, true})
      benchmark::RegisterBenchmark((std::string(packed ? "packed/" : "openblas/") + s.what).c_str(), run, s, packed)
          ->Unit(benchmark::kMicrosecond);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
