// A Sequential model: layers applied in order to row-major [rows, features] batches.
#pragma once

#include "actlab/aligned_vector.hpp"
#include "actlab/layers.hpp"

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

namespace actlab {

class Sequential {
 public:
  Sequential() = default;
  // A moved-from model is left empty, as a default-constructed one (no layers, 0 features).
  Sequential(Sequential&& other) noexcept;
  Sequential& operator=(Sequential&& other) noexcept;
  Sequential(const Sequential&) = default;
  Sequential& operator=(const Sequential&) = default;
  void swap(Sequential& other) noexcept;
  // Checks that the widths chain: each Linear's in_features, BatchNorm1d's num_features and PReLU's
  // num_parameters (1 or the width) agree with the width flowing into it, and that every activation
  // layer has a valid activation (validate_activation). Throws std::invalid_argument.
  Sequential(std::size_t in_features, std::vector<Layer> layers);

  std::size_t in_features() const { return widths_.front(); }
  std::size_t out_features() const { return widths_.back(); }
  // widths()[i] is the input width of layer i; widths().back() the output width.
  const std::vector<std::size_t>& widths() const { return widths_; }
  std::vector<Layer>& layers() { return layers_; }
  const std::vector<Layer>& layers() const { return layers_; }

  // Runs every layer on x [rows, in_features] and returns the last output [rows, out_features],
  // valid until the next forward. Buffers grow to the largest batch seen and are then reused, so
  // a training loop allocates nothing. x must stay alive and unchanged until backward, so it may not
  // be one of this model's own outputs (std::invalid_argument; pass a copy).
  std::span<const float> forward(std::span<const float> x, std::size_t rows, Mode mode, Rng& rng);

  // Backpropagates dout [rows, out_features] through the last forward (which must have been in
  // training mode) and assigns every parameter gradient. The input gradient is not computed.
  // Throws std::invalid_argument when the last forward failed or there was none.
  void backward(std::span<const float> dout);

  // Every trainable tensor, named as in PyTorch's state_dict ("0.weight", "1.bias", ...).
  std::vector<ParamRef> parameters();

  // The output of layer i from the last forward [rows, widths()[i + 1]] (for diagnostics).
  std::span<const float> layer_output(std::size_t i) const;
  // The input of layer i from the last forward: the model's input for layer 0.
  std::span<const float> layer_input(std::size_t i) const { return i == 0 ? input_ : layer_output(i - 1); }
  std::size_t last_rows() const { return rows_; }

  // Called during backward with the gradient arriving at each layer's output, last layer first
  // (diagnostics); an empty function removes it.
  using BackwardObserver = std::function<void(std::size_t layer, std::span<const float> dy)>;
  void set_backward_observer(BackwardObserver observer) { observer_ = std::move(observer); }

 private:
  std::vector<Layer> layers_;
  std::vector<std::size_t> widths_{0};
  // Each layer's output and the gradients passed down, on cache-line boundaries: every kernel then
  // sees its inputs and output at the same offset from a line.
  std::vector<AlignedFloats> outputs_;
  AlignedFloats grad_in_, grad_out_;
  std::span<const float> input_;
  std::size_t rows_ = 0;
  bool forward_done_ = false;  // the last forward ran to its end: backward may use its buffers
  BackwardObserver observer_;
};

}  // namespace actlab
