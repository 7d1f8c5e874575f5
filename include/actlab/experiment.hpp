// Experiments over activation strategies: train runs written to folders, `compare` (recipes x
// seeds on the same data and budget) and `search` (successive halving over per-layer activations).
#pragma once

#include "actlab/dataset.hpp"
#include "actlab/diagnostics.hpp"
#include "actlab/trainer.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace actlab {

// history.json's text: one object per epoch (see docs/formats.md).
std::string history_json(const std::vector<EpochStats>& history);

// The outcome of one training run, with what a comparison needs from its diagnostics.
struct RunSummary {
  std::string spec;
  std::uint64_t seed = 0;
  std::string dir;               // relative to the experiment folder
  std::vector<EpochStats> history;
  double test_accuracy = 0.0;    // after the last epoch
  int best_epoch = 0;            // highest test accuracy
  double best_accuracy = 0.0;
  int epochs_to_target = 0;      // first epoch at or above the target accuracy; 0 if never
  double seconds_to_target = 0.0;
  double seconds_per_epoch = 0.0;
  double dead_fraction = 0.0;       // last epoch, over all activation layers' units
  double saturated_fraction = 0.0;
  double grad_ratio_first_last = 0.0;
  std::string diverged;  // non-empty: training stopped on NaN/inf, with the trainer's message
};

// Trains `spec` on `data` with diagnostics and writes config.json, model.safetensors, run.json,
// history.json and diagnostics.jsonl to `dir`, after removing those five files from it (an earlier
// run's model must not stay beside this run's history when this one writes none). log (if set)
// receives one line per epoch. A run that stops on NaN/inf is a result, not an error: `diverged`
// says where, and the epochs before it are kept (no model file is written for it).
RunSummary train_run(const std::string& spec, const DataSplit& data, const TrainConfig& config,
                     const std::string& dir, double target_accuracy,
                     const std::function<void(const std::string&)>& log = {});

struct CompareOptions {
  std::vector<std::string> recipes{"seed", "relu", "leaky_relu", "prelu", "elu", "selu", "gelu", "silu", "sigmoid",
                                   "tanh"};
  std::vector<std::uint64_t> seeds{0, 1, 2};
  std::vector<std::size_t> hidden{256, 128};
  bool batchnorm = true;
  std::string data = "fashion-mnist";
  TrainConfig config;             // epochs, batch, optimizer...; seed is set per run
  double target_accuracy = 0.85;
  std::string out_dir = "runs/compare";
  std::function<void(const std::string&)> log;
};

// Runs every recipe with every seed, writes out_dir/results.json and results.md (and each run's
// folder under out_dir/runs/), and returns the results JSON text. Before training it removes the
// results.json, results.md and report.html that an earlier experiment wrote in out_dir (each only
// where its first bytes are actlab's), so that a comparison cut short leaves no summary of others.
std::string run_compare(const CompareOptions& options);

struct SearchOptions {
  std::vector<std::string> activations{"relu", "leaky_relu", "prelu", "elu", "selu", "gelu", "silu", "tanh"};
  std::size_t candidates = 16;          // random assignments in the first round
  int first_round_epochs = 1;           // doubled each round while the field halves
  std::vector<std::uint64_t> final_seeds{0, 1, 2};  // the best assignment and the seed recipe, compared
  std::vector<std::size_t> hidden{256, 128};
  std::string data = "fashion-mnist";
  TrainConfig config;                   // epochs of the final comparison, batch, optimizer
  std::uint64_t seed = 0;               // draws the candidates
  std::string out_dir = "runs/search";
  std::function<void(const std::string&)> log;
};

// Successive halving over (activation per hidden layer, BatchNorm on/off): every candidate trains
// for first_round_epochs, the better half continues with twice the epochs, until one is left; it
// is then trained with final_seeds next to the seed recipe. Writes out_dir/search.json, search.md,
// results.json and results.md (removing earlier ones first, as run_compare does); returns the JSON
// text of search.json.
std::string run_search(const SearchOptions& options);

}  // namespace actlab
