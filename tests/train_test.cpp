// Losses, and training end to end on a synthetic set: it must learn, and repeat itself exactly.
#include "actlab/init.hpp"
#include "actlab/loss.hpp"
#include "actlab/model_io.hpp"
#include "actlab/optimizer.hpp"
#include "io_test_util.hpp"
#include "kernels/parallel_policy.hpp"
#include "random_data.hpp"
#include "actlab/recipes.hpp"
#include "actlab/trainer.hpp"

#include <cmath>
#include <gtest/gtest.h>

namespace actlab {
namespace {

TEST(Loss, CrossEntropyValuesAndGradient) {
  // Two classes with equal logits: loss log 2, gradient (1/2 - onehot) / rows.
  std::vector<float> z{0.0f, 0.0f, 3.0f, 1.0f}, dz(4);
  std::vector<std::int32_t> labels{0, 1};
  const double loss = softmax_cross_entropy(dz, z, labels, 2);
  const double second = std::log(1.0 + std::exp(2.0));  // -log softmax(1 | [3, 1])
  EXPECT_NEAR(loss, (std::log(2.0) + second) / 2, 1e-7);
  EXPECT_NEAR(dz[0], -0.25, 1e-7);
  EXPECT_NEAR(dz[1], 0.25, 1e-7);
  const double p1 = 1.0 / (1.0 + std::exp(2.0));
  EXPECT_NEAR(dz[3], (p1 - 1.0) / 2, 1e-7);
}

TEST(Loss, StableForExtremeLogits) {
  for (float big : {1e4f, 1e30f, 3e38f}) {
    std::vector<float> z{big, -big, 0.0f}, dz(3);
    std::vector<std::int32_t> label{1};
    const double loss = softmax_cross_entropy(dz, z, label, 3);
    EXPECT_TRUE(std::isfinite(loss)) << big;
    for (float g : dz) EXPECT_TRUE(std::isfinite(g)) << big;
    std::vector<float> t{1.0f, 0.0f, 1.0f}, db(3);
    EXPECT_TRUE(std::isfinite(bce_with_logits(db, z, t))) << big;
    for (float g : db) EXPECT_TRUE(std::isfinite(g)) << big;
  }
}

TEST(Loss, MseAndBceMatchTheirDefinitions) {
  std::vector<float> y{1.0f, -2.0f}, t{0.0f, 1.0f}, d(2);
  EXPECT_NEAR(mse_loss(d, y, t), (1.0 + 9.0) / 2, 1e-7);
  EXPECT_NEAR(d[0], 1.0, 1e-7);
  EXPECT_NEAR(d[1], -3.0, 1e-7);
  std::vector<float> z{0.0f, 2.0f}, target{1.0f, 0.0f};
  EXPECT_NEAR(bce_with_logits(d, z, target), (std::log(2.0) + std::log1p(std::exp(2.0))) / 2, 1e-6);
  EXPECT_NEAR(d[0], (0.5 - 1.0) / 2, 1e-7);
}

TEST(Loss, LabelOutOfRangeIsAnError) {
  std::vector<float> z(3);
  std::vector<std::int32_t> label{3};
  EXPECT_THROW(softmax_cross_entropy({}, z, label, 3), std::invalid_argument);
}

TEST(Loss, CountCorrectChecksItsShape) {
  const std::vector<float> z{0.1f, 0.9f, 0.3f, 0.8f, 0.2f, 0.0f};
  const std::vector<std::int32_t> labels{1, 0};
  EXPECT_EQ(count_correct(z, labels, 3), 2u);
  EXPECT_EQ(count_correct(z, std::span(labels.data(), 1), 6), 1u);  // one row of 6, its largest at 1
  EXPECT_THROW(count_correct(std::span(z.data(), 5), labels, 3), std::invalid_argument);  // it read past the end
  EXPECT_THROW(count_correct(z, labels, 0), std::invalid_argument);
}

std::vector<EpochStats> train_spirals(const std::string& recipe, std::uint64_t seed, Sequential* out = nullptr) {
  const DataSplit data = load_data("spirals", seed);
  Sequential model = parse_model_spec(recipe_spec(recipe, std::vector<std::size_t>{64, 64}, true, 3), 2);
  Rng rng(seed);
  initialize_parameters(model, rng);
  TrainConfig config;
  config.epochs = 15;
  config.batch = 64;
  config.seed = seed;
  auto history = train(model, data, config);
  if (out) *out = std::move(model);
  return history;
}

TEST(Training, SpiralsReachAStatedLoss) {
  for (const char* recipe : {"seed", "relu", "gelu"}) {
    const auto history = train_spirals(recipe, 1);
    EXPECT_LT(history.back().test.loss, 0.15) << recipe;
    EXPECT_GT(history.back().test.accuracy, 0.95) << recipe;
    EXPECT_LT(history.back().train_loss, history.front().train_loss) << recipe;
    for (const EpochStats& e : history) {  // the matrix products are timed within the epoch
      EXPECT_GT(e.matmul_seconds, 0.0) << recipe;
      EXPECT_LT(e.matmul_seconds, e.seconds) << recipe;
    }
  }
}

TEST(Training, SameSeedSameNumbers) {
  Sequential a, b;
  const auto h1 = train_spirals("seed", 7, &a);
  const auto h2 = train_spirals("seed", 7, &b);
  ASSERT_EQ(h1.size(), h2.size());
  for (std::size_t e = 0; e < h1.size(); ++e) {
    EXPECT_EQ(h1[e].train_loss, h2[e].train_loss);
    EXPECT_EQ(h1[e].test.loss, h2[e].test.loss);
  }
  auto pa = a.parameters(), pb = b.parameters();
  for (std::size_t k = 0; k < pa.size(); ++k)
    EXPECT_TRUE(std::equal(pa[k].value.begin(), pa[k].value.end(), pb[k].value.begin())) << pa[k].name;
  const auto h3 = train_spirals("seed", 8);
  EXPECT_NE(h1.back().train_loss, h3.back().train_loss);
}

TEST(Training, BadConfigsAreRejected) {
  const DataSplit data = load_data("blobs", 0);
  Sequential model = parse_model_spec("linear(8),relu,linear(4)", 2);
  TrainConfig config;
  config.epochs = 0;
  EXPECT_THROW(train(model, data, config), std::invalid_argument);
  config.epochs = 1;
  config.optimizer.kind = "lbfgs";
  EXPECT_THROW(train(model, data, config), std::invalid_argument);
  config.optimizer.kind = "sgd";
  config.optimizer.lr = -1;
  EXPECT_THROW(train(model, data, config), std::invalid_argument);
  Sequential narrow = parse_model_spec("linear(8),relu,linear(4)", 3);
  config.optimizer.lr = 0.1;
  EXPECT_THROW(train(narrow, data, config), std::invalid_argument);
}

}  // namespace
}  // namespace actlab

namespace actlab {
namespace {

std::vector<float> all_weights(Sequential& model) {
  std::vector<float> out;
  for (const ParamRef& p : model.parameters()) out.insert(out.end(), p.value.begin(), p.value.end());
  return out;
}

// In one process: a run stopped right at an epoch's start and run again, and a run whose observer
// threw and that is run again, end with the weights of an uninterrupted run (the epoch's order is
// drawn once; a failing observer leaves the step counted).
// A model for the two-feature spirals, initialized from Rng(3).
Sequential spirals_model(const std::string& spec) {
  Sequential m = parse_model_spec(spec, 2);
  Rng rng(3);
  initialize_parameters(m, rng);
  return m;
}

TEST(Training, RunAgainAfterAStopOrAnObserverFailureContinuesExactly) {
  const DataSplit data = load_data("spirals", 3);
  const std::string spec = recipe_spec("seed", std::vector<std::size_t>{32, 16}, true, 3);
  TrainConfig config;
  config.epochs = 2;
  config.batch = 50;  // 48 batches an epoch
  config.seed = 3;
  auto fresh = [&] { return spirals_model(spec); };
  Sequential whole = fresh();
  train(whole, data, config);

  Sequential stopped = fresh();
  Trainer a(stopped, data, config);
  TrainCallbacks stop;
  std::size_t steps = 0;
  stop.on_step = [&](std::size_t s) { steps = s; };
  stop.stop_requested = [&] { return steps >= 48; };  // checked once epoch 2 is shuffled
  ASSERT_FALSE(a.run(stop));
  ASSERT_TRUE(a.run());
  EXPECT_EQ(all_weights(stopped), all_weights(whole));

  Sequential failed = fresh();
  Trainer b(failed, data, config);
  TrainCallbacks failing;
  failing.observe = [](std::size_t s) {
    if (s == 30) throw std::runtime_error("observer failed");
  };
  EXPECT_THROW(b.run(failing), std::runtime_error);
  EXPECT_EQ(b.step(), 30u);
  ASSERT_TRUE(b.run());
  EXPECT_EQ(all_weights(failed), all_weights(whole));
}

TEST(Checkpoint, StopSaveRestoreContinuesExactly) {
  const DataSplit data = load_data("spirals", 3);
  const std::string spec = recipe_spec("seed", std::vector<std::size_t>{32, 16}, true, 3) + ",dropout(p=0.1)";
  TrainConfig config;
  config.epochs = 3;
  config.batch = 50;
  config.seed = 3;
  config.optimizer.kind = "adamw";
  config.optimizer.lr = 0.01;
  config.optimizer.weight_decay = 0.01;

  auto fresh = [&] { return spirals_model(spec); };
  Sequential whole = fresh();
  const auto expected = train(whole, data, config);

  const test::TempDir temp;
  const std::string path = temp.file("checkpoint.safetensors");
  for (std::size_t stop_at : {1, 47, 48, 70}) {  // 48 batches per epoch: inside, at and after a boundary
    Sequential first = fresh();
    Trainer a(first, data, config);
    TrainCallbacks stop;
    std::size_t steps = 0;
    stop.on_step = [&](std::size_t s) { steps = s; };
    stop.stop_requested = [&] { return steps >= stop_at; };
    ASSERT_FALSE(a.run(stop));
    a.save_checkpoint(path);

    Sequential second = model_from_config_json(read_checkpoint_info(path).model_config_json, path).model;
    Trainer b(second, data, config);
    b.restore(path);
    ASSERT_TRUE(b.run());
    EXPECT_EQ(all_weights(second), all_weights(whole)) << "stopped after " << stop_at;
    ASSERT_EQ(b.history().size(), expected.size());
    for (std::size_t e = 0; e < expected.size(); ++e) {
      EXPECT_EQ(b.history()[e].train_loss, expected[e].train_loss) << stop_at;
      EXPECT_EQ(b.history()[e].test.loss, expected[e].test.loss) << stop_at;
      // The time before the stop is carried over: a resumed epoch's matrix products are not lost.
      EXPECT_GT(b.history()[e].matmul_seconds, 0.0) << stop_at;
      EXPECT_LT(b.history()[e].matmul_seconds, b.history()[e].seconds) << stop_at;
    }
  }
}

TEST(NumericalFaults, NanInTheDataStopsTrainingNamingWhereItAppeared) {
  DataSplit data = load_data("blobs", 1);
  data.train.values[7 * data.train.features] = std::nanf("");  // row 7 of the training set
  Sequential model = parse_model_spec("linear(8),batchnorm1d,relu,linear(4)", 2);
  Rng rng(1);
  initialize_parameters(model, rng);
  const std::vector<float> before = all_weights(model);
  TrainConfig config;
  config.epochs = 1;
  config.batch = 32;
  try {
    train(model, data, config);
    FAIL() << "training on NaN did not stop";
  } catch (const NonFiniteError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("step"), std::string::npos) << message;
    EXPECT_NE(message.find("input batch"), std::string::npos) << message;
  }
  // BatchNorm did not learn running statistics from the NaN batch.
  for (float v : std::get<BatchNorm1d>(model.layers()[1]).running_mean) EXPECT_TRUE(std::isfinite(v));
}

TEST(NumericalFaults, OverflowInsideTheNetworkNamesTheLayer) {
  const DataSplit data = load_data("blobs", 1);
  Sequential model = parse_model_spec("linear(8),relu,linear(8),relu,linear(4)", 2);
  Rng rng(1);
  initialize_parameters(model, rng);
  auto& second = std::get<Linear>(model.layers()[2]);
  std::fill(second.weight.begin(), second.weight.end(), 3e38f);  // overflows to inf in layer 2
  TrainConfig config;
  config.epochs = 1;
  try {
    train(model, data, config);
    FAIL() << "training through an overflow did not stop";
  } catch (const NonFiniteError& e) {
    EXPECT_NE(std::string(e.what()).find("layer 2 (linear)"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace actlab

#include <array>
#include <atomic>
#include <memory>
#include <omp.h>

namespace actlab {
namespace {

// The seed recipe at Fashion-MNIST's shapes on random data: the same weights with 1 and 2 threads.
TEST(Determinism, SameWeightsWithOneAndTwoThreads) {
  const DataSplit data = random_fashion_shaped(1024, 256);
  auto run = [&](int threads) {
    omp_set_num_threads(threads);
    Sequential model = seed_recipe_model(5);
    TrainConfig config;
    config.epochs = 2;
    train(model, data, config);
    return all_weights(model);
  };
  const int saved = omp_get_max_threads();
  const auto one = run(1), two = run(2);
  omp_set_num_threads(saved);
  EXPECT_TRUE(one == two);
}

// evaluate() gives the same loss and accuracy, to the bit, on 1, 2, 3 and 5 threads (batches of 300
// rows, the last one short), for cross-entropy and for mse (whose one-hot rows are built per batch).
TEST(Determinism, EvaluationGivesTheSameBitsOnAnyThreadCount) {
  const DataSplit data = random_fashion_shaped(64, 2345);
  Sequential model = seed_recipe_model(7);
  const int saved = omp_get_max_threads();
  for (const char* loss : {"cross_entropy", "mse"}) {
    omp_set_num_threads(1);
    const EvalResult one = evaluate(model, data.test, loss, 300);
    for (const int threads : {2, 3, 5}) {
      omp_set_num_threads(threads);
      const EvalResult many = evaluate(model, data.test, loss, 300);
      EXPECT_EQ(many.rows, one.rows);
      EXPECT_EQ(many.loss, one.loss) << loss << ", " << threads << " threads";
      EXPECT_EQ(many.accuracy, one.accuracy) << loss << ", " << threads << " threads";
    }
  }
  omp_set_num_threads(saved);
}

// Work handed to Optimizer::step runs once, beside the update on two threads, and changes none of
// its bits; a non-finite gradient is still named, and an exception from the work reaches the caller.
// The bits are those of one thread, also with 3 threads and with more tasks than threads.
TEST(Optimizer, WorkAlongsideTheUpdateChangesNoBit) {
  struct Tensors {
    std::vector<float> a, ga, b, gb;
    std::vector<ParamRef> refs() { return {{"a", a, ga, true}, {"b", b, gb, false}}; }
  };
  Rng rng(3);
  // 70033 values: above the size from which the update is shared among threads.
  Tensors start{std::vector<float>(70000), std::vector<float>(70000), std::vector<float>(33), std::vector<float>(33)};
  for (auto* v : {&start.a, &start.ga, &start.b, &start.gb})
    for (float& x : *v) x = float(rng.normal());
  const int saved = omp_get_max_threads();
  omp_set_num_threads(2);
  if (!worth_parallel(double(start.a.size() + start.b.size()), double(Optimizer::shared_update_values))) {
    omp_set_num_threads(saved);
    GTEST_SKIP() << "the update is not shared here (OMP_WAIT_POLICY=passive?)";
  }
  for (const std::string kind : {"sgd", "adamw"}) {
    OptimizerConfig config;
    config.kind = kind;
    config.weight_decay = 0.01;
    Tensors serial = start, plain = start, beside = start;
    Optimizer serial_opt(config, serial.refs()), plain_opt(config, plain.refs()), beside_opt(config, beside.refs());
    // More threads than the update's 6 pieces (8: shares left empty) and than the optimizer has
    // shares for (70: threads that only help), and more tasks than threads (3 at 2).
    const int thread_counts[] = {2, 3, 8, 70};
    std::vector<Tensors> others(std::size(thread_counts), start);
    std::vector<std::unique_ptr<Optimizer>> other_opts;
    for (Tensors& t : others) other_opts.push_back(std::make_unique<Optimizer>(config, t.refs()));
    std::atomic<int> calls = 0;
    const std::function<void()> count_call = [&] { ++calls; };
    const std::array<std::function<void()>, 3> three_calls{count_call, count_call, count_call};
    for (int step = 0; step < 3; ++step) {
      omp_set_num_threads(1);
      EXPECT_EQ(serial_opt.step(0.1), nullptr);
      omp_set_num_threads(2);
      EXPECT_EQ(plain_opt.step(0.1), nullptr);
      EXPECT_EQ(beside_opt.step(0.1, std::span(&count_call, 1)), nullptr);
      for (std::size_t k = 0; k < others.size(); ++k) {
        omp_set_num_threads(thread_counts[k]);
        EXPECT_EQ(other_opts[k]->step(0.1, std::span(three_calls)), nullptr);
      }
      omp_set_num_threads(2);
    }
    EXPECT_EQ(calls, 3 * (1 + 3 * int(others.size()))) << kind;
    EXPECT_TRUE(serial.a == plain.a && serial.b == plain.b) << kind;
    EXPECT_TRUE(serial.a == beside.a && serial.b == beside.b) << kind;
    for (std::size_t k = 0; k < others.size(); ++k)
      EXPECT_TRUE(serial.a == others[k].a && serial.b == others[k].b) << kind << ", " << thread_counts[k] << " threads";

    beside.gb[7] = NAN;
    const std::function<void()> nothing = [] {};
    const ParamRef* bad = beside_opt.step(0.1, std::span(&nothing, 1));
    ASSERT_NE(bad, nullptr);
    EXPECT_EQ(bad->name, "b");
    const std::function<void()> failing = [] { throw std::runtime_error("gather failed"); };
    EXPECT_THROW(beside_opt.step(0.1, std::span(&failing, 1)), std::runtime_error);
  }
  omp_set_num_threads(saved);
}

}  // namespace
}  // namespace actlab
