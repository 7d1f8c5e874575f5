// Train the "seed" network on Fashion-MNIST from C++ and save it; the whole program is under 40 lines.
// Usage: example_train_in_40_lines [MODEL_DIR [EPOCHS]]   (defaults: fashion_model, 2)
// Needs Debian's dataset-fashion-mnist. example_inference_from_saved_model loads what it saves.
#include <actlab/init.hpp>
#include <actlab/model_io.hpp>
#include <actlab/recipes.hpp>
#include <actlab/trainer.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "fashion_model";
  const int epochs = argc > 2 ? std::atoi(argv[2]) : 2;
  const actlab::DataSplit data = actlab::load_data("fashion-mnist", /*seed=*/0);  // raw uint8 pixels
  // Linear(256), BatchNorm, Leaky ReLU, Linear(128), BatchNorm, PReLU, Linear(10), ELU.
  const std::vector<std::size_t> hidden{256, 128};
  const std::string spec = actlab::recipe_spec("seed", hidden, /*batchnorm=*/true, data.train.num_classes);
  actlab::Sequential model = actlab::parse_model_spec(spec, data.train.features);
  actlab::Rng rng(0);
  actlab::initialize_parameters(model, rng);  // Kaiming/Xavier with each activation's gain

  actlab::TrainConfig config;  // SGD lr 0.05 momentum 0.9, cosine schedule, batch 128, cross-entropy
  config.epochs = epochs;
  actlab::TrainCallbacks log;
  log.on_epoch = [&](const actlab::EpochStats& s) {
    std::printf("epoch %d/%d  loss %.4f  test accuracy %.2f%%  (%.1f s)\n", s.epoch, epochs, s.train_loss,
                100 * s.test.accuracy, s.seconds);
  };
  const auto history = actlab::train(model, data, config, log);

  actlab::save_model(dir, model, data.train.scaling);  // config.json + model.safetensors
  std::printf("%s saved to %s/\n", spec.c_str(), dir.c_str());
  return history.back().test.accuracy > 0.8 ? 0 : 1;
}
