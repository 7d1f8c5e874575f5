// Model SPEC grammar, JSON config and model folders: round trips and every kind of bad input.
#include "actlab/file_io.hpp"
#include "actlab/fold.hpp"
#include "actlab/init.hpp"
#include "actlab/model_io.hpp"
#include "actlab/recipes.hpp"
#include "actlab/safetensors.hpp"
#include "io_test_util.hpp"

#include <filesystem>
#include <omp.h>
#include <utility>
#include <gtest/gtest.h>

namespace actlab {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ModelSpec, EveryRecipeRoundTripsThroughSpecAndConfig) {
  const std::vector<std::size_t> hidden{16, 8};
  for (const std::string& recipe : recipe_names())
    for (bool bn : {true, false}) {
      const std::string spec = recipe_spec(recipe, hidden, bn, 10);
      const Sequential model = parse_model_spec(spec, 20);
      const std::string canonical = to_model_spec(model);
      EXPECT_EQ(to_model_spec(parse_model_spec(canonical, 20)), canonical) << recipe;
      const ModelFile back = model_from_config_json(model_config_json(model, {0.5f, -1.0f}), "test");
      EXPECT_EQ(to_model_spec(back.model), canonical) << recipe;
      EXPECT_EQ(back.scaling.scale, 0.5f);
      EXPECT_EQ(back.scaling.shift, -1.0f);
      EXPECT_EQ(model.out_features(), 10u);
    }
}

TEST(ModelSpec, ParametersSurviveTheRoundTrip) {
  const std::string spec =
      "linear(32),batchnorm1d(eps=0.001,momentum=0.2),leaky_relu(negative_slope=0.2),dropout(p=0.1),"
      "linear(16),prelu(num_parameters=16),linear(8),gelu(approximate=tanh),linear(4),softplus(beta=2,threshold=10)";
  const Sequential model = parse_model_spec(spec, 10);
  EXPECT_EQ(to_model_spec(model), spec);
  EXPECT_EQ(to_model_spec(model_from_config_json(model_config_json(model, {}), "t").model), spec);
}

TEST(ModelSpec, BadSpecsNameTheProblem) {
  EXPECT_NE(error_of([] { parse_model_spec("linear(10),frobnicate", 4); }).find("frobnicate"), std::string::npos);
  EXPECT_NE(error_of([] { parse_model_spec("linear", 4); }).find("out_features"), std::string::npos);
  EXPECT_NE(error_of([] { parse_model_spec("linear(0)", 4); }).find("linear"), std::string::npos);
  EXPECT_NE(error_of([] { parse_model_spec("linear(10", 4); }).find("'('"), std::string::npos);
  EXPECT_NE(error_of([] { parse_model_spec("linear(10),,relu", 4); }).find("empty"), std::string::npos);
  EXPECT_NE(error_of([] { parse_model_spec("linear(10),elu(beta=2)", 4); }).find("beta"), std::string::npos);
  EXPECT_NE(error_of([] { parse_model_spec("linear(10),dropout(p=1)", 4); }).find("dropout"), std::string::npos);
  EXPECT_NE(error_of([] { parse_model_spec("linear(10),prelu(num_parameters=3)", 4); }).find("num_parameters"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_model_spec("linear(10),softplus(beta=-1)", 4); }).find("beta"), std::string::npos);
  EXPECT_NE(error_of([] { parse_model_spec("", 4); }).find("empty"), std::string::npos);
  EXPECT_NE(error_of([] { parse_model_spec("linear(=3)", 4); }).find("has no name before '='"), std::string::npos);
  EXPECT_NE(error_of([] { parse_model_spec("linear(4),elu( =2)", 4); }).find("no name"), std::string::npos);
}

TEST(ModelFiles, SaveAndLoadGiveIdenticalOutputs) {
  const test::TempDir temp;
  const std::string dir = temp.dir.string();
  Sequential model = parse_model_spec(recipe_spec("seed", std::vector<std::size_t>{12, 7}, true, 3), 5);
  Rng rng(4);
  initialize_parameters(model, rng);
  std::vector<float> x(8 * 5);
  for (float& v : x) v = float(rng.normal());
  model.forward(x, 8, Mode::train, rng);  // moves the running statistics off their defaults
  save_model(dir, model, {1.0f / 255, 0.0f});

  ModelFile loaded = load_model(dir);
  EXPECT_EQ(loaded.scaling.scale, 1.0f / 255);
  Rng r1(0), r2(0);
  const auto a = model.forward(x, 8, Mode::eval, r1);
  const std::vector<float> expected(a.begin(), a.end());
  const auto b = loaded.model.forward(x, 8, Mode::eval, r2);
  EXPECT_EQ(std::vector<float>(b.begin(), b.end()), expected);
  EXPECT_EQ(std::get<BatchNorm1d>(loaded.model.layers()[1]).num_batches_tracked, 1);
}

TEST(ModelFiles, CorruptFoldersGiveOneClearError) {
  const test::TempDir temp;
  const std::string dir = temp.dir.string();
  Sequential model = parse_model_spec("linear(4),batchnorm1d,relu,linear(2)", 3);
  save_model(dir, model, {});
  // A config without the weights' digest, as written by hand: the checks below are the tensors' own.
  write_file_atomic(dir + "/config.json", model_config_json(model, {}));
  const std::string weights = dir + "/model.safetensors";
  TensorMap good = read_safetensors(weights);

  auto with = [&](const std::function<void(TensorMap&)>& change) {
    TensorMap t = good;
    change(t);
    write_safetensors(weights, t);
    return error_of([&] { load_model(dir); });
  };
  EXPECT_NE(with([](TensorMap& t) { t.erase("0.bias"); }).find("missing tensor '0.bias'"), std::string::npos);
  EXPECT_NE(with([](TensorMap& t) { t["0.weight"].shape = {3, 4}; }).find("shape"), std::string::npos);
  EXPECT_NE(with([](TensorMap& t) { t["9.weight"] = t["0.bias"]; }).find("unexpected tensor '9.weight'"),
            std::string::npos);
  EXPECT_NE(with([](TensorMap& t) { t["3.bias"].f32[0] = NAN; }).find("non-finite"), std::string::npos);
  // A negative running variance makes sqrt(var + eps) NaN in every output of evaluation.
  EXPECT_NE(with([](TensorMap& t) { t["1.running_var"].f32[2] = -1.0f; }).find("negative variance"),
            std::string::npos);
  EXPECT_EQ(with([](TensorMap& t) { t["1.running_var"].f32[2] = 0.0f; }), "(no error)") << "a variance of 0 is valid";
  write_safetensors(weights, good);

  write_file_atomic(dir + "/config.json", std::string("{\"format\": \"actlab-model\""));
  EXPECT_NE(error_of([&] { load_model(dir); }).find("config.json: not valid JSON"), std::string::npos);
  write_file_atomic(dir + "/config.json", std::string(R"({"format":"actlab-model","version":1,"in_features":3,
      "layers":[{"type":"linear","in_features":3,"out_features":4},{"type":"wobble"}]})"));
  EXPECT_NE(error_of([&] { load_model(dir); }).find("layer 1"), std::string::npos);
  // An argument without a name is not taken for the positional one.
  write_file_atomic(dir + "/config.json", std::string(R"({"format":"actlab-model","version":1,"in_features":3,
      "layers":[{"type":"linear","in_features":3,"":4}]})"));
  EXPECT_NE(error_of([&] { load_model(dir); }).find("layer 0: an argument with an empty name"), std::string::npos);
  EXPECT_NE(error_of([&] { load_model(dir + "/nowhere"); }).find("nowhere"), std::string::npos);
}

// A save cut off between its two files leaves new weights beside the old config: load_model
// refuses the pair, by the digest of model.safetensors that config.json records.
TEST(ModelFiles, WeightsFromAnotherSaveAreRefused) {
  const test::TempDir temp;
  const std::string dir = temp.dir.string();
  Sequential model = parse_model_spec("linear(4),batchnorm1d,relu,linear(2)", 3);
  Rng rng(1);
  initialize_parameters(model, rng);
  save_model(dir, model, {});
  const std::vector<std::byte> old_config = read_file(dir + "/config.json");
  EXPECT_NE(std::string(reinterpret_cast<const char*>(old_config.data()), old_config.size()).find("\"weights_sha256\""),
            std::string::npos);
  EXPECT_EQ(error_of([&] { load_model(dir); }), "(no error)");

  initialize_parameters(model, rng);  // the same shapes, other weights
  save_model(dir, model, {});
  EXPECT_EQ(error_of([&] { load_model(dir); }), "(no error)");
  write_file_atomic(dir + "/config.json", old_config);  // as if the second save stopped after the weights
  const std::string error = error_of([&] { load_model(dir); });
  EXPECT_NE(error.find("model.safetensors: not the weights that config.json was saved with"), std::string::npos)
      << error;
  EXPECT_NE(error.find("delete \"weights_sha256\""), std::string::npos) << error;

  // A damaged file is named as such, not as another save's.
  const std::vector<std::byte> good_weights = read_file(dir + "/model.safetensors");
  write_file_atomic(dir + "/model.safetensors", std::span(good_weights).first(good_weights.size() - 4));
  EXPECT_NE(error_of([&] { load_model(dir); }).find("data section"), std::string::npos);
  write_file_atomic(dir + "/model.safetensors", good_weights);

  // Deleting that line, as the message says, pairs them by hand (it is a line of its own).
  std::string config(reinterpret_cast<const char*>(old_config.data()), old_config.size());
  const std::size_t line = config.find("  \"weights_sha256\"");
  config.erase(line, config.find('\n', line) + 1 - line);
  write_file_atomic(dir + "/config.json", config);
  EXPECT_EQ(error_of([&] { load_model(dir); }), "(no error)");

  // The digest as `sha256sum` prints it, upper case accepted; anything else is a clear error.
  ModelFile with_digest = model_from_config_json(model_config_json(model, {}, std::string(64, 'A')), "c");
  EXPECT_EQ(with_digest.weights_sha256, std::string(64, 'a'));
  EXPECT_NE(error_of([&] { model_from_config_json(model_config_json(model, {}, "abc"), "c"); })
                .find("\"weights_sha256\" must be 64 hex digits"),
            std::string::npos);
}

}  // namespace
}  // namespace actlab

namespace actlab {
namespace {

TEST(FoldBatchNorm, FoldedModelGivesTheEvaluationOutputs) {
  Sequential model = parse_model_spec(recipe_spec("seed", std::vector<std::size_t>{32, 16}, true, 5), 12);
  Rng rng(9);
  initialize_parameters(model, rng);
  std::vector<float> x(64 * 12);
  for (float& v : x) v = 2.0f * float(rng.normal()) + 0.5f;
  for (int step = 0; step < 5; ++step) model.forward(x, 64, Mode::train, rng);  // non-trivial running stats
  for (ParamRef& p : model.parameters())  // and non-trivial gamma, beta, biases
    for (float& v : p.value) v += 0.1f * float(rng.normal());

  const Sequential folded = fold_batchnorm(model);
  EXPECT_EQ(to_model_spec(folded), "linear(32),leaky_relu,linear(16),prelu,linear(5),elu");
  Rng r1(0), r2(0);
  const auto expected_span = model.forward(x, 64, Mode::eval, r1);
  const std::vector<float> expected(expected_span.begin(), expected_span.end());
  Sequential copy = folded;
  const auto got = copy.forward(x, 64, Mode::eval, r2);
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(got[i], expected[i], 1e-5 + 1e-5 * std::fabs(expected[i])) << i;
}

TEST(Predict, ChunkedRowsEqualOneForwardAndBadSizesThrow) {
  Sequential model = parse_model_spec("linear(8),batchnorm1d,relu,linear(3)", 5);
  Rng rng(4);
  initialize_parameters(model, rng);
  // Two whole chunks and a short one; and one row past two chunks, which must not run alone.
  for (const std::size_t rows : {predict_chunk_rows() * 2 + 7, predict_chunk_rows() * 2 + 1}) {
    std::vector<float> x(rows * 5);
    for (float& v : x) v = float(rng.normal());
    Rng unused(0);
    const auto whole = model.forward(x, rows, Mode::eval, unused);
    const std::vector<float> expected(whole.begin(), whole.end());
    const std::vector<float> got = predict(model, x, rows);
    ASSERT_EQ(got.size(), rows * 3);
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], expected[i]) << rows << " rows, " << i;
  }
  std::vector<float> x(5);
  EXPECT_THROW(predict(model, std::span(x.data(), x.size() - 1), 1), std::invalid_argument);
}

// From predict_rows_per_thread() rows a thread, each thread runs its share of the rows through its
// own copy of the model. Shares whose chunks would leave one row (2 x (2 chunks + 1) rows), uneven
// shares, a team larger than the machine, and one row short of the threshold: the outputs have the
// bits of one thread. (ctest runs this on both matrix product kernels: OpenBLAS rounds a row
// differently with the rows around it.)
TEST(Predict, SharesOfRowsOnSeveralThreadsGiveTheBitsOfOneThread) {
  Sequential model = parse_model_spec("linear(64),batchnorm1d,relu,linear(3)", 40);
  Rng rng(5);
  initialize_parameters(model, rng);
  struct RestoreThreads {  // also when an assertion ends the test early
    int saved = omp_get_max_threads();
    ~RestoreThreads() { omp_set_num_threads(saved); }
  } restore;
  const std::size_t least = predict_rows_per_thread(), chunk = least / 2;  // a share's chunk
  const std::pair<int, std::size_t> cases[] = {{2, 2 * least + 1},     {2, 2 * (2 * chunk + 1)},
                                               {2, 2 * (2 * chunk + 1) + 1}, {3, 3 * (2 * chunk + 1)},
                                               {5, 5 * least + 3},     {2, 2 * least + chunk / 2 + 3},
                                               {2, 2 * least - 1}};
  for (const auto& [threads, rows] : cases) {
    std::vector<float> x(rows * 40);
    for (float& v : x) v = float(rng.normal());
    omp_set_num_threads(1);
    const std::vector<float> one = predict(model, x, rows);
    omp_set_num_threads(threads);
    const std::vector<float> many = predict(model, x, rows);
    ASSERT_EQ(many.size(), one.size());
    for (std::size_t i = 0; i < many.size(); ++i)
      ASSERT_EQ(many[i], one[i]) << threads << " threads, " << rows << " rows, value " << i;
  }
}

}  // namespace
}  // namespace actlab
