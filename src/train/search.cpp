// `search`: successive halving over the activation of each hidden layer and BatchNorm on/off.
// Candidates are ranked on a validation split carved from the training set (the last 10% of a
// seeded shuffle), never on the test set; the winner and the seed recipe are then trained on the
// whole training set with several seeds and compared on the test set.
#include "actlab/activation.hpp"
#include "actlab/experiment.hpp"
#include "actlab/file_io.hpp"
#include "actlab/recipes.hpp"
#include "train/experiment_internal.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fmt/format.h>
#include <numeric>
#include <set>

namespace actlab {
namespace {

struct Candidate {
  std::vector<std::string> activations;  // one per hidden layer
  bool batchnorm = true;
  std::string spec;
  std::vector<std::pair<int, double>> rounds;  // (epochs, validation accuracy)
};

std::string candidate_spec(const Candidate& c, const std::vector<std::size_t>& hidden, std::size_t classes) {
  std::string spec;
  for (std::size_t i = 0; i < hidden.size(); ++i)
    spec += fmt::format("linear({}),{}{},", hidden[i], c.batchnorm ? "batchnorm1d," : "", c.activations[i]);
  return spec + fmt::format("linear({})", classes);
}

// Rows [from, to) of `data` in a fresh data set (features kept in their stored form).
Dataset rows_of(const Dataset& data, const std::vector<std::size_t>& order, std::size_t from, std::size_t to) {
  Dataset out;
  out.rows = to - from;
  out.features = data.features;
  out.num_classes = data.num_classes;
  out.scaling = data.scaling;
  for (std::size_t k = from; k < to; ++k) {
    const std::size_t r = order[k];
    if (!data.pixels.empty())
      out.pixels.insert(out.pixels.end(), data.pixels.begin() + std::ptrdiff_t(r * data.features),
                        data.pixels.begin() + std::ptrdiff_t((r + 1) * data.features));
    else
      out.values.insert(out.values.end(), data.values.begin() + std::ptrdiff_t(r * data.features),
                        data.values.begin() + std::ptrdiff_t((r + 1) * data.features));
    out.labels.push_back(data.labels[r]);
  }
  return out;
}

// "A% ± S" over the final seeds; without the spread for one run, "diverged" for none.
std::string accuracy_text(double mean, double std) {
  if (std::isnan(mean)) return "diverged in every seed";
  if (std::isnan(std)) return fmt::format("{:.2f}%", 100 * mean);
  return fmt::format("{:.2f}% ± {:.2f}", 100 * mean, 100 * std);
}

// Ranking key: a diverged candidate (NaN) ranks last.
double rank_key(double accuracy) { return std::isnan(accuracy) ? -1.0 : accuracy; }

}  // namespace

std::string run_search(const SearchOptions& o) {
  if (o.activations.empty() || o.candidates < 2) throw std::invalid_argument("search: needs activations and >= 2 candidates");
  for (auto it = o.activations.begin(); it != o.activations.end(); ++it) {
    // Each is a layer of its own in a candidate's SPEC (prelu a learned one): recipes are not.
    if (*it != "prelu" && !find_activation(*it))
      throw std::invalid_argument(fmt::format("--activations: '{}' is not an activation (known: prelu, or any of "
                                              "`actlab list`)", *it));
    // Twice would make the distinct candidates fewer than counted, and the draw below endless.
    if (std::find(o.activations.begin(), it, *it) != it)
      throw std::invalid_argument(fmt::format("--activations: '{}' is listed twice", *it));
  }
  recipe_spec("relu", o.hidden, true, 2);  // the hidden widths, as compare checks them
  const DataSplit data = load_data(o.data, o.seed);
  prepare_experiment_folder(o.out_dir, /*search=*/true);
  const std::size_t classes = std::size_t(data.train.num_classes);
  Rng rng(o.seed ^ 0x5345415243480000ull);

  // Validation split for ranking.
  std::vector<std::size_t> order(data.train.rows);
  std::iota(order.begin(), order.end(), std::size_t(0));
  for (std::size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[rng.below(i + 1)]);
  const std::size_t cut = data.train.rows - data.train.rows / 10;
  // Its source is the data's: a candidate's run.json sends actlab eval to the real test rows, which
  // no candidate has seen either.
  DataSplit ranking{data.name + " (validation split)", rows_of(data.train, order, 0, cut),
                    rows_of(data.train, order, cut, data.train.rows), data.source, data.seed};

  // Distinct random candidates.
  std::vector<Candidate> field;
  std::set<std::string> seen;
  // activations^layers x BatchNorm on/off, counted without overflow (64 layers of 8 exceed 2^64).
  std::size_t possible = 2;
  for (std::size_t i = 0; i < o.hidden.size() && possible < o.candidates; ++i)
    possible = possible > SIZE_MAX / o.activations.size() ? SIZE_MAX : possible * o.activations.size();
  while (field.size() < std::min(o.candidates, possible)) {
    Candidate c;
    for (std::size_t i = 0; i < o.hidden.size(); ++i) c.activations.push_back(o.activations[rng.below(o.activations.size())]);
    c.batchnorm = rng.below(2) == 0;
    c.spec = candidate_spec(c, o.hidden, classes);
    if (seen.insert(c.spec).second) field.push_back(std::move(c));
  }

  std::vector<Candidate> all;  // every candidate's record, for the report
  int epochs = o.first_round_epochs;
  double search_seconds = 0.0;
  int epochs_trained = 0;
  std::vector<std::size_t> alive(field.size());
  std::iota(alive.begin(), alive.end(), std::size_t(0));
  for (int round = 1; alive.size() > 1; ++round, epochs *= 2) {
    if (o.log) o.log(fmt::format("round {}: {} candidates, {} epoch(s) each", round, alive.size(), epochs));
    for (std::size_t k : alive) {
      TrainConfig config = o.config;
      config.epochs = epochs;
      config.seed = o.seed;
      const RunSummary r = train_run(field[k].spec, ranking, config,
                                     fmt::format("{}/candidates/round{}-{}", o.out_dir, round, k), 0.0);
      field[k].rounds.emplace_back(epochs, r.test_accuracy);  // NaN: diverged
      for (const EpochStats& e : r.history) search_seconds += e.seconds;  // the epochs it completed
      epochs_trained += int(r.history.size());
      if (o.log)
        o.log(std::isnan(r.test_accuracy) ? fmt::format("  diverged  {}", field[k].spec)
                                          : fmt::format("  {:6.2f}%  {}", 100 * r.test_accuracy, field[k].spec));
    }
    std::stable_sort(alive.begin(), alive.end(), [&](std::size_t a, std::size_t b) {
      return rank_key(field[a].rounds.back().second) > rank_key(field[b].rounds.back().second);
    });
    alive.resize((alive.size() + 1) / 2);
  }
  const Candidate& best = field[alive.front()];
  if (o.log) o.log(fmt::format("best: {}", best.spec));

  // The winner against the seed recipe, on the full training set, judged on the test set.
  std::vector<RecipeOutcome> outcomes;
  outcomes.push_back(run_recipe("search-best", best.spec, data, o.final_seeds, o.config, o.out_dir, 0.85, o.log));
  outcomes.push_back(run_recipe("seed", recipe_spec("seed", o.hidden, true, classes), data, o.final_seeds, o.config,
                                o.out_dir, 0.85, o.log));
  write_results(o.out_dir, data.name, o.config, o.final_seeds, o.hidden, std::nullopt, 0.85, outcomes,
                "Search winner against the seed recipe");

  ordered_json candidates = ordered_json::array();
  std::string md = fmt::format(
      "# Activation search on {}\n\nSuccessive halving over {} candidates (an activation per hidden layer from "
      "{{{}}}, BatchNorm on or off), ranked by accuracy on a validation split (10% of the training set), a "
      "diverged candidate last; {} epoch(s) in the first round, doubling each round. Search cost: {} "
      "candidate-epochs completed, {:.1f} s.\n\n"
      "| candidate | {} |\n|---|{}\n",
      data.name, field.size(), fmt::join(o.activations, ", "), o.first_round_epochs, epochs_trained, search_seconds,
      "validation accuracy by round (epochs)", "---|");
  for (const Candidate& c : field) {
    ordered_json rounds = ordered_json::array();
    std::string cells;
    for (const auto& [e, a] : c.rounds) {
      const ordered_json accuracy = std::isnan(a) ? ordered_json(nullptr) : ordered_json(a);
      rounds.push_back({{"epochs", e}, {"validation_accuracy", accuracy}});
      cells += std::isnan(a) ? fmt::format("diverged ({}) ", e) : fmt::format("{:.2f}% ({}) ", 100 * a, e);
    }
    candidates.push_back({{"spec", c.spec}, {"batchnorm", c.batchnorm}, {"rounds", rounds}});
    md += fmt::format("| `{}` | {}|\n", c.spec, cells);
  }
  const ordered_json search{{"data", data.name},
                            {"activations", o.activations},
                            {"hidden", o.hidden},
                            {"first_round_epochs", o.first_round_epochs},
                            {"candidate_epochs", epochs_trained},
                            {"search_seconds", search_seconds},
                            {"best", best.spec},
                            {"final_seeds", o.final_seeds},
                            {"final", {outcomes[0].json, outcomes[1].json}},
                            {"candidates", candidates}};
  md += fmt::format(
      "\n## Result\n\nBest: `{}`: {} test accuracy over seeds {} ({} epochs), against the seed recipe's {}. "
      "See results.md for the full table, and the report (report.html, or `actlab report DIR`) for the curves.\n",
      best.spec, accuracy_text(outcomes[0].accuracy_mean, outcomes[0].accuracy_std), fmt::join(o.final_seeds, ","),
      o.config.epochs, accuracy_text(outcomes[1].accuracy_mean, outcomes[1].accuracy_std));
  const std::string text = search.dump(2) + "\n";
  write_file_atomic(o.out_dir + "/search.json", text);
  write_file_atomic(o.out_dir + "/search.md", md);
  return text;
}

}  // namespace actlab
