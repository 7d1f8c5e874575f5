// Finite-difference checks of the layers that have no kernel-level test (Linear, Dropout) and of a
// whole network: the analytic gradients from Sequential::backward against central differences of
// a scalar loss. The layers run in float, so the step is 1e-3 and the tolerance is set for float
// rounding (~1e-7 relative in the loss, divided by the step).
#include "actlab/init.hpp"
#include "actlab/model_io.hpp"

#include <cmath>
#include <gtest/gtest.h>

namespace actlab {
namespace {

// loss = sum_i out_i * w_i with fixed weights w, accumulated in double.
double weighted_sum(std::span<const float> out, const std::vector<float>& w) {
  double s = 0.0;
  for (std::size_t i = 0; i < out.size(); ++i) s += double(out[i]) * w[i];
  return s;
}

void check_network(const std::string& spec, std::uint64_t seed) {
  constexpr std::size_t rows = 6, features = 5;
  Sequential model = parse_model_spec(spec, features);
  Rng rng(seed);
  initialize_parameters(model, rng);
  std::vector<float> x(rows * features), w(rows * model.out_features());
  for (float& v : x) v = float(rng.normal());
  for (float& v : w) v = float(rng.normal());

  // Every forward re-seeds the layer generator, so dropout masks are the same in each evaluation.
  const auto loss_at = [&] {
    Rng layer_rng(99);
    return weighted_sum(model.forward(x, rows, Mode::train, layer_rng), w);
  };
  loss_at();
  model.backward(w);  // d(loss)/d(out) = w
  std::vector<ParamRef> params = model.parameters();
  std::vector<std::vector<float>> analytic;
  for (const ParamRef& p : params) analytic.emplace_back(p.grad.begin(), p.grad.end());

  constexpr float h = 1e-3f;
  for (std::size_t k = 0; k < params.size(); ++k) {
    for (std::size_t i = 0; i < params[k].value.size(); ++i) {
      float& v = params[k].value[i];
      const float saved = v;
      v = saved + h;
      const double up = loss_at();
      v = saved - h;
      const double down = loss_at();
      v = saved;
      const double numeric = (up - down) / (2.0 * double(h));
      const double a = analytic[k][i];
      EXPECT_NEAR(a, numeric, 2e-3 + 2e-2 * std::fabs(numeric))
          << spec << ": " << params[k].name << "[" << i << "]";
    }
  }
}

TEST(NnGradcheck, LinearOnly) { check_network("linear(4),linear(3)", 1); }
TEST(NnGradcheck, SmoothNetworkWithBatchNorm) {
  check_network("linear(7),batchnorm1d,tanh,linear(6),batchnorm1d,softplus,linear(3)", 2);
}
TEST(NnGradcheck, PerChannelPReLUAndGelu) {
  check_network("linear(6),prelu(num_parameters=6,init=0.3),linear(4),gelu,linear(3),elu", 3);
}
TEST(NnGradcheck, DropoutWithFixedMask) { check_network("linear(8),silu,dropout(p=0.3),linear(3)", 4); }
TEST(NnGradcheck, RreluWithFixedSlopes) { check_network("linear(8),rrelu,linear(3)", 5); }

TEST(NnLayers, DropoutIsIdentityInEvaluationAndScalesInTraining) {
  Dropout d(0.25f);
  std::vector<float> x(4000, 1.0f), y(4000);
  Rng rng(1);
  d.forward(y, x, 1000, Mode::eval, rng);
  EXPECT_EQ(y, x);
  d.forward(y, x, 1000, Mode::train, rng);
  std::size_t zeros = 0;
  for (float v : y) {
    EXPECT_TRUE(v == 0.0f || std::fabs(v - 1.0f / 0.75f) < 1e-6f);
    zeros += v == 0.0f;
  }
  EXPECT_NEAR(double(zeros) / 4000.0, 0.25, 0.03);
}

TEST(NnLayers, BatchNormTrainingOnOneRowIsAnError) {
  Sequential model = parse_model_spec("linear(3),batchnorm1d", 2);
  std::vector<float> x{1.0f, 2.0f};
  Rng rng(0);
  EXPECT_THROW(model.forward(x, 1, Mode::train, rng), std::invalid_argument);
  EXPECT_NO_THROW(model.forward(x, 1, Mode::eval, rng));
}

// An empty batch runs through every layer that allows it (BatchNorm in training needs two rows):
// nothing out, and gradients that are sums over nothing.
TEST(NnLayers, NoRowsGiveNoOutputsAndZeroGradients) {
  Sequential model = parse_model_spec("linear(6),prelu(num_parameters=6),linear(4),prelu,linear(3)", 5);
  Rng rng(2);
  initialize_parameters(model, rng);
  for (ParamRef& p : model.parameters()) std::fill(p.grad.begin(), p.grad.end(), 7.0f);
  const std::vector<float> none;
  EXPECT_TRUE(model.forward(none, 0, Mode::train, rng).empty());
  model.backward(none);
  for (const ParamRef& p : model.parameters())
    EXPECT_EQ(std::vector<float>(p.grad.begin(), p.grad.end()), std::vector<float>(p.grad.size(), 0.0f)) << p.name;
  EXPECT_TRUE(model.forward(none, 0, Mode::eval, rng).empty());
}

TEST(NnLayers, InitUsesTheFollowingActivationsGain) {
  Sequential model = parse_model_spec("linear(400),batchnorm1d,relu,linear(300),tanh,linear(10)", 500);
  Rng rng(3);
  initialize_parameters(model, rng);
  const auto bound_of = [&](std::size_t layer) {
    float m = 0.0f;
    for (float v : std::get<Linear>(model.layers()[layer]).weight) m = std::max(m, std::fabs(v));
    return double(m);
  };
  EXPECT_NEAR(bound_of(0), std::sqrt(2.0) * std::sqrt(3.0 / 500), 1e-3);        // kaiming, relu
  EXPECT_NEAR(bound_of(3), 5.0 / 3.0 * std::sqrt(6.0 / (400 + 300)), 1e-3);    // xavier, tanh
  EXPECT_NEAR(bound_of(5), std::sqrt(6.0 / (300 + 10)), 2e-3);                 // logits: xavier, gain 1
}

}  // namespace
}  // namespace actlab
