// `actlab bench`: every number is a median of repeated timings, measured next to its baseline
// (the memory roof, the reference kernels, the matrix products alone) in the same process.
#include "actlab/bench.hpp"

#include "actlab/activation.hpp"
#include "actlab/batchnorm.hpp"
#include "actlab/fold.hpp"
#include "actlab/init.hpp"
#include "actlab/kernels.hpp"
#include "actlab/loss.hpp"
#include "actlab/model_io.hpp"
#include "actlab/optimizer.hpp"
#include "actlab/prelu.hpp"
#include "actlab/recipes.hpp"
#include "kernels/gemm.hpp"
#include "kernels/roof_kernels.hpp"
#include "train/bench_common.hpp"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <omp.h>

namespace actlab {
namespace {

std::string cpu_name() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

// Calls fn(begin, end) with each OpenMP thread's contiguous share of [0, n).
template <class F>
void per_thread_share(std::size_t n, F&& fn) {
#pragma omp parallel
  {
    const std::size_t t = std::size_t(omp_get_thread_num()), nt = std::size_t(omp_get_num_threads());
    fn(n * t / nt, n * (t + 1) / nt);
  }
}

// Sets the roofs from the rates: each the faster of its two ways.
Roof with_roofs(Roof r) {
  r.copy_gbs = std::max(r.memcpy_gbs, r.stream_copy_gbs);
  r.triad_gbs = std::max(r.plain_triad_gbs, r.stream_triad_gbs);
  return r;
}

// Each roof is the faster of two ways: memcpy or a plain triad loop, whose stores read every output
// line first, and the same with non-temporal stores (kernels/roof_kernels.hpp), which large
// arrays favour and the vector kernels use from 4M values. glibc's memcpy did not reach the
// streaming copy's rate on 16M floats on the development VM (12-20 against 19-32 GB/s).
Roof measure_roof(std::size_t n, double min_seconds) {
  BenchArray a(n, 1.0f), b(n, 2.0f), c(n, 3.0f);
  const auto len = std::ptrdiff_t(n);
  const auto gbs = [&](double bytes_per_elem, double seconds) { return bytes_per_elem * double(n) / seconds / 1e9; };
  Roof roof{n};
  roof.memcpy_gbs = gbs(8, median_seconds([&] {
    per_thread_share(n, [&](std::size_t begin, std::size_t end) {
      std::memcpy(a.data() + begin, b.data() + begin, (end - begin) * sizeof(float));
    });
  }, min_seconds));
  roof.stream_copy_gbs = gbs(8, median_seconds([&] {
    per_thread_share(n, [&](std::size_t begin, std::size_t end) {
      stream_copy(a.data() + begin, b.data() + begin, end - begin);
    });
  }, min_seconds));
  roof.plain_triad_gbs = gbs(12, median_seconds([&] {
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t i = 0; i < len; ++i) a[i] = b[i] + 0.5f * c[i];
  }, min_seconds));
  roof.stream_triad_gbs = gbs(12, median_seconds([&] {
    per_thread_share(n, [&](std::size_t begin, std::size_t end) {
      stream_triad(a.data() + begin, b.data() + begin, c.data() + begin, 0.5f, end - begin);
    });
  }, min_seconds));
  return with_roofs(roof);
}

// Appends the forward (8 bytes per element) and backward (12) rows of one kernel timed at n
// elements; roof_fraction is filled in once the roof is known.
void add_timings(std::vector<KernelTiming>& out, const std::string& name, KernelMode mode, std::size_t n,
                 double fwd_seconds, double bwd_seconds) {
  const std::string impl = mode == KernelMode::vector ? "vector" : "reference";
  const double elems = double(n);
  out.push_back({name, "forward", impl, n, fwd_seconds / elems * 1e9, 8 * elems / fwd_seconds / 1e9});
  out.push_back({name, "backward", impl, n, bwd_seconds / elems * 1e9, 12 * elems / bwd_seconds / 1e9});
}

void time_activation(const Activation& act, std::size_t n, const BenchOptions& o, KernelMode mode,
                     std::vector<KernelTiming>& out) {
  const BenchArray x = random_normal(n, 3.0f, 1), dy = random_normal(n, 1.0f, 2);
  BenchArray y(n), dx(n);
  set_kernel_mode(mode);
  const double fwd = median_seconds([&] { activation_forward(act, y, x); }, o.min_seconds);
  const double bwd = median_seconds([&] { activation_backward(act, dx, dy, x, y); }, o.min_seconds);
  add_timings(out, act.to_string(), mode, n, fwd, bwd);
}

// The PReLU layer over [n / channels, channels] with `weights` slopes (1 or channels): the forward,
// and the backward with the slopes' gradient.
void time_prelu_layer(std::size_t n, std::size_t weights, const BenchOptions& o, KernelMode mode,
                      std::vector<KernelTiming>& out) {
  constexpr std::size_t channels = 256;
  n = std::max(n / channels, std::size_t(1)) * channels;
  const BenchArray x = random_normal(n, 3.0f, 1), dy = random_normal(n, 1.0f, 2);
  const std::vector<float> w(weights, 0.25f);
  BenchArray y(n), dx(n);
  std::vector<float> dw(weights);
  set_kernel_mode(mode);
  const double fwd = median_seconds([&] { prelu_forward(y, x, w, channels); }, o.min_seconds);
  const double bwd = median_seconds([&] { prelu_backward(dx, dw, dy, x, w, channels); }, o.min_seconds);
  add_timings(out, fmt::format("prelu_layer:weights={}", weights), mode, n, fwd, bwd);
}

// Each rate the better of two measurements of the same roof.
Roof faster(const Roof& a, const Roof& b) {
  Roof r{a.elems};
  r.memcpy_gbs = std::max(a.memcpy_gbs, b.memcpy_gbs);
  r.stream_copy_gbs = std::max(a.stream_copy_gbs, b.stream_copy_gbs);
  r.plain_triad_gbs = std::max(a.plain_triad_gbs, b.plain_triad_gbs);
  r.stream_triad_gbs = std::max(a.stream_triad_gbs, b.stream_triad_gbs);
  return with_roofs(r);
}

BatchNormTiming time_batchnorm(std::size_t rows, std::size_t features, KernelMode mode, double min_seconds) {
  set_kernel_mode(mode);
  const std::size_t n = rows * features;
  const BenchArray x = random_normal(n, 2.0f, 3), dy = random_normal(n, 1.0f, 4);
  BenchArray y(n), dx(n);
  std::vector<float> gamma(features, 1.0f), beta(features, 0.0f), mean(features), invstd(features),
      rmean(features, 0.0f), rvar(features, 1.0f), dgamma(features), dbeta(features);
  const BatchNormShape shape{rows, features};
  const double elems = double(n);
  BatchNormTiming t{rows, features, mode == KernelMode::vector ? "vector" : "reference"};
  t.train_forward_ns = median_seconds([&] {
    batchnorm_forward_train(y, mean, invstd, rmean, rvar, x, gamma, beta, shape, 1e-5f, 0.1f);
  }, min_seconds) / elems * 1e9;
  t.backward_ns = median_seconds([&] {
    batchnorm_backward(dx, dgamma, dbeta, dy, x, gamma, mean, invstd, shape);
  }, min_seconds) / elems * 1e9;
  t.eval_forward_ns = median_seconds([&] {
    batchnorm_forward_eval(y, x, gamma, beta, rmean, rvar, shape, 1e-5f);
  }, min_seconds) / elems * 1e9;
  return t;
}

// The seed recipe 784-256-128-10 with BatchNorm, initialized from rng.
constexpr std::size_t seed_inputs = 784;
Sequential seed_model(Rng& rng) {
  const std::vector<std::size_t> hidden{256, 128};
  Sequential model = parse_model_spec(recipe_spec("seed", hidden, true, 10), seed_inputs);
  initialize_parameters(model, rng);
  return model;
}

// Thread 0 copies an array that thread `writer` has just written (memcpy: the fastest read here),
// repeatedly for min_seconds; the median copy's rate in bytes read. 0 when the team has fewer than
// two threads (OMP_THREAD_LIMIT, OMP_DYNAMIC, an enclosing region): there is no other writer then.
double read_after_write_gbs(int writer, double min_seconds) {
  constexpr std::size_t n = 65536;  // 256 KB
  BenchArray source(n, 0.0f), target(n);
  std::vector<double> samples;
  samples.reserve(4096);
  bool more = true, paired = true;
#pragma omp parallel num_threads(2)
  {
    const int t = omp_get_thread_num();
    if (omp_get_num_threads() < 2) more = paired = false;  // a team of one: only thread 0 runs this
    for (float value = 1.0f; more; value += 1.0f) {
      if (t == writer) std::fill(source.begin(), source.end(), value);
#pragma omp barrier
      if (t == 0) {
        const auto start = std::chrono::steady_clock::now();
        std::memcpy(target.data(), source.data(), n * sizeof(float));
        samples.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        double total = 0.0;
        for (double s : samples) total += s;
        more = samples.size() < 4096 && (samples.size() < 16 || total < min_seconds);
      }
#pragma omp barrier
    }
  }
  if (!paired) return 0.0;
  std::nth_element(samples.begin(), samples.begin() + std::ptrdiff_t(samples.size() / 2), samples.end());
  return double(n * sizeof(float)) / samples[samples.size() / 2] / 1e9;
}

CrossCoreTiming time_cross_core(double min_seconds) {
  if (omp_get_max_threads() < 2) return {};
  const CrossCoreTiming c{read_after_write_gbs(0, min_seconds), read_after_write_gbs(1, min_seconds)};
  return c.own_gbs > 0 && c.other_gbs > 0 ? c : CrossCoreTiming{};
}

StepBreakdown time_training_step(double min_seconds) {
  constexpr std::size_t batch = 128, in = seed_inputs;
  Rng rng(0);
  Sequential model = seed_model(rng);
  std::vector<float> x(batch * in), dlogits(batch * 10);
  for (float& v : x) v = rng.uniform();
  std::vector<std::int32_t> labels(batch);
  for (auto& l : labels) l = std::int32_t(rng.below(10));
  Optimizer opt(OptimizerConfig{}, model.parameters());
  StepBreakdown s;
  s.step_ms = 1e3 * median_seconds([&] {
    const auto logits = model.forward(x, batch, Mode::train, rng);
    softmax_cross_entropy(dlogits, logits, labels, 10);
    model.backward(dlogits);
    opt.step(0.01);
  }, min_seconds);
  // The same matrix products alone, through the layers' gemm: y = x W^T, dW = dy^T x, dx = dy W (none
  // for the first layer).
  const std::size_t widths[] = {in, 256, 128, 10};
  std::vector<std::vector<float>> w(3), xs(3), ys(3), dws(3), dxs(3);
  for (int k = 0; k < 3; ++k) {
    w[k].assign(widths[k] * widths[k + 1], 0.01f);
    dws[k].resize(w[k].size());
    xs[k].assign(batch * widths[k], 0.5f);
    dxs[k].resize(batch * widths[k]);
    ys[k].assign(batch * widths[k + 1], 0.1f);
  }
  s.gemm_ms = 1e3 * median_seconds([&] {
    for (int k = 0; k < 3; ++k) {
      const int m = int(batch), o = int(widths[k + 1]), i = int(widths[k]);
      gemm(false, true, m, o, i, 1.0f, xs[k].data(), i, w[k].data(), i, 1.0f, ys[k].data(), o);
      gemm(true, false, o, i, m, 1.0f, ys[k].data(), o, xs[k].data(), i, 0.0f, dws[k].data(), i);
      if (k > 0) gemm(false, false, m, i, o, 1.0f, ys[k].data(), o, w[k].data(), i, 0.0f, dxs[k].data(), i);
    }
  }, min_seconds);
  s.other_ms = s.step_ms - s.gemm_ms;
  return s;
}

InferenceTiming time_inference(std::size_t rows, double min_seconds) {
  constexpr std::size_t in = seed_inputs;
  Rng rng(0);
  Sequential model = fold_batchnorm(seed_model(rng));
  std::vector<float> x(rows * in);
  for (float& v : x) v = rng.uniform();
  InferenceTiming t;
  t.rows = rows;
  t.batch_ms = 1e3 * median_seconds([&] { predict(model, x, rows); }, min_seconds);
  const std::span<const float> one(x.data(), in);
  t.one_row_us = 1e6 * median_seconds([&] { predict(model, one, 1); }, min_seconds);
  return t;
}

std::vector<Activation> bench_activations(const BenchOptions& o) {
  std::vector<Activation> acts;
  if (!o.activations.empty()) {
    for (const std::string& spec : o.activations) acts.push_back(parse_activation(spec));
    return acts;
  }
  for (const ActivationInfo& info : activation_table()) {
    acts.push_back(make_activation(info.name));
    if (std::string_view(info.name) == "gelu") acts.push_back(parse_activation("gelu:approximate=tanh"));
  }
  return acts;
}

}  // namespace

double activation_cost_ns(const std::string& spec, double min_seconds) {
  const Activation act = parse_activation(spec);
  // One thread: a per-element cost comparable across machines and unaffected by other load.
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const std::size_t n = std::size_t(1) << 18;
  const BenchArray x = random_normal(n, 3.0f, 1), dy = random_normal(n, 1.0f, 2);
  BenchArray y(n), dx(n);
  const double fwd = median_seconds([&] { activation_forward(act, y, x); }, min_seconds);
  const double bwd = median_seconds([&] { activation_backward(act, dx, dy, x, y); }, min_seconds);
  omp_set_num_threads(threads);
  return (fwd + bwd) / double(n) * 1e9;
}

BenchReport run_bench(const BenchOptions& o) {
  const KernelMode saved = kernel_mode();
  BenchReport r;
  r.cpu = cpu_name();
  r.isa = vector_isa();
  r.matrix_products = describe_matrix_products();
  r.threads = omp_get_max_threads();
  const std::vector<Activation> acts = bench_activations(o);
  const bool with_prelu_layer = std::any_of(acts.begin(), acts.end(), [](const Activation& a) {
    return std::string_view(a.info->name) == "prelu";
  });
  for (std::size_t n : {o.cache_elems, o.dram_elems}) {
    // The roof is measured before and after the kernels of its size and each rate kept at its
    // better: a shared machine's bandwidth drifts over a run, and a roof caught in a slow moment
    // would put kernels above 100%.
    const Roof before = measure_roof(n, o.min_seconds);
    const std::size_t first = r.kernels.size();
    for (const Activation& act : acts) {
      time_activation(act, n, o, KernelMode::vector, r.kernels);
      if (o.reference) time_activation(act, n, o, KernelMode::reference, r.kernels);
    }
    if (with_prelu_layer)
      for (const std::size_t weights : {std::size_t(1), std::size_t(256)}) {
        time_prelu_layer(n, weights, o, KernelMode::vector, r.kernels);
        if (o.reference) time_prelu_layer(n, weights, o, KernelMode::reference, r.kernels);
      }
    const Roof roof = faster(before, measure_roof(n, o.min_seconds));
    for (std::size_t k = first; k < r.kernels.size(); ++k)
      r.kernels[k].roof_fraction = r.kernels[k].gbs / (r.kernels[k].direction == "forward" ? roof.copy_gbs : roof.triad_gbs);
    r.roofs.push_back(roof);
  }
  for (auto [rows, features] : {std::pair<std::size_t, std::size_t>{128, 512}, {1024, 1024}}) {
    r.batchnorm.push_back(time_batchnorm(rows, features, KernelMode::vector, o.min_seconds));
    if (o.reference) r.batchnorm.push_back(time_batchnorm(rows, features, KernelMode::reference, o.min_seconds));
  }
  set_kernel_mode(KernelMode::vector);
  r.cross_core = time_cross_core(o.min_seconds);
  r.step = time_training_step(o.min_seconds);
  r.inference = time_inference(o.inference_rows, o.min_seconds);
  set_kernel_mode(saved);
  return r;
}

}  // namespace actlab
