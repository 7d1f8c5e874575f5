// actlab from C++: apply an activation to your own array, then build, train, save and load a model.
// Built and run by the test suite (ctest -R example_quickstart).
#include <actlab/activation.hpp>
#include <actlab/init.hpp>
#include <actlab/model_io.hpp>
#include <actlab/trainer.hpp>

#include <cstdio>
#include <vector>

int main() {
  // 1. One activation, forward and backward, over contiguous floats.
  const actlab::Activation elu = actlab::parse_activation("elu:alpha=0.5");
  std::vector<float> x{-2.0f, -0.5f, 0.0f, 1.0f}, y(4), dy(4, 1.0f), dx(4);
  actlab::activation_forward(elu, y, x);
  actlab::activation_backward(elu, dx, dy, x, y);
  std::printf("elu(-2) = %.4f, elu'(-2) = %.4f\n", y[0], dx[0]);

  // 2. A network from a SPEC, initialized for its activations, trained on a synthetic set.
  const actlab::DataSplit data = actlab::load_data("spirals", /*seed=*/1);
  actlab::Sequential model = actlab::parse_model_spec(
      "linear(64),batchnorm1d,leaky_relu,linear(64),batchnorm1d,prelu,linear(3)", data.train.features);
  actlab::Rng rng(1);
  actlab::initialize_parameters(model, rng);
  actlab::TrainConfig config;
  config.epochs = 10;
  config.seed = 1;
  const auto history = actlab::train(model, data, config);
  std::printf("test accuracy after %d epochs: %.1f%%\n", config.epochs, 100 * history.back().test.accuracy);

  // 3. Save, load, and check that the loaded copy agrees.
  actlab::save_model("quickstart_model", model, data.train.scaling);
  actlab::ModelFile loaded = actlab::load_model("quickstart_model");
  const actlab::EvalResult again = actlab::evaluate(loaded.model, data.test);
  std::printf("loaded model: test accuracy %.1f%%\n", 100 * again.accuracy);
  return again.accuracy == history.back().test.accuracy && again.accuracy > 0.9 ? 0 : 1;
}
