// BatchNorm1d layer: owns gamma/beta and the running statistics, calls the batchnorm kernels.
#include "actlab/batchnorm.hpp"
#include "actlab/layers.hpp"

#include <stdexcept>

namespace actlab {

BatchNorm1d::BatchNorm1d(std::size_t features, float eps_, float momentum_)
    : num_features(features), eps(eps_), momentum(momentum_), weight(features, 1.0f), bias(features, 0.0f),
      running_mean(features, 0.0f), running_var(features, 1.0f), dweight(features, 0.0f),
      dbias(features, 0.0f), batch_mean(features, 0.0f), batch_invstd(features, 0.0f) {}

void BatchNorm1d::forward(std::span<float> y, std::span<const float> x, std::size_t rows, Mode mode, Rng&) {
  last_mode_ = mode;
  const BatchNormShape shape{rows, num_features};
  if (mode == Mode::eval) {
    batchnorm_forward_eval(y, x, weight, bias, running_mean, running_var, shape, eps);
    return;
  }
  batchnorm_forward_train(y, batch_mean, batch_invstd, running_mean, running_var, x, weight, bias, shape, eps,
                          momentum);
  ++num_batches_tracked;
}

void BatchNorm1d::backward(std::span<float> dx, std::span<const float> dy, std::span<const float> x,
                           std::span<const float>, std::size_t rows) {
  // The evaluation forward is an affine map of x; training only ever differentiates the batch form.
  if (last_mode_ != Mode::train) throw std::logic_error("BatchNorm1d: backward after an evaluation forward");
  batchnorm_backward(dx, dweight, dbias, dy, x, weight, batch_mean,
                     batch_invstd, {rows, num_features});
}

void BatchNorm1d::parameters(std::vector<ParamRef>& out) {
  out.push_back({"weight", weight, dweight, false});
  out.push_back({"bias", bias, dbias, false});
}

}  // namespace actlab
