// Replays tests/data/network/reference.json (written by tools/gen_network_reference.py with PyTorch):
// a Linear-BatchNorm-LeakyReLU-Linear-BatchNorm-PReLU-Linear-ELU network saved by torch, loaded
// by actlab, must give PyTorch's logits, loss, gradients, running statistics and optimizer steps.
#include "actlab/loss.hpp"
#include "actlab/model_io.hpp"
#include "actlab/optimizer.hpp"

#include <cmath>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace actlab {
namespace {

const std::string network_dir = std::string(ACTLAB_TEST_DATA_DIR) + "/network";

nlohmann::json reference() {
  std::ifstream in(network_dir + "/reference.json");
  return nlohmann::json::parse(in);
}

// Float32 agreement with a float64 oracle: |a - e| <= atol + rtol |e|, with the worst printed.
void expect_close(std::span<const float> actual, const nlohmann::json& expected, const std::string& what,
                  double rtol = 1e-4, double atol = 1e-5) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  double worst = 0.0;
  std::size_t worst_i = 0;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const double e = expected[i].get<double>();
    const double excess = std::fabs(actual[i] - e) - (atol + rtol * std::fabs(e));
    if (excess > worst) {
      worst = excess;
      worst_i = i;
    }
  }
  EXPECT_LE(worst, 0.0) << what << "[" << worst_i << "]: expected " << expected[worst_i].get<double>()
                        << ", actual " << actual[worst_i];
}

struct Batch {
  std::vector<float> x;
  std::vector<std::int32_t> labels;
  std::size_t rows = 0;
};

Batch batch_of(const nlohmann::json& ref) {
  return {ref["x"].get<std::vector<float>>(), ref["labels"].get<std::vector<std::int32_t>>(),
          ref["rows"].get<std::size_t>()};
}

// Forward in training mode, loss, backward: the gradients are left in the model.
double train_step_gradients(Sequential& model, const Batch& b, std::vector<float>& logits_out) {
  Rng rng(0);
  const auto logits = model.forward(b.x, b.rows, Mode::train, rng);
  logits_out.assign(logits.begin(), logits.end());
  std::vector<float> dlogits(logits.size());
  const double loss = softmax_cross_entropy(dlogits, logits, b.labels, model.out_features());
  model.backward(dlogits);
  return loss;
}

TEST(NetworkReference, ForwardLossGradientsAndRunningStatsMatchTorch) {
  const auto ref = reference();
  ModelFile file = load_model(network_dir);
  Sequential& model = file.model;
  const Batch b = batch_of(ref);
  std::vector<float> logits;
  const double loss = train_step_gradients(model, b, logits);

  expect_close(logits, ref["train_logits"], "train logits");
  EXPECT_NEAR(loss, ref["loss"].get<double>(), 1e-5);
  for (ParamRef& p : model.parameters()) expect_close(p.grad, ref["grads"][p.name], "grad " + p.name, 1e-3, 1e-5);
  for (std::size_t layer : {1, 4}) {
    const auto& bn = std::get<BatchNorm1d>(model.layers()[layer]);
    expect_close(bn.running_mean, ref["running_after_step"][std::to_string(layer) + ".running_mean"], "running_mean");
    expect_close(bn.running_var, ref["running_after_step"][std::to_string(layer) + ".running_var"], "running_var");
  }
  Rng rng(0);
  const auto eval_logits = model.forward(b.x, b.rows, Mode::eval, rng);
  expect_close(eval_logits, ref["eval_logits_after_step"], "eval logits");
}

void check_optimizer(const std::string& kind) {
  const auto ref = reference();
  const auto& cfg = ref[kind];
  ModelFile file = load_model(network_dir);
  Sequential& model = file.model;
  OptimizerConfig c;
  c.kind = kind;
  c.lr = cfg["lr"].get<double>();
  c.weight_decay = cfg["weight_decay"].get<double>();
  c.momentum = cfg.value("momentum", 0.0);
  c.nesterov = cfg.value("nesterov", false);
  Optimizer opt(c, model.parameters());
  const Batch b = batch_of(ref);
  std::vector<float> logits;
  for (int step = 0; step < 2; ++step) {
    train_step_gradients(model, b, logits);
    opt.step(c.lr);
  }
  for (ParamRef& p : model.parameters()) {
    // A bias in front of BatchNorm has a gradient of exactly 0 in exact arithmetic (the mean is
    // subtracted); what is left is rounding noise, which Adam's g / sqrt(v) turns into a +-lr
    // step of either sign. Those are only bounded, the rest must agree.
    bool rounding_noise = true;
    for (const auto& g : ref["grads"][p.name]) rounding_noise &= std::fabs(g.get<double>()) < 1e-6;
    if (rounding_noise && kind != "sgd") {
      expect_close(p.value, ref["after_" + kind][p.name], kind + " " + p.name, 0.0, 2.5 * c.lr);
      continue;
    }
    expect_close(p.value, ref["after_" + kind][p.name], kind + " " + p.name, 1e-4, 2e-5);
  }
}

TEST(NetworkReference, SgdNesterovWithWeightDecayMatchesTorch) { check_optimizer("sgd"); }
TEST(NetworkReference, AdamMatchesTorch) { check_optimizer("adam"); }
TEST(NetworkReference, AdamWMatchesTorch) { check_optimizer("adamw"); }

}  // namespace
}  // namespace actlab
