// The vector (Highway) activation kernels against the scalar reference, which is the specification:
// every table entry and the non-default parameter sets, over awkward sizes and unaligned starts,
// special values (+-0, +-inf, NaN, +-large, denormals, kinks and their neighbours) and dense
// sweeps, on every instruction set this binary was built for and this CPU runs; then the PyTorch
// float64 oracle through the vector path, thread-count independence, and the reference mode.
//
// Bounds are those written next to the bodies in src/kernels/vector_ops-inl.hpp. "Exact" kernels
// must equal the float reference bit for bit; the others are compared with the double reference
// at the same float inputs (and, for bodies that read y, the same float y):
//   |actual - expected| <= ulps * ulp(expected) + abs * |dy|, NaN exactly where NaN is expected,
//   and an infinity only where the same infinity is expected.
#include "actlab/activation.hpp"
#include "actlab/kernels.hpp"
#include "kernels/vector_activations.hpp"
#include "every_target.hpp"

#include <gtest/gtest.h>
#include <hwy/targets.h>
#include <nlohmann/json.hpp>
#include <omp.h>

#include <algorithm>
#include <bit>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace {

using actlab::Activation;

using actlab::ModeGuard;

struct Bound {
  double ulps = 0, abs = 0;  // ulps < 0: exact (bitwise equal to the float reference)
  double per_arg = 0;        // more ulps per unit of |arg(x)|: an exp argument computed in float
};
struct KernelBounds {
  const char* spec;
  Bound fwd, bwd;
  double (*arg)(double x) = nullptr;
};
// gelu-tanh's exp argument 2u = 2 sqrt(2/pi) (x + 0.044715 x^3), and celu's x / alpha for alpha =
// 0.3, both computed in float (with float constants) as in the table: each unit of |arg| costs
// about 2 ulp of relative error in e^arg.
double gelu_tanh_arg(double x) { return std::fabs(2 * 0.7978845608028654 * (x + 0.044715 * x * x * x)); }
double celu03_arg(double x) { return std::fabs(x / 0.3); }
constexpr Bound exact{-1, 0};
constexpr double tiny = FLT_MIN;  // results near zero: absolute 2^-126
// One line per spec tested; the numbers are the comments next to the bodies.
const KernelBounds bounds[] = {
    {"identity", exact, exact},
    {"sigmoid", {3, tiny}, exact},
    {"tanh", {3, tiny}, exact},
    {"relu", exact, exact},
    {"leaky_relu", exact, exact},
    {"leaky_relu:negative_slope=0.2", exact, exact},
    {"prelu", exact, exact},
    {"prelu:weight=-0.1", exact, exact},
    {"elu", {2, tiny}, {2, 0x1p-24}},
    {"elu:alpha=0.5", {2, tiny}, {2, 0.5 * 0x1p-24}},
    {"elu:alpha=-0.5", {2, tiny}, {2, tiny}},
    {"selu", {3, tiny}, {3, tiny}},
    {"celu", {2, tiny}, {2, tiny}},
    {"celu:alpha=2", {2, tiny}, {2, tiny}},
    {"celu:alpha=0.3", {2, tiny, 2}, {2, tiny, 2}, celu03_arg},
    {"gelu", {9, tiny}, {9, 9 * 0x1p-24}},
    {"gelu:approximate=tanh", {4, tiny, 3}, {4, 4 * 0x1p-24, 3}, gelu_tanh_arg},
    {"silu", {4, tiny}, {4, 4 * 0x1p-24}},
    {"mish", {5, tiny}, {5, 5 * 0x1p-24}},
    {"softplus", {3, tiny}, {4, tiny}},
    {"softplus:beta=2,threshold=10", {3, tiny}, {4, tiny}},
    {"hardsigmoid", exact, exact},
    {"hardswish", exact, exact},
    {"softsign", exact, exact},
    {"rrelu", exact, exact},
    {"rrelu:lower=0.1,upper=0.3", exact, exact},
};

double ulp_of(double e) {
  const double a = std::fabs(e);
  if (a < FLT_MIN) return 0x1p-149;
  int ex;
  std::frexp(a, &ex);
  return std::ldexp(1.0, ex - 24);
}

// Worst case of one kernel over a set of inputs.
struct Check {
  std::size_t failures = 0;
  double worst = 0;  // in units of the allowed error
  std::string worst_text;
  void add(bool exact_mode, Bound b, double arg, float x, double expected, float actual, float dy, float exact_ref) {
    double excess;
    if (exact_mode) {
      excess = (std::isnan(exact_ref) && std::isnan(actual)) || std::bit_cast<std::uint32_t>(exact_ref) == std::bit_cast<std::uint32_t>(actual) ? 0 : INFINITY;
      expected = exact_ref;
    } else {
      const float ef = static_cast<float>(expected);
      if (std::isnan(expected) || std::isnan(actual) || std::isinf(ef) || std::isinf(actual))
        excess = (std::isnan(expected) && std::isnan(actual)) || ef == actual ? 0 : INFINITY;
      else
        excess = std::fabs(actual - expected) / ((b.ulps + b.per_arg * arg) * ulp_of(expected) + b.abs * std::fabs(dy));
    }
    if (excess > 1) ++failures;
    if (excess > worst || (excess == INFINITY && failures == 1))
      worst = excess, worst_text = fmt::format("x = {:.9g}: expected {:.9g}, actual {:.9g}", x, expected, actual);
  }
  void expect_ok(const std::string& what) const {
    EXPECT_EQ(failures, 0u) << what << ": " << failures << " values off; worst (" << worst
                            << " times the bound) at " << worst_text;
  }
};

// Runs the vector kernels on x (with dy) and checks forward and backward against the references.
void check_values(const Activation& act, const KernelBounds& kb, const std::vector<float>& x,
                  const std::vector<float>& dy, Check& fwd, Check& bwd) {
  const std::size_t n = x.size();
  std::vector<float> y(n), dx(n), y_ref(n), dx_ref(n);
  std::vector<double> xd(x.begin(), x.end()), yd(n), dyd(dy.begin(), dy.end()), dxd(n);
  actlab::activation_forward(act, y, x);
  actlab::activation_backward(act, dx, dy, x, y);
  act.info->reference_f32.forward(act.params, y_ref, x);
  act.info->reference_f32.backward(act.params, dx_ref, dy, x, y);
  act.info->reference_f64.forward(act.params, yd, xd);
  const std::vector<double> y_in(y.begin(), y.end());  // the float y the backward was given
  act.info->reference_f64.backward(act.params, dxd, dyd, xd, y_in);
  for (std::size_t i = 0; i < n; ++i) {
    const double arg = kb.arg && std::isfinite(x[i]) ? kb.arg(x[i]) : 0.0;
    fwd.add(kb.fwd.ulps < 0, kb.fwd, arg, x[i], yd[i], y[i], 1.0f, y_ref[i]);
    bwd.add(kb.bwd.ulps < 0, kb.bwd, arg, x[i], dxd[i], dx[i], dy[i], dx_ref[i]);
  }
}

std::vector<float> special_values(const Activation& act) {
  const float big = FLT_MAX, inf = INFINITY;
  std::vector<float> v = {0.0f, 1e-45f, 1e-40f, FLT_MIN, 1e-20f, 1e-7f, 1e-3f, 0.1f, 0.5f, 0.75f, 1.0f, 1.19f, 1.28f,
                          2.0f, 3.0f, 5.0f, 9.0f, 13.2f, 14.0f, 17.0f, 20.0f, 30.0f, 43.0f, 50.0f, 87.0f, 87.3f, 88.0f,
                          88.8f, 89.0f, 103.9f, 104.0f, 150.0f, 1e3f, 1e4f, 1e10f, 1e13f, 1e15f, 1e20f, 3e38f, big, inf};
  std::vector<float> kinks;
  for (double k : act.info->kinks) kinks.push_back(float(k));
  if (act.name() == "softplus") {
    const double beta = act.params[0];
    kinks.push_back(float(act.params[1] / beta));
    // The AVX-512 forward's table (Log1pExpNegAbs): its interval edges (k + 1/2)/2 of beta x, the
    // clamp at 15.5 and the fallback below -15.5.
    for (int k = 0; k < 32; ++k) kinks.push_back(float((k + 0.5) / 2.0 / beta));
    kinks.push_back(float(15.5 / beta));
  }
  for (float k : kinks)
    for (float s : {k, -k}) v.insert(v.end(), {s, std::nextafter(s, -inf), std::nextafter(s, inf)});
  const std::size_t m = v.size();
  for (std::size_t i = 0; i < m; ++i) v.push_back(-v[i]);
  v.push_back(std::numeric_limits<float>::quiet_NaN());
  return v;
}

// Dense sweeps: log-spaced magnitudes of both signs, and a fine uniform grid around zero.
std::vector<float> sweep_values() {
  std::vector<float> v;
  for (int i = 0; i <= 60000; ++i) {
    const float m = float(std::pow(10.0, -40.0 + 79.0 * i / 60000.0));
    v.push_back(m), v.push_back(-m);
  }
  for (int i = -200000; i <= 200000; ++i) v.push_back(float(i) * 1.5e-4f);
  return v;
}

std::vector<float> random_dy(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.5f, 2.0f);
  std::vector<float> dy(n);
  for (float& v : dy) v = (rng() & 1) ? u(rng) : -u(rng);
  return dy;
}

// Every built instruction set this CPU runs, best first (the one dispatched normally comes first).
std::vector<std::int64_t> targets() { return hwy::SupportedAndGeneratedTargets(); }

TEST(ActivationVector, EveryBoundedSpecIsATableEntryAndEveryEntryHasBounds) {
  for (const actlab::ActivationInfo& info : actlab::activation_table()) {
    const bool listed = std::any_of(std::begin(bounds), std::end(bounds),
                                    [&](const KernelBounds& b) { return actlab::parse_activation(b.spec).info == &info; });
    if (!actlab::find_vector_kernels(info)) continue;  // no vector body: the reference runs
    EXPECT_TRUE(listed) << info.name << " has a vector body but no bounds in this test";
  }
  actlab::ActivationInfo unknown;
  unknown.name = "not_in_the_registry";
  EXPECT_EQ(actlab::find_vector_kernels(unknown), nullptr);
  std::cout << "  vector ISA: " << actlab::vector_isa() << ", " << actlab::vector_lanes() << " float lanes\n";
}

TEST(ActivationVector, SpecialValuesAndSweepsWithinBoundsOnEveryTarget) {
  const ModeGuard mode(actlab::KernelMode::vector);
  const std::vector<float> sweep = sweep_values();
  const std::vector<std::int64_t> all = targets();
  for (const std::int64_t target : all) {
    hwy::SetSupportedTargetsForTest(target);
    const std::string isa = hwy::TargetName(target);
    for (const KernelBounds& kb : bounds) {
      const Activation act = actlab::parse_activation(kb.spec);
      Check fwd, bwd;
      for (const std::vector<float>& x : {special_values(act), sweep}) {
        check_values(act, kb, x, random_dy(x.size(), 7), fwd, bwd);
      }
      fwd.expect_ok(fmt::format("{} {} forward", isa, kb.spec));
      bwd.expect_ok(fmt::format("{} {} backward", isa, kb.spec));
      if (target == all.front())
        std::cout << fmt::format("  {:<30} worst/bound forward {:.2f}, backward {:.2f}\n", kb.spec, fwd.worst, bwd.worst);
    }
  }
  hwy::SetSupportedTargetsForTest(0);
}

// softplus with beta = 1 leaves out the select above the threshold (vector_ops-inl.hpp): from
// x = 16 on, x + log1p(e^-x) must round to x itself, as the table's x above the threshold.
TEST(ActivationVector, SoftplusIsExactlyXFromSixteenOn) {
  const ModeGuard mode(actlab::KernelMode::vector);
  std::vector<float> x;
  for (float v = 16.0f; v < 1e7f; v = std::nextafter(v, INFINITY)) {
    x.push_back(v);
    for (int skip = v < 16.01f || (v > 19.99f && v < 20.01f) ? 0 : 60; skip > 0; --skip) v = std::nextafter(v, INFINITY);
    if (v > 64.0f) v *= 1.001f;  // every float near 16 and 20, every 61st up to 64, then samples
  }
  x.push_back(INFINITY);
  std::vector<float> y(x.size());
  actlab::on_every_target([&] {
    for (const char* spec : {"softplus", "softplus:threshold=16"}) {
      actlab::activation_forward(actlab::parse_activation(spec), y, x);
      std::size_t off = 0, first = 0;
      for (std::size_t i = 0; i < x.size(); ++i)
        if (std::bit_cast<std::uint32_t>(y[i]) != std::bit_cast<std::uint32_t>(x[i]) && off++ == 0) first = i;
      EXPECT_EQ(off, 0u) << spec << ": first at x = " << x[first] << ", got " << y[first];
    }
  });
}

// hardsigmoid = (x + 3)/6 near its zero at x = -3, and hardswish' = (2x + 3)/6 near its zero at
// x = -1.5: within half an ulp of the exact value in both modes, on every target. Written as
// x/6 + 1/2 and x/3 + 1/2 they cancel there (hardsigmoid(-2.9999998) came out 25% off).
TEST(ActivationVector, HardPiecesAreCorrectlyRoundedNearTheirZeros) {
  const auto near = [](float at, float until) {
    std::vector<float> x;
    for (float v = std::nextafter(at, INFINITY); v < until; v = std::nextafter(v, INFINITY)) {
      x.push_back(v);
      if (x.size() > 4000) v += (until - at) / 2000;  // every float at first, then samples
    }
    return x;
  };
  const auto half_ulp_off = [](float actual, double exact) {
    const float e = std::fabs(float(exact));
    // The smaller of the spacings on either side of e (they differ at a power of two).
    const double ulp = std::min(double(std::nextafter(e, INFINITY)) - e, double(e) - std::nextafter(e, 0.0f));
    return std::fabs(double(actual) - exact) > 0.5 * ulp * (1 + 1e-9);
  };
  const std::vector<float> xs = near(-3.0f, -2.9f), xw = near(-1.6f, -1.4f);
  std::vector<float> y(xs.size()), dy(xw.size(), 1.0f), dx(xw.size()), yw(xw.size());
  const Activation hs = actlab::parse_activation("hardsigmoid"), hw = actlab::parse_activation("hardswish");
  const auto check = [&](const char* mode) {
    actlab::activation_forward(hs, y, xs);
    actlab::activation_forward(hw, yw, xw);
    actlab::activation_backward(hw, dx, dy, xw, yw);
    for (std::size_t i = 0; i < xs.size(); ++i)
      ASSERT_FALSE(half_ulp_off(y[i], (double(xs[i]) + 3) / 6)) << mode << " hardsigmoid(" << xs[i] << ") = " << y[i];
    for (std::size_t i = 0; i < xw.size(); ++i)
      ASSERT_FALSE(half_ulp_off(dx[i], (2.0 * xw[i] + 3) / 6)) << mode << " hardswish'(" << xw[i] << ") = " << dx[i];
  };
  {
    const ModeGuard mode(actlab::KernelMode::reference);
    check("reference");
  }
  const ModeGuard mode(actlab::KernelMode::vector);
  actlab::on_every_target([&] { check("vector"); });
}

// hardsigmoid's forward divides by 6 with a reciprocal and an FMA correction where the FMA is native
// (DivideBySix, checked on every float by tools/check_divide_by_six.cpp): the reference's bits on
// every float of [-3, -2.75] and [2.75, 3] (x + 3 in (0, 0.25] and [5.75, 6)) and on every 1031st
// float between, 4M values, on every target.
TEST(ActivationVector, HardsigmoidHasTheReferenceBitsAcrossItsMiddle) {
  std::vector<float> x;
  for (float v = -3.0f; v <= -2.75f; v = std::nextafter(v, INFINITY)) x.push_back(v);
  for (float v = 2.75f; v <= 3.0f; v = std::nextafter(v, INFINITY)) x.push_back(v);
  for (std::uint32_t b = std::bit_cast<std::uint32_t>(2.75f); b > 0; b = b > 1031 ? b - 1031 : 0)
    x.insert(x.end(), {std::bit_cast<float>(b), -std::bit_cast<float>(b)});
  const Activation act = actlab::parse_activation("hardsigmoid");
  std::vector<float> expected(x.size()), y(x.size());
  act.info->reference_f32.forward(act.params, expected, x);
  const ModeGuard mode(actlab::KernelMode::vector);
  actlab::on_every_target([&] {
    actlab::activation_forward(act, y, x);
    for (std::size_t i = 0; i < x.size(); ++i)
      ASSERT_EQ(std::bit_cast<std::uint32_t>(y[i]), std::bit_cast<std::uint32_t>(expected[i]))
          << "hardsigmoid(" << x[i] << ") = " << y[i] << ", reference " << expected[i];
  });
}

// Sizes around the lane count and unaligned starts; the kernels must not touch the guard values.
TEST(ActivationVector, AwkwardSizesAndUnalignedStarts) {
  const ModeGuard mode(actlab::KernelMode::vector);
  const std::size_t lanes = actlab::vector_lanes();
  const float guard = -12345.0f;
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 4.0f);
  for (const KernelBounds& kb : bounds) {
    const Activation act = actlab::parse_activation(kb.spec);
    for (const std::size_t n : {std::size_t(0), std::size_t(1), lanes - 1, lanes, lanes + 1, std::size_t(1000), std::size_t(100003)}) {
      for (std::size_t offset = 0; offset <= 3; ++offset) {
        std::vector<float> xs(n + 8), dys(n + 8), ys(n + 8, guard), dxs(n + 8, guard);
        for (float& v : xs) v = normal(rng);
        for (float& v : dys) v = normal(rng);
        const std::span<const float> x(xs.data() + offset, n), dy(dys.data() + offset, n);
        actlab::activation_forward(act, std::span(ys.data() + offset, n), x);
        actlab::activation_backward(act, std::span(dxs.data() + offset, n), dy, x, std::span<const float>(ys.data() + offset, n));
        for (std::size_t i = 0; i < n + 8; ++i) {
          if (i >= offset && i < offset + n) continue;
          ASSERT_EQ(ys[i], guard) << kb.spec << " forward wrote outside its span (n " << n << ", offset " << offset << ")";
          ASSERT_EQ(dxs[i], guard) << kb.spec << " backward wrote outside its span (n " << n << ", offset " << offset << ")";
        }
        Check fwd, bwd;
        check_values(act, kb, std::vector<float>(x.begin(), x.end()), std::vector<float>(dy.begin(), dy.end()), fwd, bwd);
        fwd.expect_ok(fmt::format("{} forward, n {}, offset {}", kb.spec, n, offset));
        bwd.expect_ok(fmt::format("{} backward, n {}, offset {}", kb.spec, n, offset));
      }
    }
  }
}

// A value's result does not depend on where it lies: the loops take whole vectors 4, 6 or 8 at a
// time as one bundle (vector_bundle-inl.hpp), then single vectors, then a short rest, and each must give
// the bits of the others. Every value of the special values and a sample of the sweep, alone (the
// short rest), against the same values in one array of a few bundles, on every target. NaN's sign
// may differ (which operand's NaN an x86 operation returns follows the compiler's operand order).
TEST(ActivationVector, SameBitsInBundlesVectorsAndTheRest) {
  const ModeGuard mode(actlab::KernelMode::vector);
  const auto same = [](float a, float b) {
    return (std::isnan(a) && std::isnan(b)) || std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b);
  };
  const std::vector<float> sweep = sweep_values();
  actlab::on_every_target([&] {
    for (const KernelBounds& kb : bounds) {
      const Activation act = actlab::parse_activation(kb.spec);
      std::vector<float> x = special_values(act);
      for (std::size_t i = 0; i < sweep.size(); i += 997) x.push_back(sweep[i]);
      ASSERT_GE(x.size(), 2 * 8 * actlab::vector_lanes());  // several bundles of the widest step
      const std::vector<float> dy = random_dy(x.size(), 5);
      std::vector<float> y(x.size()), dx(x.size());
      actlab::activation_forward(act, y, x);
      actlab::activation_backward(act, dx, dy, x, y);
      for (std::size_t i = 0; i < x.size(); ++i) {
        float y1 = 0, dx1 = 0;
        actlab::activation_forward(act, std::span(&y1, 1), std::span(&x[i], 1));
        actlab::activation_backward(act, std::span(&dx1, 1), std::span(&dy[i], 1), std::span(&x[i], 1), std::span<const float>(&y1, 1));
        ASSERT_TRUE(same(y[i], y1)) << kb.spec << " forward at x = " << x[i] << ": " << y[i] << " in the array, " << y1 << " alone";
        ASSERT_TRUE(same(dx[i], dx1)) << kb.spec << " backward at x = " << x[i] << ": " << dx[i] << " in the array, " << dx1 << " alone";
      }
    }
  });
}

// Elementwise results and the parameter gradient do not depend on the number of threads.
TEST(ActivationVector, SameResultsWithOneAndTwoThreads) {
  const ModeGuard mode(actlab::KernelMode::vector);
  const int saved = omp_get_max_threads();
  const std::size_t n = (std::size_t(1) << 20) + 77;
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> x(n), dy(n);
  for (float& v : x) v = normal(rng);
  for (float& v : dy) v = normal(rng);
  for (const KernelBounds& kb : bounds) {
    const Activation act = actlab::parse_activation(kb.spec);
    std::vector<float> y[2], dx[2];
    double dw[2] = {0, 0};
    for (int t = 0; t < 2; ++t) {
      omp_set_num_threads(t + 1);
      y[t].resize(n), dx[t].resize(n);
      actlab::activation_forward(act, y[t], x);
      actlab::activation_backward(act, dx[t], dy, x, y[t]);
      if (act.info->learnable) dw[t] = actlab::activation_param_grad(act, dy, x);
    }
    EXPECT_TRUE(std::equal(y[0].begin(), y[0].end(), y[1].begin(), [](float a, float b) { return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b); })) << kb.spec;
    EXPECT_TRUE(std::equal(dx[0].begin(), dx[0].end(), dx[1].begin(), [](float a, float b) { return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b); })) << kb.spec;
    EXPECT_EQ(std::bit_cast<std::uint64_t>(dw[0]), std::bit_cast<std::uint64_t>(dw[1])) << kb.spec << ": " << dw[0] << " vs " << dw[1];
  }
  omp_set_num_threads(saved);
}

TEST(ActivationVector, ReferenceModeGivesExactlyTheReference) {
  const ModeGuard mode(actlab::KernelMode::reference);
  std::vector<float> x = sweep_values();
  const std::vector<float> dy = random_dy(x.size(), 9);
  for (const KernelBounds& kb : bounds) {
    const Activation act = actlab::parse_activation(kb.spec);
    std::vector<float> y(x.size()), dx(x.size()), y_ref(x.size()), dx_ref(x.size());
    actlab::activation_forward(act, y, x);
    actlab::activation_backward(act, dx, dy, x, y);
    act.info->reference_f32.forward(act.params, y_ref, x);
    act.info->reference_f32.backward(act.params, dx_ref, dy, x, y);
    EXPECT_EQ(0, std::memcmp(y.data(), y_ref.data(), y.size() * sizeof(float))) << kb.spec;
    EXPECT_EQ(0, std::memcmp(dx.data(), dx_ref.data(), dx.size() * sizeof(float))) << kb.spec;
  }
}

// tests/data/activation_reference.json (PyTorch 1.13 in float64) through the vector path, with
// torch.testing.assert_close's float32 tolerance |actual - expected| <= 1e-5 + 1.3e-6 |expected|.
TEST(ActivationVector, MatchesPyTorchFloat64Oracle) {
  const ModeGuard mode(actlab::KernelMode::vector);
  std::ifstream in(std::string(ACTLAB_TEST_DATA_DIR) + "/activation_reference.json");
  ASSERT_TRUE(in) << "cannot open activation_reference.json";
  const nlohmann::json data = nlohmann::json::parse(in);
  const auto number = [](const nlohmann::json& v) {
    if (v.is_number()) return v.get<double>();
    const std::string s = v.get<std::string>();
    return s == "nan" ? double(NAN) : s == "inf" ? double(INFINITY) : -double(INFINITY);
  };
  const auto floats = [&](const nlohmann::json& a) {
    std::vector<float> out;
    for (const auto& v : a) out.push_back(float(number(v)));
    return out;
  };
  const auto within = [](double a, double e) {
    if (std::isnan(e) || std::isnan(a)) return std::isnan(e) && std::isnan(a);
    if (std::isinf(e) || std::isinf(a)) return a == e;
    return std::fabs(a - e) <= 1e-5 + 1.3e-6 * std::fabs(e);
  };
  for (const auto& c : data.at("cases")) {
    const std::string spec = c.at("spec");
    const Activation act = actlab::parse_activation(spec);
    const std::vector<float> x = floats(c.at("x")), dy = floats(c.at("dy")), ye = floats(c.at("y")), dxe = floats(c.at("dx"));
    std::vector<float> y(x.size()), dx(x.size());
    actlab::activation_forward(act, y, x);
    actlab::activation_backward(act, dx, dy, x, y);
    for (std::size_t i = 0; i < x.size(); ++i) {
      EXPECT_TRUE(within(y[i], ye[i])) << spec << " forward at x = " << x[i] << ": expected " << ye[i] << ", actual " << y[i];
      EXPECT_TRUE(within(dx[i], dxe[i])) << spec << " backward at x = " << x[i] << ": expected " << dxe[i] << ", actual " << dx[i];
    }
    if (c.contains("dweight")) {
      const double e = number(c.at("dweight")), a = actlab::activation_param_grad(act, dy, x);
      EXPECT_TRUE(within(a, e)) << spec << " weight gradient: expected " << e << ", actual " << a;
    }
  }
}

}  // namespace
