// NumPy .npy arrays (format versions 1.0-3.0, C order, little-endian).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace actlab {

struct NpyArray {
  std::vector<std::size_t> shape;  // empty for a 0-d array
  std::vector<float> data;         // product(shape) values, C order
};

// Reads an array of dtype float32, float64 (converted), or an integer type (u1, i1, i2, i4, i8, u2, u4,
// u8; converted to float). Fortran order, big-endian and object arrays are rejected.
// Throws std::runtime_error "PATH: REASON" for a bad header, a size that disagrees with the shape, ...
NpyArray read_npy(const std::string& path);

// Writes a float32 array atomically (see write_file_atomic). shape's product must equal data.size().
void write_npy(const std::string& path, std::span<const float> data, std::span<const std::size_t> shape);

}  // namespace actlab
