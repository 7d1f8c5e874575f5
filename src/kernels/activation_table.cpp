// The activation table: one entry per activation, the single place where one is defined.
//
// Each entry gives f and f' as generic bodies (instantiated for float and double by make_entry),
// PyTorch's parameter names and defaults, the kinks and the init gain with its source.
// Conventions at kinks follow PyTorch 1.13: relu'(0) = 0, leaky/prelu'(0) = slope, elu'(0) = alpha.
// The derivative body receives x and y = f(x); it must be right for every finite x.
#include "kernels/reference_kernels.hpp"
#include "kernels/scalar_math.hpp"

#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>

namespace actlab {
namespace {

constexpr double big = 1e30;  // bound for "any finite" numeric parameters

// SELU's constants (Klambauer et al. 2017, as in PyTorch).
constexpr double selu_alpha = 1.6732632423543772848170429916717;
constexpr double selu_scale = 1.0507009873554804934193349852946;

const char* const torch_gain = "torch.nn.init.calculate_gain (PyTorch 1.13)";
const char* const moment_gain =
    "no PyTorch gain: 1/sqrt(E[f(x)^2]) for x ~ N(0,1), by quadrature (the rule that gives sqrt(2) for relu)";

std::vector<ActivationInfo> build_table() {
  using std::exp;
  std::vector<ActivationInfo> table;

  table.push_back(make_entry(
      {.name = "identity", .formula = "x", .derivative = "1",
       .init = InitScheme::xavier, .gain = [](const ActivationParams&) { return 1.0; }, .gain_source = torch_gain},
      [](auto x, const ActivationParams&) { return x; },
      [](auto x, auto, const ActivationParams&) { return decltype(x)(1); }));

  table.push_back(make_entry(
      {.name = "sigmoid", .formula = "1 / (1 + exp(-x))", .derivative = "y * (1 - y)",
       .backward_from_output = true, .init = InitScheme::xavier,
       .gain = [](const ActivationParams&) { return 1.0; }, .gain_source = torch_gain},
      [](auto x, const ActivationParams&) { return scalar::sigmoid(x); },
      [](auto, auto y, const ActivationParams&) { return y * (decltype(y)(1) - y); }));

  table.push_back(make_entry(
      {.name = "tanh", .formula = "tanh(x)", .derivative = "1 - y^2",
       .backward_from_output = true, .init = InitScheme::xavier,
       .gain = [](const ActivationParams&) { return 5.0 / 3.0; }, .gain_source = torch_gain},
      [](auto x, const ActivationParams&) { return std::tanh(x); },
      [](auto, auto y, const ActivationParams&) { return decltype(y)(1) - y * y; }));

  table.push_back(make_entry(
      {.name = "relu", .formula = "max(x, 0)", .derivative = "1 if x > 0, else 0 (0 at x = 0)",
       .kinks = {0.0}, .backward_from_output = true,
       .gain = [](const ActivationParams&) { return std::numbers::sqrt2; }, .gain_source = torch_gain},
      [](auto x, const ActivationParams&) { return x < decltype(x)(0) ? decltype(x)(0) : x; },
      [](auto x, auto, const ActivationParams&) { return decltype(x)(x > decltype(x)(0) ? 1 : 0); }));

  table.push_back(make_entry(
      {.name = "leaky_relu", .params = {{"negative_slope", 0.01, -big, big}},
       .formula = "x if x > 0, else negative_slope * x",
       .derivative = "1 if x > 0, else negative_slope (negative_slope at x = 0)", .kinks = {0.0},
       .gain = [](const ActivationParams& p) { return std::sqrt(2.0 / (1.0 + p[0] * p[0])); },
       .gain_source = torch_gain},
      [](auto x, const ActivationParams& p) { using T = decltype(x); return x > T(0) ? x : x * T(p[0]); },
      [](auto x, auto, const ActivationParams& p) { using T = decltype(x); return x > T(0) ? T(1) : T(p[0]); }));

  table.push_back(make_entry(
      {.name = "prelu", .params = {{"weight", 0.25, -big, big}},
       .formula = "x if x > 0, else weight * x (weight learned; one shared or one per channel)",
       .derivative = "1 if x > 0, else weight; d/dweight = x if x <= 0, else 0", .kinks = {0.0},
       .learnable = true,
       .gain = [](const ActivationParams& p) { return std::sqrt(2.0 / (1.0 + p[0] * p[0])); },
       .gain_source = "leaky_relu's gain at the slope's initial value (PyTorch has no prelu gain)"},
      [](auto x, const ActivationParams& p) { using T = decltype(x); return x > T(0) ? x : x * T(p[0]); },
      [](auto x, auto, const ActivationParams& p) { using T = decltype(x); return x > T(0) ? T(1) : T(p[0]); },
      [](auto dy, auto x, const ActivationParams&) { using T = decltype(x); return x > T(0) ? T(0) : dy * x; }));

  table.push_back(make_entry(
      {.name = "elu", .params = {{"alpha", 1.0, -big, big}},
       .formula = "x if x > 0, else alpha * (exp(x) - 1)",
       .derivative = "1 if x > 0, else alpha * exp(x) = y + alpha (alpha at x = 0)", .kinks = {0.0},
       .backward_from_output = true, .gain = nullptr, .gain_source = moment_gain},
      [](auto x, const ActivationParams& p) { using T = decltype(x); return x > T(0) ? x : T(p[0]) * std::expm1(x); },
      [](auto x, auto, const ActivationParams& p) { using T = decltype(x); return x > T(0) ? T(1) : T(p[0]) * exp(x); }));

  table.push_back(make_entry(
      {.name = "selu", .formula = "scale * (x if x > 0, else alpha * (exp(x) - 1)), alpha = 1.6733, scale = 1.0507",
       .derivative = "scale if x > 0, else scale * alpha * exp(x)", .kinks = {0.0},
       .gain = [](const ActivationParams&) { return 0.75; }, .gain_source = torch_gain},
      [](auto x, const ActivationParams&) {
        using T = decltype(x);
        return T(selu_scale) * (x > T(0) ? x : T(selu_alpha) * std::expm1(x));
      },
      [](auto x, auto, const ActivationParams&) {
        using T = decltype(x);
        return x > T(0) ? T(selu_scale) : T(selu_scale * selu_alpha) * exp(x);
      }));

  table.push_back(make_entry(
      {.name = "celu", .params = {{"alpha", 1.0, 1e-30, big}},
       .formula = "x if x > 0, else alpha * (exp(x / alpha) - 1)",
       .derivative = "1 if x > 0, else exp(x / alpha)", .kinks = {0.0},
       .gain = nullptr, .gain_source = moment_gain},
      [](auto x, const ActivationParams& p) { using T = decltype(x); return x > T(0) ? x : T(p[0]) * std::expm1(x / T(p[0])); },
      [](auto x, auto, const ActivationParams& p) { using T = decltype(x); return x > T(0) ? T(1) : exp(x / T(p[0])); }));

  table.push_back(make_entry(
      {.name = "gelu", .params = {{"approximate", 0, 0, 1, {"none", "tanh"}}},
       .formula = "x * Phi(x) = x/2 * erfc(-x/sqrt(2)); approximate=tanh: x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))",
       .derivative = "Phi(x) + x * phi(x); approximate=tanh: the derivative of the tanh form",
       .gain = nullptr, .gain_source = moment_gain},
      [](auto x, const ActivationParams& p) {
        using T = decltype(x);
        if (p[0] == 0) return T(0.5) * x * std::erfc(-x * T(std::numbers::sqrt2 / 2));
        // 1 + tanh(u) = 2 sigmoid(2u): no cancellation for negative x.
        const T u = T(std::numbers::sqrt2 * std::numbers::inv_sqrtpi) * (x + T(0.044715) * x * x * x);
        return x * scalar::sigmoid(T(2) * u);
      },
      [](auto x, auto, const ActivationParams& p) {
        using T = decltype(x);
        if (p[0] == 0) {
          const T pdf = T(std::numbers::inv_sqrtpi / std::numbers::sqrt2) * exp(T(-0.5) * x * x);
          return T(0.5) * std::erfc(-x * T(std::numbers::sqrt2 / 2)) + x * pdf;
        }
        if (std::fabs(x) > T(20)) return T(x > T(0) ? 1 : 0);  // the limits; avoids 0 * inf from x^3
        const T k = T(std::numbers::sqrt2 * std::numbers::inv_sqrtpi);
        const T u2 = T(2) * k * (x + T(0.044715) * x * x * x);
        const T s = scalar::sigmoid(u2);
        return s + x * s * scalar::sigmoid(-u2) * T(2) * k * (T(1) + T(3 * 0.044715) * x * x);
      }));

  table.push_back(make_entry(
      {.name = "silu", .formula = "x * sigmoid(x)", .derivative = "s * (1 + x * (1 - s)), s = sigmoid(x)",
       .gain = nullptr, .gain_source = moment_gain},
      [](auto x, const ActivationParams&) { return x * scalar::sigmoid(x); },
      [](auto x, auto, const ActivationParams&) { return scalar::sigmoid(x) * (decltype(x)(1) + x * scalar::sigmoid(-x)); }));

  table.push_back(make_entry(
      {.name = "mish", .formula = "x * tanh(softplus(x))",
       .derivative = "t + x * sigmoid(x) * (1 - t^2), t = tanh(softplus(x))",
       .gain = nullptr, .gain_source = moment_gain},
      [](auto x, const ActivationParams&) { return x * std::tanh(scalar::softplus(x)); },
      [](auto x, auto, const ActivationParams&) {
        using T = decltype(x);
        const T t = std::tanh(scalar::softplus(x));
        return t + x * scalar::sigmoid(x) * (T(1) - t * t);
      }));

  table.push_back(make_entry(
      {.name = "softplus", .params = {{"beta", 1.0, 1e-30, big}, {"threshold", 20.0, 1e-30, big}},
       .formula = "log(1 + exp(beta * x)) / beta; x where beta * x > threshold",
       .derivative = "sigmoid(beta * x); 1 where beta * x > threshold",
       .kinks = {20.0}, .gain = nullptr, .gain_source = moment_gain},
      [](auto x, const ActivationParams& p) {
        using T = decltype(x);
        const T bx = T(p[0]) * x;
        return bx > T(p[1]) ? x : scalar::softplus(bx) / T(p[0]);
      },
      [](auto x, auto, const ActivationParams& p) {
        using T = decltype(x);
        const T bx = T(p[0]) * x;
        return bx > T(p[1]) ? T(1) : scalar::sigmoid(bx);
      }));

  table.push_back(make_entry(
      {.name = "hardsigmoid", .formula = "0 if x <= -3, 1 if x >= 3, else (x + 3)/6",
       .derivative = "1/6 if -3 < x < 3, else 0", .kinks = {-3.0, 3.0},
       .init = InitScheme::xavier, .gain = nullptr, .gain_source = moment_gain},
      [](auto x, const ActivationParams&) {
        using T = decltype(x);
        // (x + 3)/6, not x/6 + 1/2: near x = -3 the sum is exact and the one rounding is the
        // division's; x/6 + 1/2 cancels there (25% off at -2.9999998).
        return x <= T(-3) ? T(0) : (x >= T(3) ? T(1) : (x + T(3)) / T(6));
      },
      [](auto x, auto, const ActivationParams&) {
        using T = decltype(x);
        return (x > T(-3) && x < T(3)) ? T(1) / T(6) : T(0);
      }));

  table.push_back(make_entry(
      {.name = "hardswish", .formula = "0 if x <= -3, x if x >= 3, else x * (x + 3) / 6",
       .derivative = "0 if x < -3, (2x + 3)/6 if -3 <= x <= 3, else 1", .kinks = {-3.0, 3.0},
       .gain = nullptr, .gain_source = moment_gain},
      [](auto x, const ActivationParams&) {
        using T = decltype(x);
        return x <= T(-3) ? T(0) : (x >= T(3) ? x : x * (x + T(3)) / T(6));
      },
      [](auto x, auto, const ActivationParams&) {
        using T = decltype(x);
        // (2x + 3)/6 for x/3 + 1/2, for the same reason near its zero at x = -1.5.
        return x < T(-3) ? T(0) : (x <= T(3) ? (x + x + T(3)) / T(6) : T(1));
      }));

  table.push_back(make_entry(
      {.name = "softsign", .formula = "x / (1 + |x|)", .derivative = "1 / (1 + |x|)^2",
       .init = InitScheme::xavier, .gain = nullptr, .gain_source = moment_gain},
      [](auto x, const ActivationParams&) { using T = decltype(x); return x / (T(1) + std::fabs(x)); },
      [](auto x, auto, const ActivationParams&) {
        using T = decltype(x);
        const T d = T(1) + std::fabs(x);
        return T(1) / d / d;  // two divisions: d * d overflows for |x| > 1.8e19 in float
      }));

  table.push_back(make_entry(
      {.name = "rrelu", .params = {{"lower", 0.125, 0.0, 1.0}, {"upper", 1.0 / 3.0, 0.0, 1.0}},
       .formula = "x if x >= 0, else a * x; a ~ U(lower, upper) per element in training, (lower + upper)/2 in evaluation",
       .derivative = "1 if x > 0, else a", .kinks = {0.0}, .random_in_training = true,
       .gain = [](const ActivationParams& p) {
         const double a = (p[0] + p[1]) / 2;
         return std::sqrt(2.0 / (1.0 + a * a));
       },
       .gain_source = "leaky_relu's gain at the mean slope (PyTorch has no rrelu gain)",
       .validate = [](const ActivationParams& p) -> const char* {
         return p[0] <= p[1] ? nullptr : "lower must be <= upper";
       }},
      [](auto x, const ActivationParams& p) {
        using T = decltype(x);
        return x >= T(0) ? x : x * T((p[0] + p[1]) / 2);
      },
      [](auto x, auto, const ActivationParams& p) {
        using T = decltype(x);
        return x > T(0) ? T(1) : T((p[0] + p[1]) / 2);
      }));

  return table;
}

// The built-in entries, then the registered ones. Capacity is reserved once, so that registering
// never moves an entry: Activation and the layers hold pointers into the table.
std::vector<ActivationInfo>& table_storage() {
  static std::vector<ActivationInfo> table = [] {
    std::vector<ActivationInfo> t = build_table();
    t.reserve(t.size() + max_registered_activations);
    return t;
  }();
  return table;
}

void check_entry(const ActivationInfo& info) {
  const auto fail = [&](const std::string& why) {
    throw std::invalid_argument(
        fmt::format("register_activation '{}': {}", info.name ? info.name : "(no name)", why));
  };
  const std::string_view name = info.name ? info.name : "";
  if (name.empty()) fail("the entry needs a name");
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      fail("names are made of a-z, 0-9 and _ (they appear in SPECs and config files)");
  for (std::string_view reserved : {"linear", "batchnorm1d", "dropout"})
    if (name == reserved) fail("the name is a SPEC layer type");
  if (find_activation(name)) fail("an activation of this name exists");
  if (info.params.size() > max_activation_params)
    fail(fmt::format("{} parameters, at most {}", info.params.size(), max_activation_params));
  for (const ParamInfo& p : info.params) {
    if (!p.name || !*p.name) fail("a parameter has no name");
    if (p.choices.empty() && !(p.default_value >= p.min && p.default_value <= p.max))
      fail(fmt::format("{}={} is outside its range [{}, {}]", p.name, p.default_value, p.min, p.max));
    if (!p.choices.empty() && !(p.default_value >= 0 && p.default_value < double(p.choices.size()) &&
                                p.default_value == std::floor(p.default_value)))
      fail(fmt::format("{}: the default must index one of its {} choices", p.name, p.choices.size()));
  }
  if (!info.formula || !info.derivative) fail("the entry needs formula and derivative texts");
  if (info.learnable || info.random_in_training)
    fail("learnable and random parameters need their own layer code (only prelu and rrelu have it)");
  if (!info.reference_f32.forward || !info.reference_f32.backward || !info.reference_f64.forward ||
      !info.reference_f64.backward)
    fail("the entry has no kernels: build it with make_entry (actlab/activation_entry.hpp)");
}

}  // namespace

std::span<const ActivationInfo> activation_table() { return table_storage(); }

const ActivationInfo& register_activation(ActivationInfo info) {
  std::vector<ActivationInfo>& table = table_storage();
  check_entry(info);
  if (table.size() == table.capacity())
    throw std::invalid_argument(fmt::format("register_activation '{}': {} activations are registered already",
                                            info.name, max_registered_activations));
  if (!info.gain_source)
    info.gain_source = info.gain ? "given by the entry's gain function" : moment_gain;
  table.push_back(std::move(info));
  return table.back();
}

}  // namespace actlab
