// compare and search as a user relies on them: summaries that describe the runs beside them, "no
// number" where there is none, and inputs that cannot make the search crash or loop. Small
// synthetic data and one or two epochs: each test takes well under a second.
#include "actlab/experiment.hpp"
#include "io_test_util.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>

namespace actlab {
namespace {

namespace fs = std::filesystem;
using test::TempDir;
using test::throws_with;

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

CompareOptions small_compare(const fs::path& out) {
  CompareOptions o;
  o.recipes = {"relu"};
  o.seeds = {0};
  o.hidden = {16};
  o.batchnorm = false;
  o.data = "spirals:100";
  o.config.epochs = 2;
  o.out_dir = out.string();
  return o;
}

// A run that diverges writes no model: one left there by an earlier run must not stay beside the
// new history, where eval and report would read it as this run's.
TEST(Experiment, ADivergedRunLeavesNoEarlierModel) {
  TempDir t;
  CompareOptions o = small_compare(t.dir / "c");
  run_compare(o);
  const fs::path run = t.dir / "c" / "runs" / "relu-seed0";
  ASSERT_TRUE(fs::exists(run / "model.safetensors"));
  o.config.optimizer.lr = 1e30;
  o.config.optimizer.momentum = 0;
  const auto results = nlohmann::json::parse(run_compare(o));
  EXPECT_EQ(results["recipes"][0]["diverged_runs"], 1);
  EXPECT_FALSE(fs::exists(run / "model.safetensors"));
  EXPECT_FALSE(fs::exists(run / "config.json"));
  EXPECT_FALSE(fs::exists(run / "run.json"));
  EXPECT_TRUE(fs::exists(run / "history.json"));

  // Every seed diverged: no number is made up for the recipe, in the JSON or the table.
  const auto& recipe = results["recipes"][0];
  for (const char* key : {"test_accuracy_mean", "test_accuracy_std", "best_epoch_mean", "dead_fraction_mean",
                          "saturated_fraction_mean", "grad_ratio_first_last_mean", "seconds_per_epoch_mean"})
    EXPECT_TRUE(recipe[key].is_null()) << key;
  const std::string table = read_text(t.dir / "c" / "results.md");
  EXPECT_NE(table.find("| relu | diverged (1/1) | - | not in all seeds (0/1) | - | - | - | - | - |"),
            std::string::npos)
      << table;
}

// One finished run has no spread: the table says so instead of "± 0.00"; a run that never reached
// the target has no epoch for it (null, not 0).
TEST(Experiment, OneRunHasNoSpreadAndAMissedTargetNoEpoch) {
  TempDir t;
  CompareOptions o = small_compare(t.dir / "c");
  o.target_accuracy = 0.999;
  const auto results = nlohmann::json::parse(run_compare(o));
  const auto& recipe = results["recipes"][0];
  EXPECT_TRUE(recipe["test_accuracy_std"].is_null());
  EXPECT_TRUE(recipe["runs"][0]["epochs_to_target"].is_null());
  EXPECT_TRUE(recipe["runs"][0]["seconds_to_target"].is_null());
  EXPECT_GE(recipe["runs"][0]["best_epoch"].get<int>(), 1);
  const std::string table = read_text(t.dir / "c" / "results.md");
  EXPECT_NE(table.find("% (1 run) |"), std::string::npos) << table;
  EXPECT_NE(table.find("epochs to 99.9%"), std::string::npos) << table;  // not rounded to 100%
}

// An experiment cut short must not leave the summary of an earlier one beside its new runs; files
// that are not an experiment's own (--out . holds the user's files) stay.
TEST(Experiment, AnEarlierSummaryIsRemovedBeforeTraining) {
  TempDir t;
  const fs::path out = t.dir / "c";
  fs::create_directories(out);
  std::ofstream(out / "results.json") << "{\n  \"data\": \"spirals\",\n  \"epochs\": 2,\n  \"seeds\": [\n";
  std::ofstream(out / "results.md") << "# Comparison on spirals\n\n2 epochs";
  std::ofstream(out / "report.html") << "<!DOCTYPE html>\n<html lang=\"en\">\n<title>actlab comparison: c</title>";
  std::ofstream(out / "search.md") << "# Activation search on spirals\n";  // a search's: compare leaves it
  std::ofstream(out / "notes.md") << "mine";
  const fs::path own = t.dir / "own";  // the user's files of the same names
  fs::create_directories(own);
  for (const char* name : {"results.json", "results.md", "report.html"}) std::ofstream(own / name) << "mine";
  CompareOptions o = small_compare(out);
  o.recipes = {"relu", "relu"};  // refused before anything is touched
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { run_compare(o); }, "--recipes", "listed twice"));
  EXPECT_TRUE(fs::exists(out / "results.json"));
  o.recipes = {"relu"};
  o.log = [](const std::string&) { throw std::runtime_error("stopped"); };  // as if killed at the first run
  EXPECT_ANY_THROW(run_compare(o));
  for (const char* name : {"results.json", "results.md", "report.html"}) EXPECT_FALSE(fs::exists(out / name)) << name;
  EXPECT_TRUE(fs::exists(out / "search.md"));
  EXPECT_TRUE(fs::exists(out / "notes.md"));
  o.out_dir = own.string();
  EXPECT_ANY_THROW(run_compare(o));
  for (const char* name : {"results.json", "results.md", "report.html"}) EXPECT_TRUE(fs::exists(own / name)) << name;
}

TEST(Experiment, AFileInTheWayIsRefusedBeforeTraining) {
  TempDir t;
  std::ofstream(t.dir / "afile") << "x";
  const CompareOptions o = small_compare(t.dir / "afile");
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { run_compare(o); }, "--out", "is a file, not a folder"));
  EXPECT_FALSE(fs::exists(t.dir / "afile" / "runs"));
}

SearchOptions small_search(const fs::path& out) {
  SearchOptions o;
  o.activations = {"relu", "tanh"};
  o.candidates = 2;
  o.final_seeds = {0};
  o.hidden = {4};
  o.data = "blobs:100";
  o.config.epochs = 1;
  o.out_dir = out.string();
  return o;
}

// 2^21 x 2 assignments and more: counting them overflowed to 0, and the search read past an empty
// field.
TEST(Search, DeepNetworksDoNotOverflowTheCandidateCount) {
  TempDir t;
  SearchOptions o = small_search(t.dir / "s");
  o.hidden.assign(64, 4);
  const auto search = nlohmann::json::parse(run_search(o));
  EXPECT_EQ(search["candidates"].size(), 2u);
  const auto results = read_json(t.dir / "s" / "results.json");
  EXPECT_TRUE(results["batchnorm"].is_null());  // the winner's is its own, the seed recipe's on
}

TEST(Search, ActivationsAreCheckedBeforeTraining) {
  TempDir t;
  SearchOptions o = small_search(t.dir / "s");
  o.activations = {"relu", "relu"};  // fewer distinct candidates than counted: the draw never ended
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { run_search(o); }, "--activations", "listed twice"));
  o.activations = {"seed", "relu"};  // a recipe, not a layer: it failed after training two candidates
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { run_search(o); }, "--activations", "not an activation"));
  EXPECT_FALSE(fs::exists(t.dir / "s"));
}

// A candidate that diverges ranks last and is shown as diverged, not as 0% accuracy.
TEST(Search, ADivergedCandidateIsShownAsSuch) {
  TempDir t;
  SearchOptions o = small_search(t.dir / "s");
  o.activations = {"relu", "leaky_relu"};  // and seed 0 draws both candidates without BatchNorm
  o.hidden = {16, 16};
  o.data = "spirals:100";
  o.config.optimizer.lr = 1e30;
  const auto search = nlohmann::json::parse(run_search(o));
  for (const auto& c : search["candidates"]) EXPECT_TRUE(c["rounds"][0]["validation_accuracy"].is_null());
  EXPECT_FALSE(search["search_seconds"].is_null());
  const std::string md = read_text(t.dir / "s" / "search.md");
  EXPECT_NE(md.find("diverged (1)"), std::string::npos) << md;
  EXPECT_EQ(md.find("nan"), std::string::npos) << md;
  EXPECT_NE(md.find("diverged in every seed"), std::string::npos) << md;
}

}  // namespace
}  // namespace actlab
