// Training runs written to folders, and `compare`: every recipe with every seed on the same data
// and budget, summarized in results.json and results.md.
#include "actlab/experiment.hpp"
#include "train/experiment_internal.hpp"

#include "actlab/bench.hpp"
#include "actlab/file_io.hpp"
#include "actlab/init.hpp"
#include "actlab/model_io.hpp"
#include "actlab/recipes.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace actlab {
namespace {

// NaN for no values: a summary over no runs (every seed diverged) is none, not 0.
double mean(const std::vector<double>& v) {
  double s = 0.0;
  for (double x : v) s += x;
  return v.empty() ? std::nan("") : s / double(v.size());
}

// Sample standard deviation (n - 1); NaN for fewer than two values, where it is undefined.
double stddev(const std::vector<double>& v) {
  if (v.size() < 2) return std::nan("");
  const double m = mean(v);
  double s = 0.0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / double(v.size() - 1));
}

ordered_json number_or_null(double v) { return std::isnan(v) ? ordered_json(nullptr) : ordered_json(v); }

// A table cell: "-" where there is no number.
std::string cell(double v, const char* format) {
  return std::isnan(v) ? std::string("-") : fmt::format(fmt::runtime(format), v);
}

ordered_json run_json(const RunSummary& r) {
  const bool any_epoch = r.best_epoch > 0, reached = r.epochs_to_target > 0;
  return {{"seed", r.seed},
          {"dir", r.dir},
          {"test_accuracy", number_or_null(r.test_accuracy)},
          {"best_epoch", any_epoch ? ordered_json(r.best_epoch) : ordered_json(nullptr)},
          {"best_accuracy", any_epoch ? ordered_json(r.best_accuracy) : ordered_json(nullptr)},
          {"epochs_to_target", reached ? ordered_json(r.epochs_to_target) : ordered_json(nullptr)},
          {"seconds_to_target", reached ? ordered_json(r.seconds_to_target) : ordered_json(nullptr)},
          {"seconds_per_epoch", number_or_null(r.seconds_per_epoch)},
          {"dead_fraction", number_or_null(r.dead_fraction)},
          {"saturated_fraction", number_or_null(r.saturated_fraction)},
          {"grad_ratio_first_last", number_or_null(r.grad_ratio_first_last)},
          {"diverged", r.diverged.empty() ? ordered_json(nullptr) : ordered_json(r.diverged)}};
}

// The distinct activations of a SPEC's layers in order (PReLU as "prelu"), as parse_activation reads
// them: what the cost column times.
std::vector<std::string> activations_of(const std::string& spec, std::size_t in_features) {
  std::vector<std::string> out;
  const Sequential model = parse_model_spec(spec, in_features);  // (a temporary's layers() would dangle)
  for (const Layer& layer : model.layers()) {
    std::string name;
    if (const auto* a = std::get_if<ActivationLayer>(&layer)) name = a->act.to_string();
    else if (std::holds_alternative<PReLU>(layer)) name = "prelu";
    else continue;
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  return out;
}

}  // namespace

void prepare_experiment_folder(const std::string& out_dir, bool search) {
  namespace fs = std::filesystem;
  check_output_folder(out_dir);
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw std::invalid_argument(fmt::format("--out {}: cannot make the folder ({})", out_dir, ec.message()));
  // Only files that the experiment writes, and only where their first bytes are what actlab writes
  // there: --out may be a folder of the user's own (--out .).
  struct Summary {
    const char* name;
    std::vector<const char*> marks;  // all of them within the first bytes
  };
  std::vector<Summary> summaries = {{"results.json", {"{\n  \"data\": ", "\"seeds\""}},
                                    {"results.md", {"# Comparison on "}},
                                    {"results.md", {"# Search winner against the seed recipe on "}},
                                    {"report.html", {"<!DOCTYPE html>", "<title>actlab "}}};
  if (search) {
    summaries.push_back({"search.json", {"{\n  \"data\": ", "\"activations\""}});
    summaries.push_back({"search.md", {"# Activation search on "}});
  }
  for (const Summary& s : summaries) {
    const fs::path path = fs::path(out_dir) / s.name;
    std::ifstream in(path, std::ios::binary);
    std::string head(512, '\0');
    in.read(head.data(), std::streamsize(head.size()));
    head.resize(std::size_t(in.gcount()));
    if (std::all_of(s.marks.begin(), s.marks.end(), [&](const char* m) { return head.find(m) != std::string::npos; }))
      fs::remove(path, ec);
  }
}

std::string history_json(const std::vector<EpochStats>& history) {
  auto epochs = ordered_json::array();
  for (const EpochStats& s : history)
    epochs.push_back({{"epoch", s.epoch}, {"train_loss", s.train_loss}, {"train_accuracy", s.train_accuracy},
                      {"test_loss", s.test.loss}, {"test_accuracy", s.test.accuracy}, {"seconds", s.seconds},
                      {"matmul_seconds", s.matmul_seconds}, {"lr", s.lr}});
  return epochs.dump(2) + "\n";
}

RunSummary train_run(const std::string& spec, const DataSplit& data, const TrainConfig& config,
                     const std::string& dir, double target_accuracy,
                     const std::function<void(const std::string&)>& log) {
  // An earlier run's files in `dir` would otherwise stand beside this run's history: a run that
  // diverges writes no model, and `eval` or `report` would read the old one.
  for (const char* name : {"config.json", "model.safetensors", "run.json", "history.json", "diagnostics.jsonl"}) {
    std::error_code ec;
    std::filesystem::remove(std::filesystem::path(dir) / name, ec);
  }
  Sequential model = parse_model_spec(spec, data.train.features);
  Rng init_rng(config.seed);
  initialize_parameters(model, init_rng);
  Diagnostics diagnostics(model);
  std::string health_text;
  EpochHealth last_health;
  TrainCallbacks callbacks;
  callbacks.observe = [&](std::size_t step) { diagnostics.observe_step(step); };
  callbacks.on_epoch = [&](const EpochStats& s) {
    last_health = diagnostics.end_epoch(s.epoch, data.test);
    health_text += Diagnostics::to_json_line(last_health) + "\n";
    if (log)
      log(fmt::format("  epoch {:>3}  loss {:.4f}  test acc {:6.2f}%  {:.2f} s", s.epoch, s.train_loss,
                      100 * s.test.accuracy, s.seconds));
  };
  Trainer trainer(model, data, config);
  RunSummary r;
  try {
    trainer.run(callbacks);
  } catch (const NonFiniteError& e) {
    r.diverged = e.what();
    if (log) log(fmt::format("  diverged: {}", e.what()));
  }

  // The gradients were finite, but the last update can still overflow a weight: such a model
  // cannot be saved, and the run counts as diverged.
  if (r.diverged.empty()) {
    for (const auto& [name, t] : model_tensors(model))
      if (std::any_of(t.f32.begin(), t.f32.end(), [](float v) { return !std::isfinite(v); })) {
        r.diverged = fmt::format("{} holds a non-finite value after the last step", name);
        if (log) log(fmt::format("  diverged: {}", r.diverged));
        break;
      }
  }
  std::filesystem::create_directories(dir);
  if (r.diverged.empty()) {
    save_model(dir, model, data.train.scaling);
    if (!data.source.empty()) write_run_record(dir, {data.source, data.seed});  // for actlab eval
  }
  write_file_atomic(dir + "/history.json", history_json(trainer.history()));
  write_file_atomic(dir + "/diagnostics.jsonl", health_text);

  r.spec = spec;
  r.seed = config.seed;
  r.history = trainer.history();
  double elapsed = 0.0;
  for (const EpochStats& e : r.history) {
    elapsed += e.seconds;
    if (r.best_epoch == 0 || e.test.accuracy > r.best_accuracy)
      r.best_accuracy = e.test.accuracy, r.best_epoch = e.epoch;
    if (r.epochs_to_target == 0 && e.test.accuracy >= target_accuracy)
      r.epochs_to_target = e.epoch, r.seconds_to_target = elapsed;
  }
  if (r.history.empty()) {  // no epoch finished: none of the epoch's numbers exist
    r.test_accuracy = r.seconds_per_epoch = r.dead_fraction = r.saturated_fraction = r.grad_ratio_first_last =
        std::nan("");
    return r;
  }
  r.test_accuracy = r.diverged.empty() ? r.history.back().test.accuracy : std::nan("");
  r.seconds_per_epoch = elapsed / double(r.history.size());
  double units = 0.0;
  for (const ActivationHealth& a : last_health.activations) {
    r.dead_fraction += a.dead_fraction * double(a.units);
    r.saturated_fraction += a.saturated_fraction * double(a.units);
    units += double(a.units);
  }
  if (units > 0) r.dead_fraction /= units, r.saturated_fraction /= units;
  r.grad_ratio_first_last = last_health.grad_ratio_first_last;
  return r;
}

RecipeOutcome run_recipe(const std::string& name, const std::string& spec, const DataSplit& data,
                         const std::vector<std::uint64_t>& seeds, const TrainConfig& base,
                         const std::string& out_dir, double target_accuracy,
                         const std::function<void(const std::string&)>& log) {
  ordered_json runs = ordered_json::array();
  std::vector<double> acc, best, epochs_to, seconds_to, dead, saturated, ratio, per_epoch;
  std::size_t diverged = 0;
  for (std::uint64_t seed : seeds) {
    TrainConfig config = base;
    config.seed = seed;
    const std::string dir = fmt::format("runs/{}-seed{}", name, seed);
    if (log) log(fmt::format("{} seed {}: {}", name, seed, spec));
    RunSummary r = train_run(spec, data, config, out_dir + "/" + dir, target_accuracy, log);
    r.dir = dir;
    runs.push_back(run_json(r));
    if (!r.diverged.empty()) {  // summarized over the runs that finished; the count is reported
      ++diverged;
      continue;
    }
    acc.push_back(r.test_accuracy);
    best.push_back(r.best_epoch);
    if (r.epochs_to_target) epochs_to.push_back(r.epochs_to_target), seconds_to.push_back(r.seconds_to_target);
    dead.push_back(r.dead_fraction);
    saturated.push_back(r.saturated_fraction);
    ratio.push_back(r.grad_ratio_first_last);
    per_epoch.push_back(r.seconds_per_epoch);
  }
  std::vector<double> costs;
  for (const std::string& a : activations_of(spec, data.train.features)) costs.push_back(activation_cost_ns(a));
  const double cost = mean(costs);
  const bool reached = epochs_to.size() == seeds.size();
  RecipeOutcome out;
  out.accuracy_mean = mean(acc);
  out.accuracy_std = stddev(acc);
  out.json = {{"recipe", name},
              {"spec", spec},
              {"test_accuracy_mean", number_or_null(out.accuracy_mean)},
              {"test_accuracy_std", number_or_null(out.accuracy_std)},
              {"diverged_runs", diverged},
              {"best_epoch_mean", number_or_null(mean(best))},
              {"epochs_to_target_mean", reached ? ordered_json(mean(epochs_to)) : ordered_json(nullptr)},
              {"seconds_to_target_mean", reached ? ordered_json(mean(seconds_to)) : ordered_json(nullptr)},
              {"dead_fraction_mean", number_or_null(mean(dead))},
              {"saturated_fraction_mean", number_or_null(mean(saturated))},
              {"grad_ratio_first_last_mean", number_or_null(mean(ratio))},
              {"seconds_per_epoch_mean", number_or_null(mean(per_epoch))},
              {"activation_cost_ns", number_or_null(cost)},
              {"runs", runs}};
  const std::string not_reached = fmt::format("not in all seeds ({}/{})", epochs_to.size(), seeds.size());
  const std::string spread = acc.size() == 1 ? " (1 run)" : fmt::format(" ± {:.2f}", 100 * out.accuracy_std);
  const std::string accuracy =
      acc.empty() ? fmt::format("diverged ({}/{})", diverged, seeds.size())
                  : fmt::format("{:.2f}%{}{}", 100 * out.accuracy_mean, spread,
                                diverged ? fmt::format(" ({}/{} diverged)", diverged, seeds.size()) : "");
  out.table_row = fmt::format(
      "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", name, accuracy, cell(mean(best), "{:.1f}"),
      reached ? fmt::format("{:.1f}", mean(epochs_to)) : not_reached,
      reached ? fmt::format("{:.1f}", mean(seconds_to)) : "-", cell(100 * mean(dead), "{:.1f}%"),
      cell(100 * mean(saturated), "{:.1f}%"), cell(mean(ratio), "{:.3g}"), cell(mean(per_epoch), "{:.2f}"),
      cell(cost, "{:.2f}"));
  return out;
}

std::string results_table_header(double target_accuracy) {
  return fmt::format(
      "| recipe | test accuracy (mean ± std) | best epoch | epochs to {0:g}% | seconds to {0:g}% | dead | "
      "saturated | grad first/last | s/epoch | fwd+bwd ns/elem |\n|---|---|---|---|---|---|---|---|---|---|\n",
      100 * target_accuracy);
}

std::string write_results(const std::string& out_dir, const std::string& data_name, const TrainConfig& config,
                          const std::vector<std::uint64_t>& seeds, const std::vector<std::size_t>& hidden,
                          std::optional<bool> batchnorm, double target_accuracy,
                          const std::vector<RecipeOutcome>& outcomes,
                          const std::string& title) {
  ordered_json recipes = ordered_json::array();
  std::string table = results_table_header(target_accuracy);
  for (const RecipeOutcome& r : outcomes) {
    recipes.push_back(r.json);
    table += r.table_row;
  }
  ordered_json results{{"data", data_name},
                       {"epochs", config.epochs},
                       {"seeds", seeds},
                       {"hidden", hidden},
                       {"depth", hidden.size()},
                       {"batchnorm", batchnorm ? ordered_json(*batchnorm) : ordered_json(nullptr)},
                       {"target_accuracy", target_accuracy},
                       {"batch", config.batch},
                       {"optimizer", config.optimizer.kind},
                       {"lr", config.optimizer.lr},
                       {"recipes", recipes}};
  const std::string text = results.dump(2) + "\n";
  std::filesystem::create_directories(out_dir);
  write_file_atomic(out_dir + "/results.json", text);
  const std::string header = fmt::format(
      "# {} on {}\n\n{} epochs, seeds {}, hidden {}, BatchNorm {}, batch {}, {} lr {}. Accuracy is on the "
      "test set after the last epoch; dead and saturated are shares of the units of every activation layer in "
      "the last epoch (the seed recipe's output ELU included); cost is the measured forward + backward time per "
      "element of the recipe's activations, averaged over the distinct ones in its SPEC; \"-\" where there is no "
      "number (no run finished, or no activation).\n\n",
      title, data_name, config.epochs, fmt::join(seeds, ","), fmt::join(hidden, ","),
      batchnorm ? (*batchnorm ? "on" : "off") : "as each recipe's SPEC says",
      config.batch, config.optimizer.kind, config.optimizer.lr);
  write_file_atomic(out_dir + "/results.md", header + table);
  return text;
}

std::string run_compare(const CompareOptions& o) {
  if (o.recipes.empty() || o.seeds.empty()) throw std::invalid_argument("compare: no recipes or no seeds");
  for (const std::string& recipe : o.recipes) recipe_spec(recipe, o.hidden, o.batchnorm, 2);  // validates names
  for (auto it = o.recipes.begin(); it != o.recipes.end(); ++it)  // each trains into a folder of its name
    if (std::find(o.recipes.begin(), it, *it) != it)
      throw std::invalid_argument(fmt::format("--recipes: '{}' is listed twice", *it));
  const DataSplit data = load_data(o.data, 0);
  prepare_experiment_folder(o.out_dir, /*search=*/false);
  const std::size_t classes = std::size_t(data.train.num_classes);
  std::vector<RecipeOutcome> outcomes;
  for (const std::string& recipe : o.recipes)
    outcomes.push_back(run_recipe(recipe, recipe_spec(recipe, o.hidden, o.batchnorm, classes), data, o.seeds,
                                  o.config, o.out_dir, o.target_accuracy, o.log));
  return write_results(o.out_dir, data.name, o.config, o.seeds, o.hidden, o.batchnorm, o.target_accuracy, outcomes,
                       "Comparison");
}

}  // namespace actlab
