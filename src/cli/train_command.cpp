// actlab train: load data, build the recipe or SPEC, initialize (or resume from a checkpoint),
// train with progress, save, report. Ctrl-C stops at the next batch boundary with a checkpoint.
#include "actlab/diagnostics.hpp"
#include "actlab/experiment.hpp"
#include "actlab/file_io.hpp"
#include "actlab/init.hpp"
#include "actlab/model_io.hpp"
#include "actlab/recipes.hpp"
#include "actlab/trainer.hpp"
#include "cli/commands.hpp"
#include "cli/progress.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <omp.h>
#include <optional>
#include <unistd.h>

namespace actlab::cli {
namespace {

// Set by the handler, which may run on any of the process's threads (OpenMP's among them): an
// atomic, lock-free so that the handler may touch it.
std::atomic<int> interrupted{0};
static_assert(std::atomic<int>::is_always_lock_free);

// The first Ctrl-C asks the run to stop at the next batch boundary; a second one ends the process
// at once, as Ctrl-C does by default (files are written whole or not at all, so none is left torn).
extern "C" void on_interrupt(int) {
  if (interrupted.exchange(1) == 0) {
    constexpr char note[] = "\nstopping after this batch (Ctrl-C again to quit at once)\n";
    (void)!write(STDERR_FILENO, note, sizeof note - 1);
    return;
  }
  std::signal(SIGINT, SIG_DFL);
  std::raise(SIGINT);
}

// Ctrl-C is caught from the first step until the command returns, saving included: a Ctrl-C that
// lands during or after the last step must not kill the process halfway through writing the
// finished model.
class InterruptGuard {
 public:
  InterruptGuard() {
    interrupted = 0;
    previous_ = std::signal(SIGINT, on_interrupt);
  }
  ~InterruptGuard() { std::signal(SIGINT, previous_ == SIG_ERR ? SIG_DFL : previous_); }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  void (*previous_)(int) = SIG_DFL;
};

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
  c.lr = o.lr.value_or(o.optimizer == "sgd" ? 0.05 : 0.001);  // checked by the Optimizer
  c.momentum = o.momentum;
  c.nesterov = o.nesterov;
  c.weight_decay = o.weight_decay.value_or(o.optimizer == "adamw" ? 0.01 : 0.0);
  return c;
}

TrainConfig train_config(const TrainOptions& o) {
  TrainConfig config;
  config.epochs = o.epochs;
  config.batch = o.batch;
  config.optimizer = optimizer_config(o);
  config.schedule = o.schedule;
  config.loss = o.loss;
  config.seed = o.seed;
  return config;
}

// What a run needs besides the model and the train config; kept in the checkpoint for --resume.
struct RunSetup {
  std::string data, name, out_dir;
};

std::string setup_json(const RunSetup& r) {
  return nlohmann::ordered_json{{"data", r.data}, {"name", r.name}, {"out_dir", r.out_dir}}.dump();
}

RunSetup setup_from_json(const std::string& text, const std::string& source) {
  try {
    const auto j = nlohmann::json::parse(text);
    return {j.at("data").get<std::string>(), j.at("name").get<std::string>(), j.at("out_dir").get<std::string>()};
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("{}: unreadable run record ({})", source, e.what()));
  }
}

bool given(const TrainOptions& o, const char* name) {
  return std::find(o.given.begin(), o.given.end(), name) != o.given.end();
}

// With --resume the run's settings come from its checkpoint: any other setting on the command line
// is refused, also one given at its default value.
void check_resume_options(const TrainOptions& o) {
  for (const std::string& name : o.given)
    if (name != "--resume" && name != "--threads" && name != "--kernels" && name != "--checkpoint-every" &&
        name != "--json" && name != "--no-diagnostics")
      throw std::invalid_argument(fmt::format(
          "{}: --resume continues a run with the settings stored in its checkpoint; only --threads, --kernels, "
          "--checkpoint-every, --no-diagnostics and --json may be given with it",
          name));
}

}  // namespace

int run_train(const TrainOptions& o) {
  set_threads(o.threads);
  RunSetup setup;
  TrainConfig config;
  Sequential model;
  InputScaling scaling;
  std::string checkpoint;
  std::optional<std::string> resumed_diagnostics;  // the checkpoint's diagnostics accumulators
  if (!o.resume.empty()) {
    check_resume_options(o);
    check_output_folder(o.resume);  // writable, before any work
    checkpoint = o.resume + "/checkpoint.safetensors";
    const CheckpointInfo info = read_checkpoint_info(checkpoint);
    setup = setup_from_json(info.extra.count("run") ? info.extra.at("run") : "", checkpoint);
    if (const auto it = info.extra.find("diagnostics"); it != info.extra.end()) resumed_diagnostics = it->second;
    // The run goes on where its checkpoint is, whatever folder it was started from (the stored
    // folder may be relative to another working directory, or name any place at all).
    setup.out_dir = o.resume;
    config = info.config;
    model = model_from_config_json(info.model_config_json, checkpoint).model;
  } else {
    config = train_config(o);
    Optimizer(config.optimizer, {});  // validates the optimizer options before any work
    for (const char* name : {"--momentum", "--nesterov"})  // adam and adamw have none
      if (config.optimizer.kind != "sgd" && given(o, name))
        throw std::invalid_argument(fmt::format("{} applies to sgd, not {}", name, config.optimizer.kind));
    setup.data = absolute_data_source(o.data);  // the same data when resumed from another folder
    setup.name = o.model_spec.empty() ? o.recipe : "custom";
    setup.out_dir = o.out.empty() ? fmt::format("runs/{}-seed{}", setup.name, o.seed) : o.out;
    check_output_folder(setup.out_dir);  // before the data is loaded, not after the training
    // A checkpoint there belongs to a run that did not finish: a new run would overwrite it and,
    // on a failure, name it as its own last good state.
    if (const std::string left = setup.out_dir + "/checkpoint.safetensors"; std::filesystem::exists(left))
      throw std::invalid_argument(fmt::format(
          "--out {}: it holds the checkpoint of a run that did not finish; continue that run with "
          "`actlab train --resume {}`, or delete {} to start over",
          setup.out_dir, setup.out_dir, left));
  }
  const DataSplit data = load_data(setup.data, config.seed);
  scaling = data.train.scaling;
  if (o.resume.empty()) {
    const std::size_t classes = std::size_t(data.train.num_classes);
    const std::string spec =
        o.model_spec.empty() ? recipe_spec(o.recipe, o.hidden, o.batchnorm, classes) : o.model_spec;
    model = parse_model_spec(spec, data.train.features);
    Rng init_rng(config.seed);
    initialize_parameters(model, init_rng);
    checkpoint = setup.out_dir + "/checkpoint.safetensors";
  }
  Trainer trainer(model, data, config);
  if (!o.resume.empty()) trainer.restore(checkpoint);

  // Diagnostics: one JSON line per epoch in diagnostics.jsonl (earlier epochs kept on --resume,
  // and the resumed epoch's accumulators restored from the checkpoint where it has them).
  std::unique_ptr<Diagnostics> diagnostics;
  std::vector<std::string> health_lines;
  const std::string health_path = setup.out_dir + "/diagnostics.jsonl";
  if (o.diagnostics) {
    diagnostics = std::make_unique<Diagnostics>(model);
    if (resumed_diagnostics) {
      try {
        diagnostics->restore_state(*resumed_diagnostics);
      } catch (const std::runtime_error& e) {
        throw std::runtime_error(fmt::format("{}: {}", checkpoint, e.what()));
      }
    }
    if (!o.resume.empty() && std::filesystem::exists(health_path)) {
      const auto bytes = read_file(health_path);
      std::string text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      for (std::size_t start = 0, end; start < text.size() && health_lines.size() < trainer.history().size();
           start = end + 1) {
        end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        health_lines.push_back(text.substr(start, end - start));
      }
    }
  }

  fmt::print("data: {} ({} train, {} test, {} features, {} classes)\n", data.name, data.train.rows, data.test.rows,
             data.train.features, data.train.num_classes);
  fmt::print("model: {} ({} parameters)\n", to_model_spec(model), count_parameters(model));
  fmt::print("training: {} lr {} momentum {} weight_decay {}, {} schedule, batch {}, {} epochs, seed {}, {} threads\n",
             config.optimizer.kind, config.optimizer.lr, config.optimizer.momentum, config.optimizer.weight_decay,
             config.schedule, config.batch, config.epochs, config.seed, omp_get_max_threads());
  if (!o.resume.empty())
    fmt::print("resuming from {} at step {} ({} of {} epochs done)\n", checkpoint, trainer.step(),
               trainer.history().size(), config.epochs);
  warn_about_output_activation(model);
  std::fflush(stdout);

  std::filesystem::create_directories(setup.out_dir);
  if (const std::size_t n = remove_stale_temporaries(setup.out_dir))
    fmt::print("note: removed {} temporary file{} that a killed run left in {}\n", n, n == 1 ? "" : "s",
               setup.out_dir);
  const auto save_checkpoint = [&] {
    std::map<std::string, std::string> extra{{"run", setup_json(setup)}};
    if (diagnostics) extra["diagnostics"] = diagnostics->state();
    trainer.save_checkpoint(checkpoint, extra);
  };

  ProgressBar bar;
  TrainCallbacks callbacks;
  callbacks.on_batch = [&](std::size_t done, std::size_t total, double loss) {
    bar.update(fmt::format("epoch {}/{}", trainer.history().size() + 1, config.epochs), done, total,
               fmt::format("loss {:.4f}", loss));
  };
  callbacks.on_epoch = [&](const EpochStats& s) {
    bar.clear();
    fmt::print("epoch {:>3}/{}  loss {:.4f}  acc {:6.2f}%  test loss {:.4f}  test acc {:6.2f}%  {:.2f} s\n", s.epoch,
               config.epochs, s.train_loss, 100 * s.train_accuracy, s.test.loss, 100 * s.test.accuracy, s.seconds);
    if (diagnostics) {
      const EpochHealth health = diagnostics->end_epoch(s.epoch, data.test);
      health_lines.push_back(Diagnostics::to_json_line(health));
      std::string text;
      for (const std::string& line : health_lines) text += line + "\n";
      write_file_atomic(health_path, text);
      fmt::print("{}\n", Diagnostics::summary(health));
      for (const std::string& w : health.warnings) fmt::print("warning: {}\n", w);
    }
    std::fflush(stdout);
  };
  if (diagnostics) callbacks.observe = [&](std::size_t step) { diagnostics->observe_step(step); };
  callbacks.on_step = [&](std::size_t step) {
    if (o.checkpoint_every > 0 && step % o.checkpoint_every == 0) save_checkpoint();
  };
  callbacks.stop_requested = [] { return interrupted != 0; };
  const InterruptGuard interrupt_guard;

  bool finished = false;
  try {
    finished = trainer.run(callbacks);
  } catch (const NonFiniteError& e) {
    bar.clear();
    throw std::runtime_error(fmt::format("{}{}", e.what(),
                                         std::filesystem::exists(checkpoint)
                                             ? fmt::format("; the last good checkpoint is {}", checkpoint)
                                             : std::string()));
  }
  if (!finished) {
    bar.clear();
    save_checkpoint();
    fmt::print("interrupted at step {} (epoch {}): checkpoint saved to {}\ncontinue with: actlab train --resume {}\n",
               trainer.step(), trainer.history().size() + 1, checkpoint, setup.out_dir);
    return 130;
  }

  const std::vector<EpochStats>& history = trainer.history();
  save_model(setup.out_dir, model, scaling);
  write_file_atomic(setup.out_dir + "/history.json", history_json(history));
  write_run_record(setup.out_dir, {setup.data, config.seed});  // for actlab eval: the same test rows
  std::filesystem::remove(checkpoint);  // the finished model supersedes it
  double seconds = 0.0;
  for (const EpochStats& s : history) seconds += s.seconds;
  const EvalResult& final_test = history.back().test;
  const int epochs = config.epochs;
  fmt::print("test accuracy {:.2f}% (loss {:.4f}) after {} epochs, {:.1f} s training ({:.2f} s/epoch)\n",
             100 * final_test.accuracy, final_test.loss, epochs, seconds, seconds / epochs);
  fmt::print("model saved to {}/ (config.json, model.safetensors, history.json, run.json)\n", setup.out_dir);
  if (interrupted) fmt::print("note: Ctrl-C came during or after the last step; the finished run was saved\n");
  if (o.json) {
    nlohmann::ordered_json j{{"test_accuracy", final_test.accuracy}, {"test_loss", final_test.loss},
                             {"epochs", epochs},                     {"seconds", seconds},
                             {"seconds_per_epoch", seconds / epochs}, {"model_dir", setup.out_dir},
                             {"model", to_model_spec(model)},        {"data", data.name},
                             {"seed", config.seed}};
    fmt::print("{}\n", j.dump());
  }
  return 0;
}

}  // namespace actlab::cli
