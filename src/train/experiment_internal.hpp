// Shared by compare (experiment.cpp) and search (search.cpp): one recipe trained with several
// seeds, and the results.json / results.md that a report reads.
#pragma once

#include "actlab/experiment.hpp"

#include <nlohmann/json.hpp>

#include <optional>

namespace actlab {

using nlohmann::ordered_json;

struct RecipeOutcome {
  ordered_json json;       // one entry of results.json's "recipes"
  std::string table_row;   // its row of results.md
  double accuracy_mean = 0.0, accuracy_std = 0.0;
};

// Makes out_dir (std::invalid_argument when a file is in the way) and removes the summaries and the
// report that an earlier experiment of the same kind wrote there (results.*, report.html, and for a
// search search.*; each only if its first bytes are actlab's), so that one cut short leaves none
// that describe other runs.
void prepare_experiment_folder(const std::string& out_dir, bool search);

// Trains `spec` once per seed into out_dir/runs/NAME-seedK and summarizes; the distinct activations
// of its layers are timed for the cost column.
RecipeOutcome run_recipe(const std::string& name, const std::string& spec, const DataSplit& data,
                         const std::vector<std::uint64_t>& seeds, const TrainConfig& base,
                         const std::string& out_dir, double target_accuracy,
                         const std::function<void(const std::string&)>& log);

// Writes out_dir/results.json and results.md; returns the JSON text. batchnorm: whether every recipe
// has BatchNorm, or std::nullopt where it differs between them (search: the winner's is its own).
std::string write_results(const std::string& out_dir, const std::string& data_name, const TrainConfig& config,
                          const std::vector<std::uint64_t>& seeds, const std::vector<std::size_t>& hidden,
                          std::optional<bool> batchnorm, double target_accuracy,
                          const std::vector<RecipeOutcome>& outcomes,
                          const std::string& title);

}  // namespace actlab
