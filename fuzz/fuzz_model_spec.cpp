// parse_model_spec (`actlab train --model SPEC`), and its round trip through to_model_spec.
// Input: byte 0 picks the input width (1 + byte), the rest is the SPEC.
// (One model is alive at a time: a model may take up to 2^27 parameters, 1 GiB with gradients.)
#include "fuzz_common.hpp"

#include "actlab/model_io.hpp"

#include <optional>

namespace {

// The SPEC and config text of what parse_model_spec builds, or nothing when it refuses the SPEC.
std::optional<std::pair<std::string, std::string>> parse(std::string_view spec, std::size_t in_features) {
  actlab::Sequential m;
  if (!actlab::fuzz::expect_clean([&] { m = actlab::parse_model_spec(spec, in_features); })) return std::nullopt;
  return std::pair(actlab::to_model_spec(m), actlab::model_config_json(m, actlab::InputScaling{}));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace actlab::fuzz;
  set_input(data, size);
  if (size < 1) return 0;
  const std::size_t in_features = 1 + std::size_t(data[0]);
  const auto first = parse(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1), in_features);
  if (!first) return 0;
  const auto again = parse(first->first, in_features);
  if (!again) finding("to_model_spec wrote a SPEC that does not parse: " + first->first);
  if (again->first != first->first) finding("SPEC round trip changed: " + first->first + " -> " + again->first);
  if (again->second != first->second) finding("SPEC round trip changed the config: " + first->first);
  return 0;
}
