// The library API under misuse a C++ user can plausibly make: each case must end in a clear
// exception, not a crash, a hang, an out-of-bounds access or a silently wrong result.
#include "actlab/init.hpp"
#include "actlab/model_io.hpp"
#include "actlab/optimizer.hpp"
#include "actlab/trainer.hpp"
#include "io_test_util.hpp"

#include "actlab/activation.hpp"
#include "actlab/layers.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

namespace actlab {
namespace {

// Passes when f() throws a std::exception whose message contains `word` (else shows the message).
template <class F>
::testing::AssertionResult throws_saying(F&& f, const std::string& word) {
  return test::throws_with<std::exception>(std::forward<F>(f), "", word);
}

Sequential small_model(const char* spec, std::size_t in = 2) {
  Sequential model = parse_model_spec(spec, in);
  Rng rng(1);
  initialize_parameters(model, rng);
  return model;
}

// evaluate with a batch of 0 looped forever.
TEST(ApiMisuse, EvaluateWithBatchZeroThrows) {
  const DataSplit data = load_data("blobs:50", 1);
  Sequential model = small_model("linear(4)");
  EXPECT_TRUE(throws_saying([&] { evaluate(model, data.test, "cross_entropy", 0); }, "batch=0"));
}

// mse and bce index a one-hot row by label: a label past the outputs was written out of bounds.
TEST(ApiMisuse, LabelsOutsideTheOutputsAreRefusedForEveryLoss) {
  DataSplit data = load_data("blobs:50", 1);
  data.train.labels[3] = 400000000;
  data.test.labels[0] = -1;
  for (const char* loss : {"cross_entropy", "mse", "bce"}) {
    Sequential model = small_model("linear(4)");
    TrainConfig config;
    config.loss = loss;
    config.epochs = 1;
    EXPECT_TRUE(throws_saying([&] { Trainer(model, data, config); }, "row 3 has label 400000000")) << loss;
    EXPECT_TRUE(throws_saying([&] { evaluate(model, data.test, loss); }, "row 0 has label -1")) << loss;
  }
  data.test.labels.pop_back();
  Sequential model = small_model("linear(4)");
  EXPECT_TRUE(throws_saying([&] { evaluate(model, data.test); }, "labels for"));
}

TEST(ApiMisuse, OptimizerRefusesGradientsOfAnotherSize) {
  std::vector<float> value(4096), grad(4);
  EXPECT_TRUE(throws_saying([&] { Optimizer(OptimizerConfig{}, {{"w", value, grad, true}}); }, "4 gradients"));
}

// A hand-built tensor whose data does not fill its shape was copied past the weights.
TEST(ApiMisuse, TensorDataMustFillItsShape) {
  Sequential model = small_model("linear(3)", 4);
  TensorMap tensors = model_tensors(model);
  tensors["0.weight"].f32.resize(1 << 20, 0.5f);
  EXPECT_TRUE(throws_saying([&] { set_model_tensors(model, tensors, "hand-built"); }, "needs 12"));
  tensors["0.weight"].f32.resize(2);
  EXPECT_TRUE(throws_saying([&] { set_model_tensors(model, tensors, "hand-built"); }, "needs 12"));
}

// Layers called directly with spans of the wrong size (Linear, and rrelu and dropout in training,
// skipped the checks the other layers make).
TEST(ApiMisuse, LayersCheckTheirSpans) {
  Rng rng(1);
  Linear lin(3, 2);
  std::vector<float> x(6), y(3), dx(6), dy(4);
  EXPECT_TRUE(throws_saying([&] { lin.forward(y, x, 2, Mode::train, rng); }, "y has 3 values"));
  y.resize(4);
  EXPECT_TRUE(throws_saying([&] { lin.forward(y, std::span(x).first(3), 2, Mode::train, rng); }, "x has 3"));
  EXPECT_TRUE(throws_saying([&] { lin.backward(std::span(dx).first(5), dy, x, y, 2); }, "dx has 5"));

  ActivationLayer rrelu(parse_activation("rrelu"));
  std::vector<float> a(8, -1.0f), b(4), db(8);
  EXPECT_TRUE(throws_saying([&] { rrelu.forward(b, a, 2, Mode::train, rng); }, "y has 4"));
  b.resize(8);
  rrelu.forward(b, a, 2, Mode::train, rng);
  std::vector<float> big(16);
  EXPECT_TRUE(throws_saying([&] { rrelu.backward(big, big, big, big, 4); }, "last training forward"));

  Dropout dropout(0.5f);
  std::vector<float> short_y(4);
  EXPECT_TRUE(throws_saying([&] { dropout.forward(short_y, a, 2, Mode::train, rng); }, "y has 4"));
  dropout.forward(b, a, 2, Mode::train, rng);
  EXPECT_TRUE(throws_saying([&] { dropout.backward(big, big, big, big, 4); }, "last training forward"));
}

// A forward that throws part-way (BatchNorm refuses 1 row in training) left buffers that backward
// then used: a crash in the matrix product.
TEST(ApiMisuse, BackwardAfterAFailedForwardThrows) {
  Sequential model = small_model("linear(4),batchnorm1d,linear(2)");
  Rng rng(1);
  std::vector<float> x(2, 0.5f), dout(2, 1.0f);
  EXPECT_THROW(model.forward(x, 1, Mode::train, rng), std::invalid_argument);
  EXPECT_TRUE(throws_saying([&] { model.backward(dout); }, "backward needs a forward"));
  Sequential fresh = small_model("linear(2)");
  EXPECT_TRUE(throws_saying([&] { fresh.backward(dout); }, "backward needs a forward"));
}

TEST(ApiMisuse, ActivationWithoutATableEntryThrows) {
  std::vector<float> x(4), y(4);
  EXPECT_TRUE(throws_saying([&] { activation_forward(Activation{}, y, x); }, "no activation"));
  EXPECT_TRUE(throws_saying([&] { activation_backward(Activation{}, y, x, x, x); }, "no activation"));
  EXPECT_TRUE(throws_saying([&] { ActivationLayer{Activation{}}; }, "no activation"));
  EXPECT_TRUE(throws_saying([&] { load_model(""); }, "no folder"));
}

TEST(ApiMisuse, ActivationLayerWithoutAnActivationIsRefusedByTheModel) {
  EXPECT_TRUE(throws_saying([] { Sequential(2, {Linear(2, 2), ActivationLayer{}}); }, "without an activation"));
  ActivationLayer empty;
  Rng rng(1);
  std::vector<float> x(2), y(2);
  EXPECT_TRUE(throws_saying([&] { empty.forward(y, x, 1, Mode::eval, rng); }, "no activation"));
}

// Activation::params is public: a value set past its range, or a choice index past the choices, is
// refused where the activation enters a layer, a model or a file, and printed without reading out
// of bounds.
TEST(ApiMisuse, ActivationParametersSetDirectlyAreChecked) {
  Activation gelu = make_activation("gelu");
  gelu.params[0] = 7;  // "approximate" has two choices
  EXPECT_EQ(gelu.to_string(), "gelu:approximate=7");
  EXPECT_TRUE(throws_saying([&] { validate_activation(gelu); }, "approximate=7 is not the index of a choice"));
  EXPECT_TRUE(throws_saying([&] { ActivationLayer{gelu}; }, "not the index of a choice"));
  Activation elu = make_activation("elu");
  elu.params[0] = NAN;
  EXPECT_TRUE(throws_saying([&] { ActivationLayer{elu}; }, "out of range"));
  EXPECT_EQ(Activation{}.to_string(), "(no activation)");

  Sequential model = small_model("linear(4),gelu,linear(2)");
  std::get<ActivationLayer>(model.layers()[1]).act.params[0] = 7;
  const test::TempDir temp;
  const std::string never = temp.file("never_saved");
  EXPECT_TRUE(throws_saying([&] { save_model(never, model, {}); },
                            never + " (not saved): layer 1: gelu: approximate=7 is not the index of a choice"));
  EXPECT_FALSE(std::filesystem::exists(never));
  std::vector<Layer> layers = {Linear(2, 2), ActivationLayer{make_activation("relu")}};
  std::get<ActivationLayer>(layers[1]).act = gelu;
  EXPECT_TRUE(throws_saying([&] { Sequential(2, std::move(layers)); }, "layer 1: gelu: approximate=7"));
}

TEST(ApiMisuse, MovedFromModelIsEmpty) {
  Sequential model = small_model("linear(4),relu,linear(2)");
  Sequential taken = std::move(model);
  EXPECT_EQ(taken.in_features(), 2u);
  EXPECT_EQ(model.in_features(), 0u);  // NOLINT(bugprone-use-after-move): the state is specified
  EXPECT_TRUE(model.layers().empty());
  Rng rng(1);
  EXPECT_TRUE(throws_saying([&] { model.forward({}, 0, Mode::eval, rng); }, "no layers"));
  Sequential& same = taken;
  taken = std::move(same);  // a self-move keeps the model
  EXPECT_EQ(taken.layers().size(), 3u);
  EXPECT_EQ(taken.in_features(), 2u);
}

// A Linear writes its bias into y before it reads x: feeding a one-Linear model its own output gave
// other numbers than a copy of it, and in any model the first layer overwrote the input that
// backward reads later.
TEST(ApiMisuse, AModelRefusesItsOwnOutputAsInput) {
  Sequential model = small_model("linear(2)");
  Rng rng(1);
  const std::vector<float> x{0.5f, -1.0f};
  const std::span<const float> y = model.forward(x, 1, Mode::eval, rng);
  EXPECT_TRUE(throws_saying([&] { model.forward(y, 1, Mode::eval, rng); }, "own outputs"));
  const std::vector<float> copy(y.begin(), y.end());
  EXPECT_NO_THROW(model.forward(copy, 1, Mode::eval, rng));
  Sequential deeper = small_model("linear(2),tanh");
  const std::span<const float> z = deeper.forward(x, 1, Mode::train, rng);
  EXPECT_TRUE(throws_saying([&] { deeper.forward(z, 1, Mode::train, rng); }, "own outputs"));
  // The layer itself, called directly.
  Linear lin(2, 2);
  std::vector<float> buffer(2);
  EXPECT_TRUE(throws_saying([&] { lin.forward(buffer, buffer, 1, Mode::eval, rng); }, "overlaps"));
}

// save_model wrote models that load_model refused (or threw a bare JSON error for NaN arguments).
TEST(ApiMisuse, SaveRefusesWhatLoadWouldRefuse) {
  const test::TempDir temp;
  const std::string dir = temp.file("model");
  const auto save = [&](std::vector<Layer> layers) {
    return [&dir, layers] { save_model(dir, Sequential(3, layers), {}); };
  };
  EXPECT_TRUE(throws_saying(save({BatchNorm1d(3, 0.0f)}), "eps"));
  EXPECT_TRUE(throws_saying(save({BatchNorm1d(3, NAN)}), "cannot be saved"));
  EXPECT_TRUE(throws_saying(save({PReLU(1, NAN)}), "non-finite"));
  BatchNorm1d negative(3);
  negative.running_var[1] = -1.0f;
  EXPECT_TRUE(throws_saying(save({negative}), "negative variance"));
  EXPECT_FALSE(std::filesystem::exists(dir)) << "a refused model left a folder behind";
  EXPECT_NO_THROW(save({BatchNorm1d(3)})());
}

}  // namespace
}  // namespace actlab
