// actlab compare and actlab search: experiments over activation strategies, then a report.
#include "actlab/experiment.hpp"
#include "actlab/report.hpp"
#include "cli/commands.hpp"

#include <algorithm>
#include <chrono>
#include <fmt/format.h>
#include <numeric>

namespace actlab::cli {
namespace {

TrainConfig experiment_config(const ExperimentCliOptions& o) {
  TrainConfig c;
  c.epochs = o.epochs;
  c.batch = o.batch;
  c.optimizer.kind = o.optimizer;
  c.optimizer.lr = o.lr.value_or(o.optimizer == "sgd" ? 0.05 : 0.001);
  c.optimizer.weight_decay = o.optimizer == "adamw" ? 0.01 : 0.0;
  Optimizer(c.optimizer, {});  // validates before hours of work
  return c;
}

std::vector<std::size_t> hidden_of(const ExperimentCliOptions& o) {
  if (o.depth > 0) return std::vector<std::size_t>(std::size_t(o.depth), o.width);
  return o.hidden;
}

std::vector<std::uint64_t> seeds_of(int count) {
  std::vector<std::uint64_t> seeds(static_cast<std::size_t>(count), 0);
  std::iota(seeds.begin(), seeds.end(), std::uint64_t(0));
  return seeds;
}

void print_line(const std::string& line) {
  fmt::print("{}\n", line);
  std::fflush(stdout);
}

void report(const std::string& dir, bool enabled) {
  if (!enabled) return;
  const ReportResult r = write_report(dir);
  fmt::print("report: {} ({} figures)\n", r.html, r.figures.size());
  if (!r.message.empty()) fmt::print("note: {}\n", r.message);
}

}  // namespace

int run_compare(const ExperimentCliOptions& o) {
  set_threads(o.threads);
  CompareOptions options;
  options.recipes = o.recipes;
  options.seeds = seeds_of(o.seeds);
  options.hidden = hidden_of(o);
  options.batchnorm = o.batchnorm;
  options.data = o.data;
  options.config = experiment_config(o);
  options.target_accuracy = o.target;
  options.out_dir = o.out.empty() ? "runs/compare" : o.out;
  options.log = print_line;
  const auto start = std::chrono::steady_clock::now();
  run_compare(options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("compare: {} recipes x {} seeds x {} epochs in {:.0f} s; results in {}/results.md and results.json\n",
             options.recipes.size(), options.seeds.size(), options.config.epochs, seconds, options.out_dir);
  report(options.out_dir, o.report);
  return 0;
}

int run_search(const ExperimentCliOptions& o) {
  set_threads(o.threads);
  SearchOptions options;
  if (!o.recipes.empty()) options.activations = o.recipes;
  options.candidates = o.candidates;
  options.first_round_epochs = o.first_epochs;
  options.final_seeds = seeds_of(o.seeds);
  options.hidden = hidden_of(o);
  options.data = o.data;
  options.config = experiment_config(o);
  options.seed = o.seed;
  options.out_dir = o.out.empty() ? "runs/search" : o.out;
  options.log = print_line;
  const auto start = std::chrono::steady_clock::now();
  run_search(options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("search: done in {:.0f} s; results in {}/search.md, search.json and results.md\n", seconds,
             options.out_dir);
  report(options.out_dir, o.report);
  return 0;
}

}  // namespace actlab::cli
