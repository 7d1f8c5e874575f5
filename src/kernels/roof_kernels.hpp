// The memory roof's streaming loops (for `actlab bench` and bench/activation_bench): a copy and a
// triad whose stores carry non-temporal hints, as the vector activation kernels' stores do from 4M
// values. A plain copy or triad first reads every output line it writes (read for ownership); with
// the hints it does not. So a roof of plain loops alone sits below what the kernels reach on large
// arrays: 16M floats, 1 thread, on the development VM, memcpy 12-20 GB/s against 19-32 GB/s here.
#pragma once

#include <cstddef>

namespace actlab {

// out[i] = in[i] for i < n.
void stream_copy(float* out, const float* in, std::size_t n);
// out[i] = b[i] + s * c[i] for i < n (a multiply and an add, as the plain triad).
void stream_triad(float* out, const float* b, const float* c, float s, std::size_t n);

}  // namespace actlab
