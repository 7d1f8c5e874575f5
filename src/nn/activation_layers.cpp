// The parameter-free activation layer, PReLU and Dropout.
#include "actlab/layers.hpp"
#include "actlab/prelu.hpp"

#include <fmt/format.h>
#include <stdexcept>

namespace actlab {
namespace {

// The sizes a layer's forward and backward must agree on: y (dx) as large as x (dy), and a backward
// no larger than the last training forward whose slopes or mask it uses.
void check_same_size(const char* layer, const char* a, std::size_t na, const char* b, std::size_t nb) {
  if (na != nb) throw std::invalid_argument(fmt::format("{}: {} has {} values but {} has {}", layer, a, na, b, nb));
}

// A default-constructed Activation names no table entry.
const ActivationInfo& info_of(const Activation& act) {
  if (!act.info) throw std::invalid_argument("activation layer: no activation (use parse_activation)");
  return *act.info;
}

}  // namespace

ActivationLayer::ActivationLayer(Activation a) : act(a) {
  if (info_of(act).learnable)
    throw std::invalid_argument(fmt::format("'{}' has a learned parameter: use the PReLU layer", act.name()));
  validate_activation(act);
}

void ActivationLayer::forward(std::span<float> y, std::span<const float> x, std::size_t, Mode mode, Rng& rng) {
  const bool random = info_of(act).random_in_training && mode == Mode::train;
  if (random) check_same_size(act.info->name, "y", y.size(), "x", x.size());
  last_mode_ = mode;
  if (!random) {
    activation_forward(act, y, x);
    return;
  }
  // rrelu in training: slope ~ U(lower, upper) for each non-positive element, 1 elsewhere (PyTorch's
  // noise tensor), kept for backward.
  const auto lower = float(act.params[0]), upper = float(act.params[1]);
  slopes.resize(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    slopes[i] = x[i] >= 0.0f ? 1.0f : rng.uniform(lower, upper);
    y[i] = x[i] * slopes[i];
  }
}

void ActivationLayer::backward(std::span<float> dx, std::span<const float> dy, std::span<const float> x,
                               std::span<const float> y, std::size_t) {
  info_of(act);
  if (dx.empty()) return;
  if (!(act.info->random_in_training && last_mode_ == Mode::train)) {
    activation_backward(act, dx, dy, x, y);
    return;
  }
  check_same_size(act.info->name, "dx", dx.size(), "dy", dy.size());
  check_same_size(act.info->name, "dy", dy.size(), "the last training forward", slopes.size());
  for (std::size_t i = 0; i < dy.size(); ++i) dx[i] = dy[i] * slopes[i];
}

PReLU::PReLU(std::size_t num_parameters_, float init)
    : num_parameters(num_parameters_), weight(num_parameters_, init), dweight(num_parameters_, 0.0f) {
  if (num_parameters == 0) throw std::invalid_argument("prelu: num_parameters must be at least 1");
}

// Channels of a batch: its row width, or with no rows the layer's own (any width fits one slope).
static std::size_t channels_of(std::size_t values, std::size_t rows, std::size_t num_parameters) {
  return rows ? values / rows : num_parameters;
}

void PReLU::forward(std::span<float> y, std::span<const float> x, std::size_t rows, Mode, Rng&) {
  prelu_forward(y, x, weight, channels_of(x.size(), rows, num_parameters));
}

void PReLU::backward(std::span<float> dx, std::span<const float> dy, std::span<const float> x,
                     std::span<const float>, std::size_t rows) {
  // As the first layer nobody wants dx, but the kernel computes it with the slope gradient.
  if (dx.empty()) {
    unused_dx_.resize(dy.size());
    dx = unused_dx_;
  }
  prelu_backward(dx, dweight, dy, x, weight, channels_of(x.size(), rows, num_parameters));
}

void PReLU::parameters(std::vector<ParamRef>& out) { out.push_back({"weight", weight, dweight, false}); }

Dropout::Dropout(float p_) : p(p_) {
  if (!(p >= 0.0f && p < 1.0f)) throw std::invalid_argument(fmt::format("dropout: p={} is not in [0, 1)", p));
}

void Dropout::forward(std::span<float> y, std::span<const float> x, std::size_t, Mode mode, Rng& rng) {
  check_same_size("dropout", "y", y.size(), "x", x.size());
  last_mode_ = mode;
  if (mode == Mode::eval || p == 0.0f) {
    if (y.data() != x.data()) std::copy(x.begin(), x.end(), y.begin());
    return;
  }
  const float keep_scale = 1.0f / (1.0f - p);
  mask.resize(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    mask[i] = rng.uniform() < p ? 0.0f : keep_scale;
    y[i] = x[i] * mask[i];
  }
}

void Dropout::backward(std::span<float> dx, std::span<const float> dy, std::span<const float>,
                       std::span<const float>, std::size_t) {
  if (dx.empty()) return;
  check_same_size("dropout", "dx", dx.size(), "dy", dy.size());
  if (last_mode_ == Mode::eval || p == 0.0f) {
    std::copy(dy.begin(), dy.end(), dx.begin());
    return;
  }
  check_same_size("dropout", "dy", dy.size(), "the last training forward", mask.size());
  for (std::size_t i = 0; i < dy.size(); ++i) dx[i] = dy[i] * mask[i];
}

std::string layer_type(const Layer& layer) {
  struct Namer {
    std::string operator()(const Linear&) const { return "linear"; }
    std::string operator()(const BatchNorm1d&) const { return "batchnorm1d"; }
    std::string operator()(const ActivationLayer& a) const { return std::string(a.act.name()); }
    std::string operator()(const PReLU&) const { return "prelu"; }
    std::string operator()(const Dropout&) const { return "dropout"; }
  };
  return std::visit(Namer{}, layer);
}

}  // namespace actlab
