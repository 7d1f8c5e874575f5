// actlab plot-activations: f and f' of chosen activations in one figure (and the data as CSV).
#include "actlab/report.hpp"
#include "cli/commands.hpp"

#include <cmath>
#include <cstdlib>
#include <fmt/format.h>
#include <stdexcept>
#include <tuple>

namespace actlab::cli {
namespace {

// "MIN,MAX" -> {MIN, MAX}, finite with MIN < MAX (that the grid fits float32 is checked where it is made).
std::pair<double, double> parse_range(const std::string& text) {
  const std::size_t comma = text.find(',');
  const auto fail = [&](const char* why) {
    return std::invalid_argument(fmt::format("--range '{}': {}; use MIN,MAX with MIN < MAX, e.g. -5,5", text, why));
  };
  if (comma == std::string::npos) throw fail("no comma");
  const std::string a = text.substr(0, comma), b = text.substr(comma + 1);
  char* end_a = nullptr;
  char* end_b = nullptr;
  const double lo = std::strtod(a.c_str(), &end_a), hi = std::strtod(b.c_str(), &end_b);
  if (a.empty() || b.empty() || *end_a != '\0' || *end_b != '\0') throw fail("not two numbers");
  if (!std::isfinite(lo) || !std::isfinite(hi)) throw fail("not finite");
  if (!(lo < hi)) throw fail("MIN is not below MAX");
  return {lo, hi};
}

}  // namespace

int run_plot_activations(const PlotActivationsOptions& o) {
  ActivationPlotOptions options;
  options.specs = o.specs;
  options.out = o.out;
  std::tie(options.x_min, options.x_max) = parse_range(o.range);
  options.points = o.points;
  const ActivationPlotResult r = plot_activations(options);
  if (!r.message.empty()) {
    fmt::print(stderr, "actlab: error: {}\n", r.message);
    return 1;
  }
  fmt::print("figure: {} (data: {})\n", r.figure, r.data);
  return 0;
}

}  // namespace actlab::cli
