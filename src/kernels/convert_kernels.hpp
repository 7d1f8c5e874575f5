// Byte-to-float conversion of stored data rows (Dataset::gather). The reference loop is the
// specification; the vector version (Highway, dispatched at run time) multiplies and then adds in
// float without fusing, so it gives the same bits.
#pragma once

#include <cstddef>
#include <cstdint>

namespace actlab {

// out[i] = float(in[i]) * scale + shift for i < n (two roundings, as the scalar expression).
void reference_scale_bytes(float* out, const std::uint8_t* in, std::size_t n, float scale, float shift);
void vector_scale_bytes(float* out, const std::uint8_t* in, std::size_t n, float scale, float shift);

}  // namespace actlab
