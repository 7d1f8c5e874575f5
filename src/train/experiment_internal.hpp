// Shared by compare (experiment.cpp) and search (search.cpp): one recipe trained with several
// seeds, and the results.json / results.md that a report reads.
#pragma once

#include "actlab/experiment.hpp"

#include <nlohmann/json.hpp>

namespace actlab {

using nlohmann::ordered_json;

struct RecipeOutcome {
  ordered_json json;       // one entry of results.json's "recipes"
  std::string table_row;   // its row of results.md
  double accuracy_mean = 0.0, accuracy_std = 0.0;
};

// Trains `spec` once per seed into out_dir/runs/NAME-seedK and summarizes; `activations` are timed
// for the cost column.
RecipeOutcome run_recipe(const std::string& name, const std::string& spec, const std::vector<std::string>& activations,
                         const DataSplit& data, const std::vector<std::uint64_t>& seeds, const TrainConfig& base,
                         const std::string& out_dir, double target_accuracy,
                         const std::function<void(const std::string&)>& log);

// Writes out_dir/results.json and results.md; returns the JSON text.
std::string write_results(const std::string& out_dir, const std::string& data_name, const TrainConfig& config,
                          const std::vector<std::uint64_t>& seeds, const std::vector<std::size_t>& hidden,
                          bool batchnorm, double target_accuracy, const std::vector<RecipeOutcome>& outcomes,
                          const std::string& title);

}  // namespace actlab
