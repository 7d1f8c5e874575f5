// The timing rule and the inputs of `actlab bench`, shared with the peer programs beside it
// (bench/peer_onednn.cpp), so that both sides of a comparison are timed the same way on the same data.
#pragma once

#include "actlab/aligned_vector.hpp"
#include "actlab/random.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace actlab {

// Median wall time of fn() over repetitions filling min_seconds (at least 3, after one warm-up).
template <class F>
double median_seconds(F&& fn, double min_seconds) {
  using clock = std::chrono::steady_clock;
  fn();
  std::vector<double> samples;
  double total = 0.0;
  while (samples.size() < 3 || (total < min_seconds && samples.size() < 1000)) {
    const auto t0 = clock::now();
    fn();
    const double s = std::chrono::duration<double>(clock::now() - t0).count();
    samples.push_back(s);
    total += s;
  }
  std::nth_element(samples.begin(), samples.begin() + std::ptrdiff_t(samples.size() / 2), samples.end());
  return samples[samples.size() / 2];
}

// The arrays a timing reads and writes, aligned to 64 bytes as PyTorch's CPU allocator aligns its
// tensors and Sequential its layer buffers. std::vector's data lies wherever malloc puts it, and
// arrays of one run fell at different offsets from a cache line by the luck of the allocation order
// (see actlab/aligned_vector.hpp for what that cost).
using BenchArray = AlignedFloats;

// n values drawn from the normal distribution times scale.
inline BenchArray random_normal(std::size_t n, float scale, std::uint64_t seed) {
  Rng rng(seed);
  BenchArray v(n);
  for (float& x : v) x = scale * float(rng.normal());
  return v;
}

}  // namespace actlab
