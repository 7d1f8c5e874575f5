// Per-unit health statistics of an activation layer over a batch (the diagnostics' per-step pass):
// running maxima of the input and of |f'(x)|, and how often |f'(x)| fell below a threshold. The
// reference loops are the specification; the vector versions (Highway, dispatched at run time) use
// the same comparisons, so they give the same bits and counts.
#pragma once

#include <cstddef>
#include <cstdint>

namespace actlab {

struct UnitStatsRefs {
  float* max_input;       // units values, updated: max(max_input, x) (a NaN x leaves it unchanged)
  float* max_derivative;  // units values, updated: max(max_derivative, |f'(x)|)
  std::uint32_t* saturated;  // units counts, incremented where |f'(x)| < threshold
  std::size_t units;
  float threshold;
};

// x and derivative: [rows, units], row-major.
void reference_unit_stats(const UnitStatsRefs& s, const float* x, const float* derivative, std::size_t rows);
void vector_unit_stats(const UnitStatsRefs& s, const float* x, const float* derivative, std::size_t rows);

// PReLU, whose f'(x) is 1 for x > 0 and the unit's slope otherwise; abs_slope: units values |slope|.
void reference_prelu_unit_stats(const UnitStatsRefs& s, const float* x, const float* abs_slope, std::size_t rows);
void vector_prelu_unit_stats(const UnitStatsRefs& s, const float* x, const float* abs_slope, std::size_t rows);

// The sum and the sum of squares of n floats, in double. The reference adds one value after another;
// the vector version adds in lanes and combines them in a fixed order (the same result for the
// same input, within double rounding of the reference's).
struct Moments {
  double sum = 0.0, sum_squares = 0.0;
};
Moments reference_moments(const float* v, std::size_t n);
Moments vector_moments(const float* v, std::size_t n);

}  // namespace actlab
