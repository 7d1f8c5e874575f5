// Checks of every activation table entry that need no outside oracle: f' against central finite
// differences of f (double kernels), the float kernels against the double ones, finiteness over the
// whole float range, the learnable parameter's gradient, and the init gain.
#include "actlab/activation.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <numbers>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using actlab::Activation;
using actlab::ActivationInfo;

struct Config {
  Activation act;
  std::vector<double> kinks;  // the entry's kinks and, where a parameter moves one, the moved kink
};

// Every entry at its defaults, and the non-default parameters of the PyTorch reference cases.
std::vector<Config> configs() {
  std::vector<Config> out;
  for (const ActivationInfo& info : actlab::activation_table())
    out.push_back({actlab::make_activation(info.name), info.kinks});
  const std::pair<const char*, std::vector<double>> extra[] = {
      {"leaky_relu:negative_slope=0.2", {}}, {"prelu:weight=-0.1", {}}, {"elu:alpha=0.5", {}},
      {"celu:alpha=2", {}}, {"gelu:approximate=tanh", {}},
      {"softplus:beta=2,threshold=10", {5.0}},  // the switch to x sits at threshold / beta
      {"rrelu:lower=0.1,upper=0.3", {}},
  };
  for (const auto& [spec, moved] : extra) {
    Config c{actlab::parse_activation(spec), {}};
    c.kinks = c.act.info->kinks;
    c.kinks.insert(c.kinks.end(), moved.begin(), moved.end());
    out.push_back(std::move(c));
  }
  return out;
}

template <class T>
std::vector<T> forward(const Activation& a, const std::vector<T>& x) {
  std::vector<T> y(x.size());
  if constexpr (std::is_same_v<T, float>)
    a.info->reference_f32.forward(a.params, y, x);
  else
    a.info->reference_f64.forward(a.params, y, x);
  return y;
}

// f'(x), from the backward with dy = 1 and the forward's y.
template <class T>
std::vector<T> derivative(const Activation& a, const std::vector<T>& x) {
  const std::vector<T> y = forward(a, x), ones(x.size(), T(1));
  std::vector<T> d(x.size());
  if constexpr (std::is_same_v<T, float>)
    a.info->reference_f32.backward(a.params, d, ones, x, y);
  else
    a.info->reference_f64.backward(a.params, d, ones, x, y);
  return d;
}

bool near_kink(double x, const std::vector<double>& kinks, double radius) {
  return std::any_of(kinks.begin(), kinks.end(), [&](double k) { return std::fabs(x - k) < radius; });
}

// Central differences in double, h = 1e-5 * max(1, |x|): truncation error ~h^2 |f'''| and rounding
// ~1e-16 |f| / h, both far below the tolerance 1e-6 * (1 + |f'|). Points within 1e-3 of a kink skipped.
TEST(ActivationGradcheck, DerivativeMatchesFiniteDifferences) {
  std::vector<double> grid;
  for (int i = -600; i <= 600; ++i) grid.push_back(i * 0.01 + 0.003);  // off the round numbers
  for (double big : {10.0, 25.0, 100.0, 1000.0, 1e5}) grid.insert(grid.end(), {big, -big});
  for (const Config& c : configs()) {
    std::vector<double> x, xp, xm;
    for (double v : grid) {
      if (near_kink(v, c.kinks, 1e-3)) continue;
      const double h = 1e-5 * std::max(1.0, std::fabs(v));
      x.push_back(v), xp.push_back(v + h), xm.push_back(v - h);
    }
    const std::vector<double> d = derivative(c.act, x), fp = forward(c.act, xp), fm = forward(c.act, xm);
    double worst = 0.0;
    std::size_t at = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double fd = (fp[i] - fm[i]) / (xp[i] - xm[i]);
      const double err = std::fabs(fd - d[i]) / (1e-6 * (1.0 + std::fabs(d[i])));
      if (err > worst) worst = err, at = i;
    }
    const double fd = (fp[at] - fm[at]) / (xp[at] - xm[at]);
    EXPECT_LE(worst, 1.0) << fmt::format("{}: worst at x = {:.17g}: finite difference {:.17g}, derivative {:.17g}",
                                         c.act.to_string(), x[at], fd, d[at]);
  }
}

double float_ulp(double v) {
  const float f = std::fabs(static_cast<float>(v));
  if (std::isinf(f)) return std::numeric_limits<double>::infinity();
  return double(std::nextafter(f, std::numeric_limits<float>::infinity())) - double(f);
}

// Inputs across the float range: a fine grid over [-30, 30], then +-m * 2^e for every exponent from the
// smallest denormal to the largest float, and the float limits.
std::vector<float> float_sweep() {
  std::vector<float> x;
  for (int i = -3000; i <= 3000; ++i) x.push_back(static_cast<float>(i * 0.01 + 0.0037));
  for (int e = -149; e <= 127; ++e)
    for (double m : {1.0, 1.2345678, 1.5, 1.9999999})
      for (double s : {1.0, -1.0}) {
        const double v = s * std::ldexp(m, e);
        if (std::fabs(v) <= std::numeric_limits<float>::max()) x.push_back(static_cast<float>(v));
      }
  const float lim = std::numeric_limits<float>::max();
  x.insert(x.end(), {0.0f, -0.0f, lim, -lim, std::numeric_limits<float>::denorm_min(),
                     -std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::min()});
  return x;
}

// The float kernels against the double kernels on the same float inputs, the double result rounded to
// float. Bound: |f32 - f64| <= 4 ulp(f64) + 4 * 2^-24 * m, where m = 1 for f' and m = |x| for f (ulp at
// the rounded value). The second term is the cancellation a float formula has where the result is far
// smaller than its terms (silu' near its zero, gelu's tail): those terms are O(1) in f' and O(|x|) in f.
TEST(ActivationFloatVsDouble, WithinFourUlpsPlusCancellation) {
  const std::vector<float> x = float_sweep();
  const std::vector<double> xd(x.begin(), x.end());
  constexpr double u = 0x1p-24;  // float's unit roundoff
  for (const Config& c : configs()) {
    const std::string name = c.act.to_string();
    for (const bool backward : {false, true}) {
      const std::vector<float> a = backward ? derivative(c.act, x) : forward(c.act, x);
      const std::vector<double> e = backward ? derivative(c.act, xd) : forward(c.act, xd);
      double worst = 0.0;
      std::size_t at = 0;
      for (std::size_t i = 0; i < x.size(); ++i) {
        const double expected = static_cast<float>(e[i]);  // may round to inf: then a must be inf too
        if (std::isinf(expected) || std::isinf(a[i])) {
          if (a[i] != expected) worst = std::numeric_limits<double>::infinity(), at = i;
          continue;
        }
        if (backward && near_kink(x[i], c.kinks, 1e-3)) continue;  // the two may pick different sides
        const double m = backward ? 1.0 : std::fabs(double(x[i]));
        const double err = std::fabs(double(a[i]) - expected) / (4 * float_ulp(expected) + 4 * u * m);
        if (!(err <= worst)) worst = err, at = i;
      }
      EXPECT_LE(worst, 1.0) << fmt::format("{} {}: worst at x = {:.9g}: double {:.17g}, float {:.9g}", name,
                                           backward ? "backward" : "forward", x[at], e[at], a[at]);
    }
  }
}

// Every finite float input gives a finite f and f' (and f passes NaN through). The only exception
// allowed is a forward whose exact value is beyond the float range (selu near FLT_MAX): there it is inf.
TEST(ActivationStability, FiniteForEveryFiniteFloat) {
  std::vector<float> x = float_sweep();
  for (const Config& c : configs()) {
    const std::string name = c.act.to_string();
    const std::vector<float> y = forward(c.act, x), d = derivative(c.act, x);
    const std::vector<double> yd = forward(c.act, std::vector<double>(x.begin(), x.end()));
    int bad = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const bool overflows = std::fabs(yd[i]) > std::numeric_limits<float>::max();
      if (!std::isfinite(y[i]) && !overflows && bad++ < 3)
        ADD_FAILURE() << fmt::format("{}: f({:.9g}) = {}", name, x[i], y[i]);
      if (!std::isfinite(d[i]) && bad++ < 3) ADD_FAILURE() << fmt::format("{}: f'({:.9g}) = {}", name, x[i], d[i]);
    }
    const std::vector<float> nan{std::numeric_limits<float>::quiet_NaN()};
    EXPECT_TRUE(std::isnan(forward(c.act, nan)[0])) << name << ": f(NaN) is not NaN";
  }
}

// d(sum dy * f(x; a))/da, by central differences on the parameter, for every learnable entry.
TEST(ActivationGradcheck, LearnableParameterGradient) {
  int learnable = 0;
  for (const Config& c : configs()) {
    if (!c.act.info->learnable) continue;
    ++learnable;
    ASSERT_NE(c.act.info->reference_f64.param_grad, nullptr) << c.act.to_string();
    std::vector<double> x, dy;
    for (int i = -40; i <= 40; ++i) x.push_back(i * 0.137), dy.push_back(std::sin(0.7 * i) + 0.3);
    const auto loss = [&](double a) {
      Activation act = c.act;
      act.params[0] = a;
      const std::vector<double> y = forward(act, x);
      double sum = 0.0;
      for (std::size_t i = 0; i < y.size(); ++i) sum += dy[i] * y[i];
      return sum;
    };
    const double h = 1e-4, a = c.act.params[0];
    const double fd = (loss(a + h) - loss(a - h)) / (2 * h);
    const double analytic = c.act.info->reference_f64.param_grad(c.act.params, dy, x);
    EXPECT_NEAR(analytic, fd, 1e-8 * (1 + std::fabs(fd))) << c.act.to_string();
    // The float API rounds each term dy * df/da to float and sums in double: within 2^-24 * sum |term|
    // of the double kernel on the same float inputs.
    const std::vector<float> xf(x.begin(), x.end()), dyf(dy.begin(), dy.end());
    const std::vector<double> xr(xf.begin(), xf.end()), dyr(dyf.begin(), dyf.end());
    double magnitude = 0.0;
    for (std::size_t i = 0; i < xr.size(); ++i) magnitude += std::fabs(dyr[i] * xr[i]);
    EXPECT_NEAR(actlab::activation_param_grad(c.act, dyf, xf),
                c.act.info->reference_f64.param_grad(c.act.params, dyr, xr), 0x1p-24 * magnitude)
        << c.act.to_string();
  }
  EXPECT_GE(learnable, 1);
}

// 1/sqrt(E[f(x)^2]) for x ~ N(0,1), by composite Simpson on [-12, 12] (independent of the library's
// trapezoid rule).
double moment_gain(const Activation& act) {
  constexpr int n = 24000;
  constexpr double lo = -12.0, hi = 12.0, h = (hi - lo) / n;
  std::vector<double> x(n + 1);
  for (int i = 0; i <= n; ++i) x[i] = lo + h * i;
  const std::vector<double> y = forward(act, x);
  double sum = 0.0;
  for (int i = 0; i <= n; ++i) {
    const double w = (i == 0 || i == n) ? 1.0 : (i % 2 ? 4.0 : 2.0);
    sum += w * y[i] * y[i] * std::exp(-0.5 * x[i] * x[i]);
  }
  return 1.0 / std::sqrt(sum * h / 3.0 / std::sqrt(2.0 * std::numbers::pi));
}

// PyTorch's gains for relu, identity and leaky_relu are the second-moment rule that actlab uses for the
// entries PyTorch has no gain for; so the rule must reproduce them (relu: sqrt(2)).
TEST(ActivationGain, MomentRuleReproducesPyTorchGains) {
  EXPECT_NEAR(moment_gain(actlab::make_activation("relu")), std::sqrt(2.0), 1e-9);
  EXPECT_NEAR(actlab::activation_gain(actlab::make_activation("relu")), std::sqrt(2.0), 1e-15);
  for (const char* spec : {"identity", "leaky_relu", "leaky_relu:negative_slope=0.2", "prelu", "prelu:weight=-0.1",
                           "rrelu", "rrelu:lower=0.1,upper=0.3"}) {
    const Activation act = actlab::parse_activation(spec);
    EXPECT_NEAR(actlab::activation_gain(act), moment_gain(act), 1e-9) << spec;
  }
}

TEST(ActivationGain, MomentGainsAreFiniteAndPlausible) {
  for (const Config& c : configs()) {
    const double gain = actlab::activation_gain(c.act);
    EXPECT_TRUE(std::isfinite(gain) && gain >= 0.5 && gain <= 3.0) << c.act.to_string() << ": gain " << gain;
    if (c.act.info->gain == nullptr) {
      EXPECT_NEAR(gain, moment_gain(c.act), 1e-6 * gain) << c.act.to_string();
    }
  }
}

}  // namespace
