// Diagnostics on constructed cases: a layer forced dead, gradient ratios computed by hand,
// saturation, and the JSON line.
#include "actlab/diagnostics.hpp"
#include "actlab/init.hpp"
#include "actlab/model_io.hpp"
#include "actlab/optimizer.hpp"
#include "kernels/parallel_policy.hpp"
#include "actlab/trainer.hpp"

#include <cmath>
#include <gtest/gtest.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <omp.h>
#include <utility>

namespace actlab {
namespace {

// Trains one epoch with diagnostics observing every step; returns the epoch's health.
EpochHealth one_epoch(Sequential& model, const DataSplit& data, std::size_t batch, DiagnosticsOptions options = {},
                      double lr = 0.01) {
  Diagnostics diagnostics(model, options);
  TrainConfig config;
  config.epochs = 1;
  config.batch = batch;
  config.schedule = "constant";
  config.optimizer.lr = lr;
  config.optimizer.momentum = 0.0;
  TrainCallbacks callbacks;
  callbacks.observe = [&](std::size_t step) { diagnostics.observe_step(step); };
  Trainer trainer(model, data, config);
  trainer.run(callbacks);
  return diagnostics.end_epoch(1, data.test);
}

TEST(Diagnostics, LayerForcedDeadReportsAllUnitsDeadAndAHealthyOneNone) {
  const DataSplit data = load_data("blobs", 2);
  Sequential model = parse_model_spec("linear(32),relu,linear(32),relu,linear(4)", 2);
  Rng rng(2);
  initialize_parameters(model, rng);
  auto& dead = std::get<Linear>(model.layers()[2]);
  std::fill(dead.bias.begin(), dead.bias.end(), -1e4f);  // layer 3's relu never sees a positive input
  const EpochHealth h = one_epoch(model, data, 64);
  ASSERT_EQ(h.activations.size(), 2u);
  EXPECT_EQ(h.activations[0].layer, 1u);
  EXPECT_LT(h.activations[0].dead_fraction, 0.1);  // healthy: kaiming init on blobs
  EXPECT_EQ(h.activations[1].layer, 3u);
  EXPECT_EQ(h.activations[1].dead_fraction, 1.0);
  EXPECT_EQ(h.activations[1].never_positive_fraction, 1.0);
  ASSERT_FALSE(h.warnings.empty());
  EXPECT_NE(h.warnings[0].find("layer 3 (relu): 100% of units dead since epoch 1"), std::string::npos) << h.warnings[0];
}

// Weight gradients of exactly 0 are said in words (the ratio printed "infx smaller" before).
TEST(Diagnostics, ZeroWeightGradientsAreNamed) {
  const DataSplit data = load_data("blobs", 2);
  const auto warnings_of = [&](const char* spec) {
    Sequential model = parse_model_spec(spec, 2);
    Rng rng(2);
    initialize_parameters(model, rng);
    std::fill(std::get<Linear>(model.layers()[0]).bias.begin(), std::get<Linear>(model.layers()[0]).bias.end(), -1e4f);
    std::string all;
    for (const std::string& w : one_epoch(model, data, 64).warnings) all += w + "\n";
    EXPECT_EQ(all.find("inf"), std::string::npos) << all;
    return all;
  };
  // The dead relu passes nothing back to layer 0; the sigmoid after layer 2's bias feeds the last.
  EXPECT_NE(warnings_of("linear(16),relu,linear(8),sigmoid,linear(4)").find("first layer's weight gradients are 0"),
            std::string::npos);
  // The dead relu's zeros are the last layer's inputs: its weight gradients are 0 too.
  EXPECT_NE(warnings_of("linear(16),relu,linear(4)").find("no gradient reaches the last layer's weights"),
            std::string::npos);
}

TEST(Diagnostics, LeakyUnitsStuckBelowZeroAreNeverPositiveButNotDead) {
  const DataSplit data = load_data("blobs", 2);
  Sequential model = parse_model_spec("linear(16),leaky_relu,linear(4)", 2);
  Rng rng(2);
  initialize_parameters(model, rng);
  std::fill(std::get<Linear>(model.layers()[0]).bias.begin(), std::get<Linear>(model.layers()[0]).bias.end(), -1e4f);
  const EpochHealth h = one_epoch(model, data, 64);
  EXPECT_EQ(h.activations[0].dead_fraction, 0.0);
  EXPECT_EQ(h.activations[0].never_positive_fraction, 1.0);
}

TEST(Diagnostics, SaturatedSigmoidUnits) {
  const DataSplit data = load_data("blobs", 2);
  Sequential model = parse_model_spec("linear(8),sigmoid,linear(4)", 2);
  Rng rng(2);
  initialize_parameters(model, rng);
  auto& first = std::get<Linear>(model.layers()[0]);
  std::fill(first.weight.begin(), first.weight.end(), 0.01f);  // pre-activations 10 +- 0.2: sigmoid' ~ 5e-5
  std::fill(first.bias.begin(), first.bias.end(), 10.0f);
  const EpochHealth h = one_epoch(model, data, 64);
  EXPECT_EQ(h.activations[0].saturated_fraction, 1.0);
  EXPECT_EQ(h.activations[0].dead_fraction, 0.0);  // tiny but not exactly 0 for most samples
}

// Two rows, one step: the weight-gradient RMS ratio of the first and last Linear, computed by hand.
TEST(Diagnostics, GradientRatioMatchesAHandComputation) {
  DataSplit data;
  for (Dataset* d : {&data.train, &data.test}) {
    d->rows = 2;
    d->features = 2;
    d->num_classes = 2;
    d->values = {1.0f, 2.0f, -1.0f, 0.5f};
    d->labels = {0, 1};
  }
  Sequential model = parse_model_spec("linear(2),linear(2)", 2);
  auto& l1 = std::get<Linear>(model.layers()[0]);
  auto& l2 = std::get<Linear>(model.layers()[1]);
  l1.weight = {0.5f, -0.25f, 0.1f, 0.3f};
  l1.bias = {0.1f, -0.2f};
  l2.weight = {0.2f, 0.4f, -0.6f, 0.8f};
  l2.bias = {0.0f, 0.05f};
  // By hand: h = x W1^T + b1, z = h W2^T + b2, dz = (softmax(z) - onehot) / 2, dW2 = dz^T h,
  // dh = dz W2, dW1 = dh^T x.
  const double x[2][2] = {{1, 2}, {-1, 0.5}};
  const double w1[2][2] = {{0.5, -0.25}, {0.1, 0.3}}, b1[2] = {0.1, -0.2};
  const double w2[2][2] = {{0.2, 0.4}, {-0.6, 0.8}}, b2[2] = {0.0, 0.05};
  double h[2][2], dz[2][2], dh[2][2] = {}, dw1[2][2] = {}, dw2[2][2] = {};
  for (int r = 0; r < 2; ++r) {
    for (int o = 0; o < 2; ++o) h[r][o] = x[r][0] * w1[o][0] + x[r][1] * w1[o][1] + b1[o];
    double z[2];
    for (int o = 0; o < 2; ++o) z[o] = h[r][0] * w2[o][0] + h[r][1] * w2[o][1] + b2[o];
    const double e0 = std::exp(z[0]), e1 = std::exp(z[1]);
    dz[r][0] = (e0 / (e0 + e1) - (r == 0 ? 1 : 0)) / 2;
    dz[r][1] = (e1 / (e0 + e1) - (r == 1 ? 1 : 0)) / 2;
  }
  for (int r = 0; r < 2; ++r)
    for (int o = 0; o < 2; ++o)
      for (int i = 0; i < 2; ++i) {
        dw2[o][i] += dz[r][o] * h[r][i];
        dh[r][i] += dz[r][o] * w2[o][i];
      }
  for (int r = 0; r < 2; ++r)
    for (int o = 0; o < 2; ++o)
      for (int i = 0; i < 2; ++i) dw1[o][i] += dh[r][o] * x[r][i];
  auto rms = [](const double (&m)[2][2]) {
    return std::sqrt((m[0][0] * m[0][0] + m[0][1] * m[0][1] + m[1][0] * m[1][0] + m[1][1] * m[1][1]) / 4);
  };
  DiagnosticsOptions every_step;
  every_step.sample_every = 1;
  const EpochHealth health = one_epoch(model, data, 2, every_step);
  ASSERT_EQ(health.linear.size(), 2u);
  EXPECT_NEAR(health.linear[0].weight_grad_rms, rms(dw1), 1e-6);
  EXPECT_NEAR(health.linear[1].weight_grad_rms, rms(dw2), 1e-6);
  EXPECT_NEAR(health.grad_ratio_first_last, rms(dw1) / rms(dw2), 1e-5);
}

// With two threads the diagnostics observe each step while the optimizer updates the parameters
// (the model has enough of them): the report must be the one of a single thread, bit for bit,
// PReLU slopes included (those of the backward, not of the update running beside).
TEST(Diagnostics, SameReportWithOneAndTwoThreads) {
  const DataSplit data = load_data("spirals", 3);
  const std::string spec = "linear(256),batchnorm1d,prelu,linear(256),leaky_relu,linear(3)";
  std::size_t parameters = 0;
  {
    Sequential probe = parse_model_spec(spec, 2);
    for (const ParamRef& p : probe.parameters()) parameters += p.value.size();
  }
  const int saved_threads = omp_get_max_threads();
  omp_set_num_threads(2);
  const bool shared = worth_parallel(double(parameters), double(Optimizer::shared_update_values));
  omp_set_num_threads(saved_threads);
  if (!shared) GTEST_SKIP() << "the update is not shared here (OMP_WAIT_POLICY=passive?)";
  const auto report = [&](int threads) {
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    Sequential model = parse_model_spec(spec, 2);
    Rng rng(4);
    initialize_parameters(model, rng);
    DiagnosticsOptions every_step;
    every_step.sample_every = 1;
    const std::string line = Diagnostics::to_json_line(one_epoch(model, data, 32, every_step, 0.05));
    omp_set_num_threads(saved);
    return line;
  };
  EXPECT_EQ(report(1), report(2));
}

// What a checkpoint keeps of the diagnostics: a Diagnostics restored from another's state in the
// middle of an epoch reports that epoch as the one that saw all of it did, bit for bit.
TEST(Diagnostics, RestoredStateReportsTheWholeEpoch) {
  const DataSplit data = load_data("spirals", 2);
  const std::size_t steps_per_epoch = (data.train.rows + 63) / 64;
  ASSERT_GT(steps_per_epoch, 8u);
  bool handed_over = false;
  const auto run = [&](std::size_t handover_step) {
    Sequential model = parse_model_spec("linear(32),batchnorm1d,prelu,linear(32),tanh,linear(3)", 2);
    Rng rng(6);
    initialize_parameters(model, rng);
    auto diagnostics = std::make_unique<Diagnostics>(model);
    TrainConfig config;
    config.epochs = 2;
    config.batch = 64;
    std::vector<std::string> lines;
    TrainCallbacks callbacks;
    callbacks.observe = [&](std::size_t step) { diagnostics->observe_step(step); };
    callbacks.on_step = [&](std::size_t step) {
      if (step != handover_step) return;
      auto next = std::make_unique<Diagnostics>(model);
      next->restore_state(diagnostics->state());
      diagnostics = std::move(next);
      handed_over = true;
    };
    callbacks.on_epoch = [&](const EpochStats& s) {
      lines.push_back(Diagnostics::to_json_line(diagnostics->end_epoch(s.epoch, data.test)));
    };
    Trainer(model, data, config).run(callbacks);
    return lines;
  };
  const auto whole = run(0);
  EXPECT_EQ(whole.size(), 2u);
  EXPECT_FALSE(handed_over);
  EXPECT_EQ(run(7), whole);  // handed over in the first epoch
  EXPECT_TRUE(std::exchange(handed_over, false));
  EXPECT_EQ(run(steps_per_epoch + 5), whole);  // in the second
  EXPECT_TRUE(handed_over);

  Sequential other = parse_model_spec("linear(8),relu,linear(3)", 2);
  Sequential model = parse_model_spec("linear(32),batchnorm1d,prelu,linear(32),tanh,linear(3)", 2);
  const std::string state = Diagnostics(model).state();
  Diagnostics elsewhere(other);
  EXPECT_THROW(elsewhere.restore_state(state), std::runtime_error);
  EXPECT_THROW(elsewhere.restore_state("{\"watched\": [1]"), std::runtime_error);
  EXPECT_NO_THROW(Diagnostics(model).restore_state(state));
}

TEST(Diagnostics, JsonLineCarriesEveryField) {
  const DataSplit data = load_data("spirals", 1);
  Sequential model = parse_model_spec("linear(16),batchnorm1d,prelu,linear(3)", 2);
  Rng rng(1);
  initialize_parameters(model, rng);
  const EpochHealth h = one_epoch(model, data, 64);
  const auto j = nlohmann::json::parse(Diagnostics::to_json_line(h));
  EXPECT_EQ(j["epoch"], 1);
  EXPECT_EQ(j["layers"][0]["type"], "prelu");
  EXPECT_TRUE(j["layers"][0].contains("slope"));
  EXPECT_GT(j["layers"][0]["pre_std"].get<double>(), 0.5);  // BatchNorm output: about unit spread
  EXPECT_EQ(j["batchnorm"][0]["layer"], 1);
  EXPECT_TRUE(j.contains("grad_ratio_first_last"));
  EXPECT_TRUE(j.contains("train_eval_gap"));
  EXPECT_NE(Diagnostics::summary(h).find("L2 prelu"), std::string::npos);
}

}  // namespace
}  // namespace actlab
