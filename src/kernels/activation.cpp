// Lookup, parsing and the one-call API over the activation table.
#include "actlab/activation.hpp"

#include "actlab/kernels.hpp"
#include "kernels/parallel_policy.hpp"
#include "kernels/parse_number.hpp"
#include "kernels/vector_activations.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fmt/format.h>
#include <functional>
#include <omp.h>
#include <stdexcept>

namespace actlab {

const ActivationInfo* find_activation(std::string_view name) {
  for (const ActivationInfo& info : activation_table())
    if (name == info.name) return &info;
  return nullptr;
}

namespace {

std::string known_names() {
  std::string names;
  for (const ActivationInfo& info : activation_table()) {
    if (!names.empty()) names += ", ";
    names += info.name;
  }
  return names;
}

std::size_t param_index(const ActivationInfo& info, std::string_view key) {
  for (std::size_t i = 0; i < info.params.size(); ++i)
    if (key == info.params[i].name) return i;
  std::string keys;
  for (const ParamInfo& p : info.params) keys += keys.empty() ? p.name : fmt::format(", {}", p.name);
  throw std::invalid_argument(fmt::format("activation '{}' has no parameter '{}' (it has: {})", info.name,
                                          key, keys.empty() ? "none" : keys));
}

bool is_choice_index(const ParamInfo& p, double v) {
  return v >= 0 && v < double(p.choices.size()) && v == std::floor(v);
}

// A choice by its word; any other value (params are public, so it may be anything) as a number.
std::string format_value(const ParamInfo& p, double v) {
  if (!p.choices.empty() && is_choice_index(p, v)) return std::string(p.choices[static_cast<std::size_t>(v)]);
  return fmt::format("{}", v);
}

}  // namespace

Activation make_activation(std::string_view name) {
  const ActivationInfo* info = find_activation(name);
  if (!info)
    throw std::invalid_argument(fmt::format("unknown activation '{}' (known: {})", name, known_names()));
  Activation act{info, {}};
  for (std::size_t i = 0; i < info->params.size(); ++i) act.params[i] = info->params[i].default_value;
  return act;
}

void set_activation_param(Activation& act, std::string_view key, std::string_view value) {
  const std::size_t i = param_index(*act.info, key);
  const ParamInfo& p = act.info->params[i];
  if (!p.choices.empty()) {
    for (std::size_t c = 0; c < p.choices.size(); ++c)
      if (value == p.choices[c] || value == std::to_string(c)) {
        act.params[i] = double(c);
        return;
      }
    std::string words;
    for (auto c : p.choices) words += words.empty() ? std::string(c) : fmt::format(", {}", c);
    throw std::invalid_argument(
        fmt::format("{}: {}='{}' is not one of: {}", act.info->name, key, value, words));
  }
  const double v = parse_finite_double(value, fmt::format("{}: {}", act.info->name, key));
  if (v < p.min || v > p.max)
    throw std::invalid_argument(fmt::format("{}: {}={} is out of range [{}, {}]", act.info->name, key,
                                            value, p.min, p.max));
  act.params[i] = v;
}

void validate_activation(const Activation& act) {
  if (!act.info) throw std::invalid_argument("activation without a table entry (default-constructed?)");
  // Each value as set_activation_param would have checked it: params can also be written directly.
  for (std::size_t i = 0; i < act.info->params.size(); ++i) {
    const ParamInfo& p = act.info->params[i];
    const double v = act.params[i];
    const bool ok = p.choices.empty() ? (v >= p.min && v <= p.max) : is_choice_index(p, v);  // NaN: neither
    if (!ok)
      throw std::invalid_argument(fmt::format("{}: {}={} is {}", act.info->name, p.name, v,
                                              p.choices.empty() ? fmt::format("out of range [{}, {}]", p.min, p.max)
                                                                : "not the index of a choice"));
  }
  if (!act.info->validate) return;
  if (const char* problem = act.info->validate(act.params)) {
    std::string values;
    for (std::size_t i = 0; i < act.info->params.size(); ++i)
      values += fmt::format("{}{}={}", values.empty() ? "" : ", ", act.info->params[i].name,
                            format_value(act.info->params[i], act.params[i]));
    throw std::invalid_argument(fmt::format("{}: {} (got {})", act.info->name, problem, values));
  }
}

Activation parse_activation(std::string_view spec) {
  const std::size_t colon = spec.find(':');
  Activation act = make_activation(spec.substr(0, colon));
  if (colon == std::string_view::npos) return act;
  std::string_view rest = spec.substr(colon + 1);
  if (rest.empty()) throw std::invalid_argument(fmt::format("'{}': nothing after ':'", spec));
  std::vector<std::string_view> seen;
  while (true) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0)
      throw std::invalid_argument(fmt::format("'{}': expected key=value, got '{}'", spec, item));
    const std::string_view key = item.substr(0, eq);
    if (std::find(seen.begin(), seen.end(), key) != seen.end())
      throw std::invalid_argument(fmt::format("'{}': '{}' is given twice", spec, key));
    seen.push_back(key);
    set_activation_param(act, key, item.substr(eq + 1));
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  validate_activation(act);
  return act;
}

double Activation::param(std::string_view param_name) const { return params[param_index(*info, param_name)]; }

std::string Activation::to_string() const {
  if (!info) return "(no activation)";
  std::string out = info->name;
  char sep = ':';
  for (std::size_t i = 0; i < info->params.size(); ++i) {
    const ParamInfo& p = info->params[i];
    if (params[i] == p.default_value) continue;
    out += fmt::format("{}{}={}", sep, p.name, format_value(p, params[i]));
    sep = ',';
  }
  return out;
}

namespace {

// Vector dispatch. Above a size threshold the array is split into about 8 pieces per OpenMP thread,
// handed out dynamically (so that a thread that the OS runs late does not hold the others up); each
// element's result depends only on its inputs, so the output is bitwise the same for any thread
// count and any assignment of pieces. The parameter gradient sums partials of fixed 16K-element
// pieces in piece order: also independent of the thread count.
constexpr std::size_t piece_size = 16384;
// Below these sizes one thread is faster than two (a parallel region costs ~0.5 us here). Measured on
// the 2-core AVX3 development machine, 2 threads against 1: relu 1.06x at 16K, 1.26x at 32K alone;
// sigmoid 1.23x at 8K; exact gelu 1.27x at 4K, 1.56x at 8K. Inside a training step the cheap ones
// lose at 32K instead: the pieces a second core wrote must come back for the next layer, and the
// seed recipe's step spent 7 us more in its activations and BatchNorms (5 alternated runs).
constexpr std::size_t parallel_threshold_cheap = 65536;
constexpr std::size_t parallel_threshold_transcendental = 8192;
// From this size the outputs are stored with non-temporal hints: they cannot stay in the last-level
// cache anyway, and streaming saves reading them in first (relu at 16M floats: 0.28 instead of
// 0.39 ns per element forward, 0.41 instead of 0.57 backward).
constexpr std::size_t stream_threshold = std::size_t(4) << 20;

// The vector kernels of this entry in the current mode; nullptr: run the reference.
const VectorKernels* vector_kernels_for(const ActivationInfo& info) {
  if (kernel_mode() != KernelMode::vector) return nullptr;
  // Built-in entries are looked up once; entries registered later have no vector body.
  static const std::vector<const VectorKernels*> cache = [] {
    std::vector<const VectorKernels*> c;
    for (const ActivationInfo& entry : activation_table()) c.push_back(find_vector_kernels(entry));
    return c;
  }();
  const ActivationInfo* first = activation_table().data();
  if (!std::less<>{}(&info, first) && std::less<>{}(&info, first + cache.size())) return cache[&info - first];
  return find_vector_kernels(info);
}

// Runs body(begin, count) over [0, n): whole, or from `threshold` elements in pieces shared among
// the threads (multiples of 16 floats, 64 bytes, so that they start as aligned as the array).
template <class Body>
void for_pieces(std::size_t n, std::size_t threshold, Body&& body) {
  if (!worth_parallel(double(n), double(threshold))) {
    body(std::size_t(0), n);
    return;
  }
  const auto threads = std::size_t(omp_get_max_threads());
  const std::size_t piece = std::max<std::size_t>(2048, ((n + 8 * threads - 1) / (8 * threads) + 15) / 16 * 16);
  const auto pieces = std::int64_t((n + piece - 1) / piece);
#pragma omp parallel for schedule(dynamic)
  for (std::int64_t p = 0; p < pieces; ++p) {
    const std::size_t begin = std::size_t(p) * piece;
    body(begin, std::min(piece, n - begin));
  }
}

std::size_t parallel_threshold(const VectorKernels& k) {
  return k.transcendental ? parallel_threshold_transcendental : parallel_threshold_cheap;
}

void check_sizes(const char* what, std::size_t n, std::size_t m) {
  if (n != m) throw std::invalid_argument(fmt::format("{}: arrays of different lengths ({} and {})", what, n, m));
}

// A default-constructed Activation names no table entry.
void check_known(const char* what, const Activation& act) {
  if (!act.info) throw std::invalid_argument(fmt::format("{}: no activation (use parse_activation)", what));
}

}  // namespace

void activation_forward(const Activation& act, std::span<float> y, std::span<const float> x) {
  check_sizes("activation_forward", y.size(), x.size());
  check_known("activation_forward", act);
  const VectorKernels* k = vector_kernels_for(*act.info);
  if (!k) return act.info->reference_f32.forward(act.params, y, x);
  const bool stream = x.size() >= stream_threshold;
  for_pieces(x.size(), parallel_threshold(*k), [&](std::size_t begin, std::size_t count) {
    vector_forward(*k, act.params, y.data() + begin, x.data() + begin, count, stream);
  });
}

void activation_backward(const Activation& act, std::span<float> dx, std::span<const float> dy,
                         std::span<const float> x, std::span<const float> y) {
  check_sizes("activation_backward", dx.size(), dy.size());
  check_sizes("activation_backward", dx.size(), x.size());
  check_sizes("activation_backward", dx.size(), y.size());
  check_known("activation_backward", act);
  const VectorKernels* k = vector_kernels_for(*act.info);
  if (!k) return act.info->reference_f32.backward(act.params, dx, dy, x, y);
  const bool stream = x.size() >= stream_threshold;
  for_pieces(x.size(), parallel_threshold(*k), [&](std::size_t begin, std::size_t count) {
    vector_backward(*k, act.params, dx.data() + begin, dy.data() + begin, x.data() + begin, y.data() + begin,
                    count, stream);
  });
}

double activation_param_grad(const Activation& act, std::span<const float> dy, std::span<const float> x) {
  if (!act.info->reference_f32.param_grad)
    throw std::invalid_argument(fmt::format("activation '{}' has no learnable parameter", act.info->name));
  check_sizes("activation_param_grad", dy.size(), x.size());
  const VectorKernels* k = vector_kernels_for(*act.info);
  if (!k || !k->has_param_grad) return act.info->reference_f32.param_grad(act.params, dy, x);
  // Partials of fixed-size pieces (16K elements, larger only beyond 16M elements so that the
  // partials fit on the stack), summed in piece order.
  constexpr std::size_t max_pieces = 1024;
  const std::size_t n = x.size();
  const std::size_t piece = piece_size * std::max<std::size_t>(1, (n + piece_size * max_pieces - 1) / (piece_size * max_pieces));
  const auto pieces = std::int64_t((n + piece - 1) / piece);
  double partial[max_pieces];
  const auto run = [&](std::int64_t c) {
    const std::size_t begin = std::size_t(c) * piece;
    partial[c] = vector_param_grad(*k, act.params, dy.data() + begin, x.data() + begin, std::min(piece, n - begin));
  };
  if (!worth_parallel(double(n), parallel_threshold_cheap)) {
    for (std::int64_t c = 0; c < pieces; ++c) run(c);
  } else {
#pragma omp parallel for schedule(dynamic)
    for (std::int64_t c = 0; c < pieces; ++c) run(c);
  }
  double sum = 0.0;
  for (std::int64_t c = 0; c < pieces; ++c) sum += partial[c];
  return sum;
}

double activation_gain(const Activation& act) {
  if (act.info->gain) return act.info->gain(act.params);
  // 1/sqrt(E[f(x)^2]) for x ~ N(0,1): trapezoid rule on [-10, 10], where the normal density's
  // tail beyond is below 1e-22.
  constexpr int steps = 4000;
  constexpr double lo = -10.0, hi = 10.0, h = (hi - lo) / steps;
  std::vector<double> x(steps + 1), y(steps + 1);
  for (int i = 0; i <= steps; ++i) x[i] = lo + h * i;
  act.info->reference_f64.forward(act.params, y, x);
  double moment = 0.0;
  for (int i = 0; i <= steps; ++i) {
    const double w = (i == 0 || i == steps) ? 0.5 : 1.0;
    moment += w * y[i] * y[i] * std::exp(-0.5 * x[i] * x[i]);
  }
  moment *= h / std::sqrt(2.0 * M_PI);
  return 1.0 / std::sqrt(moment);
}

}  // namespace actlab
