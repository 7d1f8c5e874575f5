// actlab train: load data, build the recipe or SPEC, initialize, train, save, report.
#include "actlab/init.hpp"
#include "actlab/model_io.hpp"
#include "actlab/recipes.hpp"
#include "actlab/trainer.hpp"
#include "actlab/file_io.hpp"
#include "cli/commands.hpp"
#include "cli/progress.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <omp.h>

namespace actlab::cli {
namespace {

std::size_t count_parameters(Sequential& model) {
  std::size_t n = 0;
  for (const ParamRef& p : model.parameters()) n += p.value.size();
  return n;
}

// The seed recipe ends in ELU before the softmax; say once why that is unusual.
void warn_about_output_activation(const Sequential& model) {
  const auto* act = std::get_if<ActivationLayer>(&model.layers().back());
  if (!act || act->act.name() == "identity") return;
  fmt::print(stderr,
             "warning: the last layer is {} in front of the softmax cross-entropy: it bounds or bends the logits "
             "(elu keeps them above -alpha), which limits how confident the softmax can be; most classifiers "
             "end in a plain Linear\n",
             act->act.to_string());
}

OptimizerConfig optimizer_config(const TrainOptions& o) {
  OptimizerConfig c;
  c.kind = o.optimizer;
  c.lr = o.lr > 0 ? o.lr : (o.optimizer == "sgd" ? 0.05 : 0.001);
  c.momentum = o.momentum;
  c.nesterov = o.nesterov;
  c.weight_decay = o.weight_decay >= 0 ? o.weight_decay : (o.optimizer == "adamw" ? 0.01 : 0.0);
  return c;
}

nlohmann::ordered_json history_json(const std::vector<EpochStats>& history) {
  auto epochs = nlohmann::ordered_json::array();
  for (const EpochStats& s : history)
    epochs.push_back({{"epoch", s.epoch}, {"train_loss", s.train_loss}, {"train_accuracy", s.train_accuracy},
                      {"test_loss", s.test.loss}, {"test_accuracy", s.test.accuracy}, {"seconds", s.seconds},
                      {"lr", s.lr}});
  return epochs;
}

}  // namespace

int run_train(const TrainOptions& o) {
  set_threads(o.threads);
  Optimizer(optimizer_config(o), {});  // validates the optimizer options before any work
  const DataSplit data = load_data(o.data, o.seed);
  const std::size_t classes = std::size_t(data.train.num_classes);
  const std::string spec = o.model_spec.empty() ? recipe_spec(o.recipe, o.hidden, o.batchnorm, classes) : o.model_spec;
  Sequential model = parse_model_spec(spec, data.train.features);
  Rng init_rng(o.seed);
  initialize_parameters(model, init_rng);

  TrainConfig config;
  config.epochs = o.epochs;
  config.batch = o.batch;
  config.optimizer = optimizer_config(o);
  config.schedule = o.schedule;
  config.loss = o.loss;
  config.seed = o.seed;
  const std::string name = o.model_spec.empty() ? o.recipe : "custom";
  const std::string out_dir = o.out.empty() ? fmt::format("runs/{}-seed{}", name, o.seed) : o.out;

  fmt::print("data: {} ({} train, {} test, {} features, {} classes)\n", data.name, data.train.rows, data.test.rows,
             data.train.features, classes);
  fmt::print("model: {} ({} parameters)\n", to_model_spec(model), count_parameters(model));
  fmt::print("training: {} lr {} momentum {} weight_decay {}, {} schedule, batch {}, {} epochs, seed {}, {} threads\n",
             config.optimizer.kind, config.optimizer.lr, config.optimizer.momentum, config.optimizer.weight_decay,
             config.schedule, config.batch, config.epochs, config.seed, omp_get_max_threads());
  warn_about_output_activation(model);
  std::fflush(stdout);

  ProgressBar bar;
  TrainCallbacks callbacks;
  int epoch_now = 1;
  callbacks.on_batch = [&](std::size_t done, std::size_t total, double loss) {
    bar.update(fmt::format("epoch {}/{}", epoch_now, o.epochs), done, total, fmt::format("loss {:.4f}", loss));
  };
  callbacks.on_epoch = [&](const EpochStats& s) {
    bar.clear();
    fmt::print("epoch {:>3}/{}  loss {:.4f}  acc {:6.2f}%  test loss {:.4f}  test acc {:6.2f}%  {:.2f} s\n", s.epoch,
               o.epochs, s.train_loss, 100 * s.train_accuracy, s.test.loss, 100 * s.test.accuracy, s.seconds);
    std::fflush(stdout);
    ++epoch_now;
  };
  const std::vector<EpochStats> history = train(model, data, config, callbacks);

  save_model(out_dir, model, data.train.scaling);
  double seconds = 0.0;
  for (const EpochStats& s : history) seconds += s.seconds;
  const EvalResult& final_test = history.back().test;
  write_file_atomic(out_dir + "/history.json", history_json(history).dump(2) + "\n");

  fmt::print("test accuracy {:.2f}% (loss {:.4f}) after {} epochs, {:.1f} s training ({:.2f} s/epoch)\n",
             100 * final_test.accuracy, final_test.loss, o.epochs, seconds, seconds / o.epochs);
  fmt::print("model saved to {}/ (config.json, model.safetensors, history.json)\n", out_dir);
  if (o.json) {
    nlohmann::ordered_json j{{"test_accuracy", final_test.accuracy}, {"test_loss", final_test.loss},
                             {"epochs", o.epochs},                   {"seconds", seconds},
                             {"seconds_per_epoch", seconds / o.epochs}, {"model_dir", out_dir},
                             {"model", to_model_spec(model)},        {"data", data.name},
                             {"seed", o.seed}};
    fmt::print("{}\n", j.dump());
  }
  return 0;
}

}  // namespace actlab::cli
