// Load a saved model and run it on new inputs: the C++ side of `actlab predict`.
// Usage: example_inference_from_saved_model [MODEL_DIR [DATA]]   (defaults: fashion_model, fashion-mnist)
// MODEL_DIR is what save_model or `actlab train --out DIR` wrote (config.json + model.safetensors);
// DATA is a data source of load_data whose inputs have the model's width.
#include <actlab/fold.hpp>
#include <actlab/model_io.hpp>
#include <actlab/trainer.hpp>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "fashion_model";
  const std::string source = argc > 2 ? argv[2] : "fashion-mnist";
  actlab::ModelFile file = actlab::load_model(dir);  // validates both files against each other
  actlab::Sequential& model = file.model;
  std::printf("loaded %s: %s\n", dir.c_str(), actlab::to_model_spec(model).c_str());

  // Your inputs, as raw values (here: the first rows of the test split), scaled the way the model
  // was trained: input = raw * scale + shift, from config.json's input_scaling.
  const actlab::Dataset test = actlab::load_data(source, /*seed=*/0).test;
  const std::size_t rows = 5, width = model.in_features();
  std::vector<float> x(rows * width);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float raw = test.pixels.empty() ? test.values[i] : float(test.pixels[i]);
    x[i] = raw * file.scaling.scale + file.scaling.shift;
  }

  // Evaluation mode, as `actlab predict` runs it: BatchNorm folded into the Linear before it (the
  // same outputs within float rounding, one pass less), dropout off, nothing random.
  actlab::Sequential folded = actlab::fold_batchnorm(model);
  const std::vector<float> out = actlab::predict(folded, x, rows);
  const std::size_t classes = model.out_features();
  for (std::size_t r = 0; r < rows; ++r) {
    const float* o = out.data() + r * classes;
    std::size_t best = 0;
    for (std::size_t c = 1; c < classes; ++c)
      if (o[c] > o[best]) best = c;
    double sum = 0.0;  // softmax of the outputs, shifted by the largest: p(best) = 1 / sum
    for (std::size_t c = 0; c < classes; ++c) sum += std::exp(double(o[c]) - double(o[best]));
    const double p = 1.0 / sum;
    std::printf("row %zu: class %zu (p = %.3f), label %d\n", r, best, p, test.labels[r]);
  }

  // The same over the whole test split, in batches.
  const actlab::EvalResult result = actlab::evaluate(model, test);
  std::printf("test accuracy %.2f%% over %zu rows\n", 100 * result.accuracy, result.rows);
  return result.accuracy > 0.5 ? 0 : 1;
}
