// Activation specs, as `actlab apply SPEC` parses them (parse_activation), plus parameters set one by
// one as the model SPEC and config.json set them (make_activation + set_activation_param +
// validate_activation). Whatever is accepted runs forward, backward and the parameter gradient over
// special values, and its canonical text parses back to the same parameters.
// Input: the first line is a spec for parse_activation; each further line is "key=value" set on the
// activation named by the spec's name part.
#include "fuzz_common.hpp"

#include "actlab/activation.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace {

void run_kernels(const actlab::Activation& act) {
  constexpr float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> x = {0.0f, -0.0f, 1.0f, -1.0f, 0.5f, -3.0f, 20.0f, -20.0f, 1e30f, -1e30f,
                                std::numeric_limits<float>::denorm_min(), -1e-40f, inf, -inf,
                                std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::max(),
                                std::numeric_limits<float>::lowest()};
  std::vector<float> y(x.size()), dy(x.size(), 1.0f), dx(x.size());
  actlab::activation_forward(act, y, x);
  actlab::activation_backward(act, dx, dy, x, y);
  if (act.info->learnable) (void)actlab::activation_param_grad(act, dy, x);
}

void check_round_trip(const actlab::Activation& act) {
  const std::string text = act.to_string();
  actlab::Activation again;
  if (!actlab::fuzz::expect_clean([&] { again = actlab::parse_activation(text); }))
    actlab::fuzz::finding("Activation::to_string wrote a spec that does not parse: " + text);
  if (again.info != act.info || std::memcmp(&again.params, &act.params, sizeof act.params) != 0)
    actlab::fuzz::finding("activation spec round trip changed the parameters: " + text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace actlab::fuzz;
  set_input(data, size);
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::size_t nl = text.find('\n');
  const std::string_view spec = text.substr(0, nl);
  actlab::Activation act;
  if (expect_clean([&] { act = actlab::parse_activation(spec); })) {
    run_kernels(act);
    check_round_trip(act);
  }
  if (nl == std::string_view::npos) return 0;
  text.remove_prefix(nl + 1);
  expect_clean([&] {
    actlab::Activation a = actlab::make_activation(spec.substr(0, spec.find(':')));
    while (!text.empty()) {
      const std::size_t end = text.find('\n');
      const std::string_view line = text.substr(0, end);
      text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
      const std::size_t eq = line.find('=');
      actlab::set_activation_param(a, line.substr(0, eq), eq == std::string_view::npos ? "" : line.substr(eq + 1));
    }
    actlab::validate_activation(a);
    run_kernels(a);
    check_round_trip(a);
  });
  return 0;
}
