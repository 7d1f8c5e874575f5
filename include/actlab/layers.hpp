// Layers: plain structs that own their parameters and gradients and call the kernels.
//
// Every layer works on row-major [rows, features] batches and has the same four members:
//   output_width(in)                 width of its output for an input of width `in`
//   forward(y, x, rows, mode, rng)   assigns y; keeps what backward needs inside the layer
//   backward(dx, dy, x, y, rows)     assigns dx (skipped when dx is empty) and ASSIGNS the
//                                    parameter gradients (no accumulation across calls)
//   parameters(out)                  appends references to its parameters and gradients
// x and y passed to backward are the same arrays that forward saw and wrote.
// Names of parameters follow PyTorch's state_dict (weight, bias, running_mean, ...).
#pragma once

#include "actlab/activation.hpp"
#include "actlab/random.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace actlab {

enum class Mode { train, eval };

// A view of one trainable tensor and its gradient, for optimizers.
struct ParamRef {
  std::string name;            // e.g. "weight"; the model prefixes the layer index
  std::span<float> value;
  std::span<float> grad;
  bool weight_decay = true;    // off for PReLU slopes and BatchNorm gamma/beta
};

// y = x W^T + b, W [out_features, in_features] as in torch.nn.Linear.
struct Linear {
  std::size_t in_features = 0, out_features = 0;
  std::vector<float> weight, bias, dweight, dbias;

  Linear() = default;
  Linear(std::size_t in, std::size_t out);
  std::size_t output_width(std::size_t) const { return out_features; }
  // y [rows, out_features] must not overlap x [rows, in_features] (the bias is written first).
  // Wrong sizes or an overlap throw std::invalid_argument.
  void forward(std::span<float> y, std::span<const float> x, std::size_t rows, Mode, Rng&);
  void backward(std::span<float> dx, std::span<const float> dy, std::span<const float> x,
                std::span<const float> y, std::size_t rows);
  void parameters(std::vector<ParamRef>& out);
};

// torch.nn.BatchNorm1d over [rows, num_features]: batch statistics in training (a batch of one is an
// error), running statistics in evaluation. See batchnorm.hpp for the conventions.
struct BatchNorm1d {
  std::size_t num_features = 0;
  float eps = 1e-5f, momentum = 0.1f;
  std::vector<float> weight, bias, running_mean, running_var;  // gamma = 1, beta = 0, mean 0, var 1
  std::int64_t num_batches_tracked = 0;
  std::vector<float> dweight, dbias;
  std::vector<float> batch_mean, batch_invstd;  // written by the training forward for backward

  BatchNorm1d() = default;
  BatchNorm1d(std::size_t features, float eps_ = 1e-5f, float momentum_ = 0.1f);
  std::size_t output_width(std::size_t in) const { return in; }
  void forward(std::span<float> y, std::span<const float> x, std::size_t rows, Mode mode, Rng&);
  void backward(std::span<float> dx, std::span<const float> dy, std::span<const float> x,
                std::span<const float> y, std::size_t rows);
  void parameters(std::vector<ParamRef>& out);

 private:
  Mode last_mode_ = Mode::eval;
};

// A parameter-free activation from the table (every entry but prelu, which is the PReLU layer).
// rrelu draws one slope per element in training and keeps them for backward.
struct ActivationLayer {
  Activation act;
  std::vector<float> slopes;  // rrelu's per-element slopes from the last training forward

  ActivationLayer() = default;
  explicit ActivationLayer(Activation a);
  std::size_t output_width(std::size_t in) const { return in; }
  void forward(std::span<float> y, std::span<const float> x, std::size_t rows, Mode mode, Rng& rng);
  void backward(std::span<float> dx, std::span<const float> dy, std::span<const float> x,
                std::span<const float> y, std::size_t rows);
  void parameters(std::vector<ParamRef>&) {}

 private:
  Mode last_mode_ = Mode::eval;
};

// torch.nn.PReLU(num_parameters, init): one learned slope shared by all features, or one per feature.
struct PReLU {
  std::size_t num_parameters = 1;
  std::vector<float> weight, dweight;

  PReLU() = default;
  explicit PReLU(std::size_t num_parameters_, float init = 0.25f);
  std::size_t output_width(std::size_t in) const { return in; }
  void forward(std::span<float> y, std::span<const float> x, std::size_t rows, Mode, Rng&);
  void backward(std::span<float> dx, std::span<const float> dy, std::span<const float> x,
                std::span<const float> y, std::size_t rows);
  void parameters(std::vector<ParamRef>& out);

 private:
  std::vector<float> unused_dx_;  // only when PReLU is the first layer
};

// torch.nn.Dropout(p): in training zeroes each element with probability p and scales the rest by
// 1/(1-p); the identity in evaluation.
struct Dropout {
  float p = 0.5f;
  std::vector<float> mask;  // 0 or 1/(1-p) per element of the last training forward

  Dropout() = default;
  explicit Dropout(float p_);
  std::size_t output_width(std::size_t in) const { return in; }
  void forward(std::span<float> y, std::span<const float> x, std::size_t rows, Mode mode, Rng& rng);
  void backward(std::span<float> dx, std::span<const float> dy, std::span<const float> x,
                std::span<const float> y, std::size_t rows);
  void parameters(std::vector<ParamRef>&) {}

 private:
  Mode last_mode_ = Mode::eval;
};

using Layer = std::variant<Linear, BatchNorm1d, ActivationLayer, PReLU, Dropout>;

// The layer's type name as in the model config: "linear", "batchnorm1d", "prelu", "dropout", or the
// activation's table name.
std::string layer_type(const Layer& layer);

}  // namespace actlab
