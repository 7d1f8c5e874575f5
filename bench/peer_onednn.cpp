// oneDNN's eltwise and PReLU primitives timed the way `actlab bench` times actlab's kernels, for
// bench/peer_kernels.py's oneDNN column (the other peer the speed targets name besides PyTorch).
//
//   peer_onednn [--threads N] [--quick]   prints one JSON object: {"isa", "threads", "kernels": [...]}
//
// Built only where libdnnl-dev (oneDNN 2.x) is installed. Each activation maps to the oneDNN
// algorithm of the same function at the same parameters; before timing, each primitive's outputs
// (forward, backward, PReLU's slope gradient) are checked against actlab's reference kernels (a
// mapping that differs beyond isolated values is left out, with a note on stderr). Backwards that
// oneDNN can take from the output (*_use_dst_for_bwd) are timed both ways and the faster kept.
#include "actlab/activation.hpp"
#include "actlab/kernels.hpp"
#include "actlab/prelu.hpp"
#include "train/bench_common.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace {

using dnnl::algorithm;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;
using actlab::median_seconds;
using actlab::BenchArray;
using actlab::random_normal;

struct Mapping {
  const char* spec;                  // actlab's activation spec
  algorithm fwd;                     // oneDNN's algorithm taking the input for backward
  std::optional<algorithm> from_dst; // the same function taking the output for backward, if any
  float alpha = 0.0f, beta = 0.0f;
};

// hardswish's and soft_relu's parameters changed meaning across oneDNN versions; the check below
// catches a mismatch.
const Mapping mappings[] = {
    {"identity", algorithm::eltwise_linear, std::nullopt, 1.0f, 0.0f},
    {"sigmoid", algorithm::eltwise_logistic, algorithm::eltwise_logistic_use_dst_for_bwd},
    {"tanh", algorithm::eltwise_tanh, algorithm::eltwise_tanh_use_dst_for_bwd},
    {"relu", algorithm::eltwise_relu, algorithm::eltwise_relu_use_dst_for_bwd},
    {"leaky_relu", algorithm::eltwise_relu, algorithm::eltwise_relu_use_dst_for_bwd, 0.01f},
    {"prelu", algorithm::eltwise_relu, algorithm::eltwise_relu_use_dst_for_bwd, 0.25f},  // the table's fixed slope
    {"rrelu", algorithm::eltwise_relu, algorithm::eltwise_relu_use_dst_for_bwd,  // evaluation: (1/8 + 1/3) / 2
     float((1.0 / 8 + 1.0 / 3) / 2)},
    {"elu", algorithm::eltwise_elu, algorithm::eltwise_elu_use_dst_for_bwd, 1.0f},
    {"gelu", algorithm::eltwise_gelu_erf, std::nullopt},
    {"gelu:approximate=tanh", algorithm::eltwise_gelu_tanh, std::nullopt},
    {"silu", algorithm::eltwise_swish, std::nullopt, 1.0f},
    {"mish", algorithm::eltwise_mish, std::nullopt},
    {"softplus", algorithm::eltwise_soft_relu, std::nullopt},
    {"hardswish", algorithm::eltwise_hardswish, std::nullopt, 1.0f / 6.0f, 0.5f},
};

struct Bench {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  double min_seconds = 0.2;
  nlohmann::ordered_json timings = nlohmann::ordered_json::array();

  void add(const std::string& name, const char* direction, std::size_t n, double seconds, const char* note = "") {
    nlohmann::ordered_json row{{"activation", name}, {"direction", direction}, {"elems", n},
                               {"ns_per_elem", seconds / double(n) * 1e9}};
    if (*note) row["backward_from"] = note;
    timings.push_back(row);
  }

  // Where oneDNN's result and the reference's differ by more than tolerance (1 + |reference|), and
  // the largest such difference.
  struct Disagreement {
    std::size_t count = 0;
    double worst = 0.0;
  };
  static Disagreement disagreement(std::span<const float> ours, std::span<const float> ref, double tolerance) {
    Disagreement d;
    for (std::size_t i = 0; i < ref.size(); ++i) {
      const double difference = double(std::fabs(ours[i] - ref[i])) / (1.0 + std::fabs(ref[i]));
      if (difference > tolerance) {
        ++d.count;
        d.worst = std::max(d.worst, difference);
      }
    }
    return d;
  }

  // Leaves a mapping out (with a note) when oneDNN's result is not the reference's function: when it
  // differs at more than one value in 100000. Isolated values are a kink's convention, not another
  // function (oneDNN's hardswish backward takes the outer side's slope at x = -3 and 3 exactly,
  // PyTorch's and actlab's the inner one's; random inputs land there about once in 16M).
  static bool agrees(const std::string& what, const Disagreement& d, std::size_t n) {
    if (d.count <= n / 100000) return true;
    fmt::print(stderr, "peer_onednn: {} left out: oneDNN's result differs from actlab's reference at {} of {} values "
               "(by up to {:.3g})\n", what, d.count, n, d.worst);
    return false;
  }

  void activation(const Mapping& m, std::size_t n) {
    BenchArray x = random_normal(n, 3.0f, 1), dy = random_normal(n, 1.0f, 2), y(n), dx(n);
    const actlab::Activation act = actlab::parse_activation(m.spec);
    std::vector<float> y_ref(n), dx_ref(n);
    act.info->reference_f32.forward(act.params, y_ref, x);
    act.info->reference_f32.backward(act.params, dx_ref, dy, x, y_ref);
    const dnnl::memory::desc md({dnnl::memory::dim(n)}, dt::f32, tag::a);
    dnnl::memory src(md, eng, x.data()), dst(md, eng, y.data()), ddst(md, eng, dy.data()), dsrc(md, eng, dx.data());
    double fwd_seconds = 0.0, bwd_seconds = 1e30;
    const char* from = "";
    for (const std::optional<algorithm> alg : {std::optional(m.fwd), m.from_dst}) {
      if (!alg) continue;
      const dnnl::eltwise_forward::primitive_desc fpd(
          {dnnl::prop_kind::forward_training, *alg, md, m.alpha, m.beta}, eng);
      const dnnl::eltwise_forward fwd(fpd);
      fwd.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
      strm.wait();
      if (!agrees(fmt::format("{} forward", m.spec), disagreement(y, y_ref, 1e-4), n)) return;
      if (alg == m.fwd)  // the from-y algorithm's forward is the same function; its y feeds the backward
        fwd_seconds = median_seconds([&] {
          fwd.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
          strm.wait();
        }, min_seconds);
      const dnnl::eltwise_backward::primitive_desc bpd({*alg, md, md, m.alpha, m.beta}, eng, fpd);
      const dnnl::eltwise_backward bwd(bpd);
      const bool uses_dst = alg != m.fwd;
      const auto backward = [&] {
        bwd.execute(strm, {{uses_dst ? DNNL_ARG_DST : DNNL_ARG_SRC, uses_dst ? dst : src},
                           {DNNL_ARG_DIFF_DST, ddst},
                           {DNNL_ARG_DIFF_SRC, dsrc}});
        strm.wait();
      };
      backward();
      const char* from_what = uses_dst ? "backward from y" : "backward from x";
      if (!agrees(fmt::format("{} {}", m.spec, from_what), disagreement(dx, dx_ref, 1e-3), n)) return;
      const double b = median_seconds(backward, min_seconds);
      if (b < bwd_seconds) {
        bwd_seconds = b;
        from = uses_dst ? "y" : "x";
      }
    }
    add(m.spec, "forward", n, fwd_seconds);
    add(m.spec, "backward", n, bwd_seconds, from);
  }

  // PReLU over [n / 256, 256] with one shared slope or 256: forward; backward with dx and the
  // slopes' gradient (actlab bench's prelu_layer rows).
  void prelu(std::size_t n, std::size_t weights) {
    constexpr std::size_t channels = 256;
    const std::size_t rows = std::max<std::size_t>(1, n / channels);
    n = rows * channels;
    BenchArray x = random_normal(n, 3.0f, 1), dy = random_normal(n, 1.0f, 2), y(n), dx(n);
    std::vector<float> w(weights, 0.25f), dw(weights);
    using dims = dnnl::memory::dims;
    const dnnl::memory::desc md(dims{dnnl::memory::dim(rows), dnnl::memory::dim(channels)}, dt::f32, tag::ab);
    const dnnl::memory::desc wd(dims{1, dnnl::memory::dim(weights)}, dt::f32, tag::ab);
    dnnl::memory src(md, eng, x.data()), dst(md, eng, y.data()), ddst(md, eng, dy.data()), dsrc(md, eng, dx.data());
    dnnl::memory wm(wd, eng, w.data()), dwm(wd, eng, dw.data());
    const dnnl::prelu_forward::primitive_desc fpd({dnnl::prop_kind::forward_training, md, wd}, eng);
    const dnnl::prelu_forward fwd(fpd);
    const dnnl::prelu_backward::primitive_desc bpd({md, wd, md, wd}, eng, fpd);
    const dnnl::prelu_backward bwd(bpd);
    const std::string name = fmt::format("prelu_layer:weights={}", weights);
    const auto forward = [&] {
      fwd.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, dst}});
      strm.wait();
    };
    const auto backward = [&] {
      bwd.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DIFF_DST, ddst},
                         {DNNL_ARG_DIFF_SRC, dsrc}, {DNNL_ARG_DIFF_WEIGHTS, dwm}});
      strm.wait();
    };
    // actlab's reference PReLU (main selects the reference kernels); the slopes' gradient is a sum
    // over n / weights values, compared relative to the sum of their magnitudes.
    std::vector<float> y_ref(n), dx_ref(n), dw_ref(weights);
    actlab::prelu_forward(y_ref, x, w, channels);
    actlab::prelu_backward(dx_ref, dw_ref, dy, x, w, channels);
    forward();
    backward();
    Disagreement dw_disagreement;
    for (std::size_t k = 0; k < weights; ++k) {
      double magnitude = 0.0;
      for (std::size_t i = k; i < n; i += weights) magnitude += std::fabs(double(dy[i]) * x[i]);
      const double difference = std::fabs(double(dw[k]) - dw_ref[k]) / (1.0 + magnitude);
      if (difference > 1e-4) {
        ++dw_disagreement.count;
        dw_disagreement.worst = std::max(dw_disagreement.worst, difference);
      }
    }
    if (!agrees(name + " forward", disagreement(y, y_ref, 1e-6), n) ||
        !agrees(name + " backward", disagreement(dx, dx_ref, 1e-6), n) ||
        !agrees(name + " slope gradient", dw_disagreement, 0))
      return;
    add(name, "forward", n, median_seconds(forward, min_seconds));
    add(name, "backward", n, median_seconds(backward, min_seconds));
  }
};

std::string isa_name(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::sse41: return "sse41";
    default: return fmt::format("isa {}", int(isa));
  }
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--quick")) quick = true;
    else {
      fmt::print(stderr, "usage: peer_onednn [--threads N] [--quick]\n");
      return 2;
    }
  }
  if (threads < 1) {
    fmt::print(stderr, "peer_onednn: --threads must be at least 1\n");
    return 2;
  }
  omp_set_num_threads(threads);
  actlab::set_kernel_mode(actlab::KernelMode::reference);
  Bench b;
  if (quick) b.min_seconds = 0.002;
  const std::size_t sizes[] = {quick ? std::size_t(1) << 14 : std::size_t(1) << 18,
                               quick ? std::size_t(1) << 16 : std::size_t(1) << 24};
  for (const std::size_t n : sizes) {
    for (const Mapping& m : mappings) b.activation(m, n);
    for (const std::size_t weights : {std::size_t(1), std::size_t(256)}) b.prelu(n, weights);
  }
  const nlohmann::ordered_json out{{"isa", isa_name(dnnl::get_effective_cpu_isa())},
                                   {"version", fmt::format("{}.{}.{}", dnnl::version()->major,
                                                           dnnl::version()->minor, dnnl::version()->patch)},
                                   {"threads", threads},
                                   {"kernels", b.timings}};
  fmt::print("{}\n", out.dump());
  return 0;
}
