// Checkpoints with a broken metadata record: every error names the checkpoint file in one line and is
// a std::runtime_error, never a bare nlohmann::json exception (the contract of the CLI's --resume).
#include "actlab/init.hpp"
#include "actlab/model_io.hpp"
#include "actlab/safetensors.hpp"
#include "actlab/trainer.hpp"
#include "io_test_util.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <string>

namespace actlab {
namespace {

class BrokenCheckpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    Sequential model = parse_model_spec("linear(8),relu,linear(4)", data_.train.features);
    Rng rng(1);
    initialize_parameters(model, rng);
    config_.epochs = 2;
    config_.batch = 16;
    Trainer trainer(model, data_, config_);
    TrainCallbacks stop;  // after one step, mid-epoch
    std::size_t steps = 0;
    stop.on_step = [&](std::size_t s) { steps = s; };
    stop.stop_requested = [&] { return steps >= 1; };
    ASSERT_FALSE(trainer.run(stop));
    trainer.save_checkpoint(good_);
    tensors_ = read_safetensors(good_, &metadata_);
  }
  // The good checkpoint with one metadata record replaced (or removed, for nullptr).
  void write_with(const std::string& key, const char* text) {
    auto metadata = metadata_;
    if (text) metadata[key] = text;
    else metadata.erase(key);
    write_safetensors(bad_, tensors_, metadata);
  }

  // What resuming from the bad file says: as the CLI resumes (info, model, trainer, restore), or with
  // restore() alone into a trainer built from the good model and config (it reads the records again).
  std::string resume_error(bool from_info) {
    try {
      const TrainConfig config = from_info ? read_checkpoint_info(bad_).config : config_;
      const std::string model_config =
          from_info ? read_checkpoint_info(bad_).model_config_json : metadata_.at("model_config");
      Sequential model = model_from_config_json(model_config, bad_).model;
      Trainer trainer(model, data_, config);
      trainer.restore(bad_);
    } catch (const nlohmann::json::exception& e) {
      return std::string("a bare nlohmann::json exception escaped: ") + e.what();
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "no error";
  }

  const DataSplit data_ = load_data("blobs:200", 1);
  TrainConfig config_;
  const test::TempDir temp_;  // before the paths in it
  const std::string good_ = temp_.file("good_checkpoint.safetensors");
  const std::string bad_ = temp_.file("bad_checkpoint.safetensors");
  TensorMap tensors_;
  std::map<std::string, std::string> metadata_;
};

TEST_F(BrokenCheckpoint, EveryErrorNamesTheFileInOneLine) {
  const std::string config = metadata_.at("train_config"), progress = metadata_.at("progress");
  const auto edit = [](std::string text, const std::string& from, const std::string& to) {
    return text.replace(text.find(from), from.size(), to);
  };
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const struct {
    std::string key;
    std::string text;  // "<none>": the record removed
    std::string needle;
  } cases[] = {
      {"train_config", "{\"epochs\": 2,", "unreadable train_config record"},
      {"train_config", "[1, 2]", "unreadable train_config record"},
      {"train_config", "<none>", "unreadable train_config record (missing)"},
      {"train_config", edit(config, "\"epochs\":2", "\"epochs\":\"2\""), "unreadable train_config record"},
      {"train_config", edit(config, "\"epochs\":2", "\"epochs\":1e300"), "got 1e+300"},
      {"train_config", edit(config, "\"batch\":16", "\"batch\":-16"), "got -16"},
      {"train_config", edit(config, "\"kind\":\"sgd\"", "\"kind\":5"), "unreadable train_config record"},
      {"train_config", deep, "unreadable train_config record"},
      {"progress", "not json", "unreadable progress record"},
      {"progress", "<none>", "unreadable progress record (missing)"},
      {"progress", edit(progress, "\"epoch\":1", "\"epoch\":\"1\""), "unreadable progress record"},
      {"progress", edit(progress, "\"epoch\":1", "\"epoch\":2.5"), "got 2.5"},
      {"progress", edit(progress, "\"step\":1", "\"step\":-1"), "got -1"},
      {"progress", edit(progress, "\"history\":[]", "\"history\":[[1]]"), "unreadable progress record"},
      {"progress", deep, "unreadable progress record"},
      // epochs is 2: epoch 4 is past the run's end, and epoch 2 needs epoch 1's history entry
      {"progress", edit(progress, "\"epoch\":1", "\"epoch\":4"), "progress record out of range"},
      {"progress", edit(progress, "\"epoch\":1", "\"epoch\":2"), "progress record out of range"},
      {"progress", edit(progress, "\"epoch\":1", "\"epoch\":0"), "progress record out of range"},
      {"model_config", "{\"format\": 1", "not valid JSON"},
      {"model_config", "<none>", "no model_config record"},
  };
  for (const auto& c : cases) {
    write_with(c.key, c.text == "<none>" ? nullptr : c.text.c_str());
    for (const bool from_info : {true, false}) {
      if (!from_info && c.key == "model_config") continue;  // restore() does not read it
      const std::string error = resume_error(from_info);
      const std::string what = c.key + " = " + c.text.substr(0, 80) + (from_info ? "" : " (restore alone)");
      EXPECT_EQ(error.rfind(bad_ + ": ", 0), 0u) << what << "\n  " << error;
      EXPECT_NE(error.find(c.needle), std::string::npos) << what << "\n  " << error;
      EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    }
  }
  write_with("train_config", config.c_str());  // unchanged: resumes
  EXPECT_EQ(resume_error(true), "no error");
  EXPECT_EQ(resume_error(false), "no error");
}

}  // namespace
}  // namespace actlab
