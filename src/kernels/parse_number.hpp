// Strict number parsing for specs and command-line values: the whole text must be the number.
#pragma once

#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <stdexcept>
#include <string_view>

namespace actlab {

// Throws std::invalid_argument "WHAT: 'TEXT' is not a finite number".
inline double parse_finite_double(std::string_view text, std::string_view what) {
  double v = 0.0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc{} || ptr != end || !std::isfinite(v))
    throw std::invalid_argument(fmt::format("{}: '{}' is not a finite number", what, text));
  return v;
}

// Throws std::invalid_argument "WHAT: 'TEXT' is not an integer in [lo, hi]".
inline long long parse_integer(std::string_view text, std::string_view what, long long lo, long long hi) {
  long long v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc{} || ptr != end || v < lo || v > hi)
    throw std::invalid_argument(fmt::format("{}: '{}' is not an integer in [{}, {}]", what, text, lo, hi));
  return v;
}

}  // namespace actlab
