// Add your own activation in one place and train with it.
//
// An activation is one table entry: name, parameters (default and range), the formulas in words, f
// and f' written once for float and double, and how to initialize the Linear in front of it.
// After register_activation, everything that reads the table knows it: parse_activation, model
// SPECs, initialize_parameters, config.json save and load, recipes. Nothing else to change.
#include <actlab/activation_entry.hpp>
#include <actlab/init.hpp>
#include <actlab/model_io.hpp>
#include <actlab/trainer.hpp>

#include <cmath>
#include <cstdio>

int main() {
  // Squareplus (So 2021, arXiv:2112.11687), a smooth ReLU from algebraic operations only:
  //   f(x) = (x + sqrt(x^2 + b)) / 2,   f'(x) = (1 + x / sqrt(x^2 + b)) / 2,   b > 0.
  // For x < 0 both are rewritten with (x + h)(h - x) = b, h = sqrt(x^2 + b): no cancellation, and
  // hypot does not overflow for large |x|.
  actlab::register_activation(actlab::make_entry(
      {.name = "squareplus",
       .params = {{.name = "b", .default_value = 4.0, .min = 1e-12, .max = 1e12}},
       .formula = "(x + sqrt(x^2 + b)) / 2",
       .derivative = "(1 + x / sqrt(x^2 + b)) / 2",
       .init = actlab::InitScheme::kaiming,
       .gain = nullptr,  // computed from f: 1/sqrt(E[f(x)^2]) for x ~ N(0, 1)
       .gain_source = "1/sqrt(E[f(x)^2]) for x ~ N(0,1), computed from f"},
      [](auto x, const actlab::ActivationParams& p) {
        using T = decltype(x);
        const T h = std::hypot(x, T(std::sqrt(p[0])));
        return x >= T(0) ? (x + h) / T(2) : T(p[0]) / (T(2) * (h - x));
      },
      [](auto x, auto /*y*/, const actlab::ActivationParams& p) {
        using T = decltype(x);
        const T h = std::hypot(x, T(std::sqrt(p[0])));
        return x >= T(0) ? (T(1) + x / h) / T(2) : T(p[0]) / (T(2) * h * (h - x));
      }));

  // The one-call API, with a parameter set by name as for any built-in activation.
  const actlab::Activation act = actlab::parse_activation("squareplus:b=1");
  std::vector<float> x{-1e30f, -1.0f, 0.0f, 2.0f}, y(4), dy(4, 1.0f), dx(4);
  actlab::activation_forward(act, y, x);
  actlab::activation_backward(act, dx, dy, x, y);
  for (std::size_t i = 0; i < x.size(); ++i) std::printf("%s(%g) = %g, f' = %g\n", act.to_string().c_str(), x[i], y[i], dx[i]);
  std::printf("init gain at b=1: %.4f\n", actlab::activation_gain(act));

  // Train with it from a SPEC, save, load.
  const actlab::DataSplit data = actlab::load_data("spirals", /*seed=*/1);
  actlab::Sequential model = actlab::parse_model_spec(
      "linear(64),batchnorm1d,squareplus,linear(64),batchnorm1d,squareplus(b=1),linear(3)", data.train.features);
  actlab::Rng rng(1);
  actlab::initialize_parameters(model, rng);
  actlab::TrainConfig config;
  config.epochs = 10;
  config.seed = 1;
  const double accuracy = actlab::train(model, data, config).back().test.accuracy;
  actlab::save_model("squareplus_model", model, data.train.scaling);
  actlab::ModelFile loaded = actlab::load_model("squareplus_model");
  const double again = actlab::evaluate(loaded.model, data.test).accuracy;
  std::printf("%s: test accuracy %.1f%% (loaded copy: %.1f%%)\n", actlab::to_model_spec(loaded.model).c_str(),
              100 * accuracy, 100 * again);
  // b = 1: f(-1e30) = 1/(4e30) with no cancellation, f(-1) = (sqrt(2) - 1)/2, f(0) = f'(0) = 1/2.
  const bool values_ok =
      std::fabs(y[0] - 2.5e-31f) < 1e-36f && std::fabs(y[1] - 0.2071068f) < 1e-6f && y[2] == 0.5f && dx[2] == 0.5f;
  return values_ok && again == accuracy && accuracy > 0.9 ? 0 : 1;
}
