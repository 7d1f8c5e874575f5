// Checks DivideBySix (src/kernels/vector_math-inl.hpp) on every float: q = t (1/6), then
// q - (6q - t)/6 by two FMAs, against the division t / 6. The FMAs are the kernel's instructions
// (vfmsub, vfnmadd) as intrinsics: written as std::fma with negations, GCC folds the signs into
// other instructions, which round a zero to the other sign. Prints how many finite t differ, in the
// range where the quotient is normal (|t| >= 6 2^-126, and t = 0 with its sign), and below it.
// The Release build runs it as the test divide_by_six_exhaustive (about 4 s); by hand:
//
//     g++ -O2 -mfma -std=c++20 tools/check_divide_by_six.cpp -o /tmp/check_divide_by_six && /tmp/check_divide_by_six
//
// Exits 1 if any t in the normal range differs, 77 (a skip for ctest) on a CPU without FMA.
#include <immintrin.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>

int main() {
  if (!__builtin_cpu_supports("fma")) {
    std::puts("this CPU has no FMA: nothing to check");
    return 77;
  }
  const float sixth = 1.0f / 6.0f, six = 6.0f, normal_from = 0x1.8p-124f;  // 6 2^-126
  std::uint64_t normal_checked = 0, normal_differ = 0, below_checked = 0, below_differ = 0;
  std::uint32_t first = 0;
  for (std::uint64_t bits = 0; bits < (std::uint64_t(1) << 32); ++bits) {
    const float t = std::bit_cast<float>(std::uint32_t(bits));
    if (!std::isfinite(t)) continue;
    const __m128 vt = _mm_set_ss(t), vq = _mm_mul_ss(vt, _mm_set_ss(sixth));
    const __m128 r = _mm_fmsub_ss(vq, _mm_set_ss(six), vt);                        // 6q - t
    const float corrected = _mm_cvtss_f32(_mm_fnmadd_ss(r, _mm_set_ss(sixth), vq));  // q - r/6
    const bool differ = std::bit_cast<std::uint32_t>(corrected) != std::bit_cast<std::uint32_t>(t / six);
    if (t == 0.0f || std::fabs(t) >= normal_from) {
      ++normal_checked;
      if (differ && normal_differ++ == 0) first = std::uint32_t(bits);
    } else {
      ++below_checked;
      below_differ += differ;
    }
  }
  std::printf("quotient normal or zero: %llu floats checked, %llu differ%s\n", (unsigned long long)normal_checked,
              (unsigned long long)normal_differ, normal_differ ? "" : " (the division's bits everywhere)");
  if (normal_differ) std::printf("  first at %.9g (0x%08x)\n", std::bit_cast<float>(first), first);
  std::printf("quotient denormal: %llu floats checked, %llu differ\n", (unsigned long long)below_checked,
              (unsigned long long)below_differ);
  return normal_differ ? 1 : 0;
}
