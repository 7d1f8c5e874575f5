// model_from_config_json (config.json of a model folder), and its round trip through
// model_config_json and to_model_spec. (One model is alive at a time: see fuzz_model_spec.cpp.)
#include "fuzz_common.hpp"

#include "actlab/model_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace actlab::fuzz;
  set_input(data, size);
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string config, spec;
  std::size_t in_features = 0;
  {
    actlab::ModelFile m;
    if (!expect_clean([&] { m = actlab::model_from_config_json(text, "config.json"); }, "config.json")) return 0;
    config = actlab::model_config_json(m.model, m.scaling);
    spec = actlab::to_model_spec(m.model);
    in_features = m.model.in_features();
  }
  // What it accepted writes out to a config that reads back to the same config, and to a SPEC that
  // rebuilds the same architecture.
  actlab::InputScaling scaling;
  {
    actlab::ModelFile again;
    if (!expect_clean([&] { again = actlab::model_from_config_json(config, "again"); }))
      finding("model_config_json wrote a config that does not read back:\n" + config);
    if (actlab::model_config_json(again.model, again.scaling) != config) finding("config round trip changed:\n" + config);
    scaling = again.scaling;
  }
  actlab::Sequential rebuilt;
  if (!expect_clean([&] { rebuilt = actlab::parse_model_spec(spec, in_features); }))
    finding("to_model_spec wrote a SPEC that does not parse: " + spec);
  if (actlab::model_config_json(rebuilt, scaling) != config) finding("SPEC round trip changed the model: " + spec);
  return 0;
}
