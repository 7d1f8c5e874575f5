#include "actlab/model.hpp"

#include <fmt/format.h>
#include <functional>
#include <stdexcept>
#include <utility>

namespace actlab {
namespace {

// Validates one layer against the width flowing into it; returns its output width.
std::size_t chain_width(const Layer& layer, std::size_t index, std::size_t width) {
  // (Before the lambda below, which names the layer by its activation.)
  if (const auto* act = std::get_if<ActivationLayer>(&layer)) {
    if (!act->act.info)
      throw std::invalid_argument(fmt::format("layer {}: an activation layer without an activation", index));
    try {
      validate_activation(act->act);  // params are public: they may have been set past their ranges
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(fmt::format("layer {}: {}", index, e.what()));
    }
  }
  auto fail = [&](const std::string& what) {
    throw std::invalid_argument(fmt::format("layer {} ({}): {}", index, layer_type(layer), what));
  };
  if (const auto* lin = std::get_if<Linear>(&layer)) {
    if (lin->in_features != width)
      fail(fmt::format("in_features={} but its input has {} features", lin->in_features, width));
    if (lin->out_features == 0) fail("out_features must be at least 1");
  } else if (const auto* bn = std::get_if<BatchNorm1d>(&layer)) {
    if (bn->num_features != width)
      fail(fmt::format("num_features={} but its input has {} features", bn->num_features, width));
  } else if (const auto* pr = std::get_if<PReLU>(&layer)) {
    if (pr->num_parameters != 1 && pr->num_parameters != width)
      fail(fmt::format("num_parameters={} but its input has {} features (use 1 or {})", pr->num_parameters,
                       width, width));
  }
  return std::visit([&](const auto& l) { return l.output_width(width); }, layer);
}

}  // namespace

Sequential::Sequential(std::size_t in_features, std::vector<Layer> layers) : layers_(std::move(layers)) {
  if (in_features == 0) throw std::invalid_argument("model: in_features must be at least 1");
  if (layers_.empty()) throw std::invalid_argument("model: no layers");
  widths_ = {in_features};
  for (std::size_t i = 0; i < layers_.size(); ++i) widths_.push_back(chain_width(layers_[i], i, widths_.back()));
  outputs_.resize(layers_.size());
}

// Moves swap with a default-constructed model, so the source is left empty (and a self-move is a
// no-op): the member list is written once, in swap().
Sequential::Sequential(Sequential&& other) noexcept : Sequential() { swap(other); }

Sequential& Sequential::operator=(Sequential&& other) noexcept {
  Sequential(std::move(other)).swap(*this);
  return *this;
}

void Sequential::swap(Sequential& other) noexcept {
  using std::swap;
  swap(layers_, other.layers_);
  swap(widths_, other.widths_);
  swap(outputs_, other.outputs_);
  swap(grad_in_, other.grad_in_);
  swap(grad_out_, other.grad_out_);
  swap(input_, other.input_);
  swap(rows_, other.rows_);
  swap(forward_done_, other.forward_done_);
  swap(observer_, other.observer_);
}

std::span<const float> Sequential::forward(std::span<const float> x, std::size_t rows, Mode mode, Rng& rng) {
  forward_done_ = false;  // until every layer has run: a forward that throws leaves no usable state
  if (layers_.empty()) throw std::invalid_argument("model: no layers");
  if (x.size() != rows * in_features())
    throw std::invalid_argument(fmt::format("model: input has {} values, expected {} rows x {} features",
                                            x.size(), rows, in_features()));
  // The input must outlive the forward untouched (backward reads it): one of this model's own
  // output buffers would be overwritten on the way.
  const std::less<const float*> before;
  for (const AlignedFloats& out : outputs_)
    if (!x.empty() && !out.empty() && before(x.data(), out.data() + out.size()) &&
        before(out.data(), x.data() + x.size()))
      throw std::invalid_argument("model: the input is one of this model's own outputs (pass a copy)");
  input_ = x;
  rows_ = rows;
  std::span<const float> in = x;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    auto& out = outputs_[i];
    if (out.size() < rows * widths_[i + 1]) out.resize(rows * widths_[i + 1]);
    std::span<float> y(out.data(), rows * widths_[i + 1]);
    std::visit([&](auto& l) { l.forward(y, in, rows, mode, rng); }, layers_[i]);
    in = y;
  }
  forward_done_ = true;
  return in;
}

void Sequential::backward(std::span<const float> dout) {
  if (!forward_done_) throw std::invalid_argument("model: backward needs a forward that ran to its end first");
  const std::size_t rows = rows_;
  if (dout.size() != rows * out_features())
    throw std::invalid_argument(fmt::format("model: output gradient has {} values, expected {}", dout.size(),
                                            rows * out_features()));
  std::size_t max_width = 0;
  for (std::size_t w : widths_) max_width = std::max(max_width, w);
  if (grad_in_.size() < rows * max_width) {
    grad_in_.resize(rows * max_width);
    grad_out_.resize(rows * max_width);
  }
  std::span<const float> dy = dout;
  for (std::size_t i = layers_.size(); i-- > 0;) {
    const std::span<const float> x = layer_input(i);
    const std::span<const float> y = layer_output(i);
    if (observer_) observer_(i, dy);
    std::span<float> dx = i == 0 ? std::span<float>{} : std::span<float>(grad_in_.data(), rows * widths_[i]);
    std::visit([&](auto& l) { l.backward(dx, dy, x, y, rows); }, layers_[i]);
    std::swap(grad_in_, grad_out_);  // this layer's dx is the next one's dy
    dy = std::span<const float>(grad_out_.data(), dx.size());
  }
}

std::vector<ParamRef> Sequential::parameters() {
  std::vector<ParamRef> all;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const std::size_t first = all.size();
    std::visit([&](auto& l) { l.parameters(all); }, layers_[i]);
    for (std::size_t p = first; p < all.size(); ++p) all[p].name = fmt::format("{}.{}", i, all[p].name);
  }
  return all;
}

std::span<const float> Sequential::layer_output(std::size_t i) const {
  return {outputs_.at(i).data(), rows_ * widths_.at(i + 1)};
}

}  // namespace actlab
