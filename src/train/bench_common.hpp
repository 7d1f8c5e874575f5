// The timing rule and the inputs of `actlab bench`, shared with the peer programs beside it
// (bench/peer_onednn.cpp), so that both sides of a comparison are timed the same way on the same data.
#pragma once

#include "actlab/random.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <new>
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
// tensors. std::vector's data lies wherever malloc puts it, and arrays of one run fell at different
// offsets from a cache line by the luck of the allocation order; with the inputs 16 bytes and the
// output 48 past a line (the kernels align their stores, so both inputs then straddle lines) the
// per-channel PReLU backward at 256K floats took 0.22 ns per value instead of 0.16, silu's backward
// 0.38-0.42 instead of 0.33.
template <class T>
struct CacheLineAllocator {
  using value_type = T;
  CacheLineAllocator() = default;
  template <class U>
  CacheLineAllocator(const CacheLineAllocator<U>&) {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{64})); }
  void deallocate(T* p, std::size_t) { ::operator delete(p, std::align_val_t{64}); }
  friend bool operator==(const CacheLineAllocator&, const CacheLineAllocator&) { return true; }
};
using BenchArray = std::vector<float, CacheLineAllocator<float>>;

// n values drawn from the normal distribution times scale.
inline BenchArray random_normal(std::size_t n, float scale, std::uint64_t seed) {
  Rng rng(seed);
  BenchArray v(n);
  for (float& x : v) x = scale * float(rng.normal());
  return v;
}

}  // namespace actlab
