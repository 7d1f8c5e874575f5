// The safetensors format: an 8-byte little-endian header length, a JSON header mapping each name to
// {dtype, shape, data_offsets}, then the raw little-endian data. actlab writes F32 tensors (and the
// I64 scalar num_batches_tracked that PyTorch's BatchNorm keeps) so that torch can load the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace actlab {

struct NamedTensor {
  std::vector<std::size_t> shape;
  std::vector<float> f32;     // used when dtype is "F32"
  std::vector<std::int64_t> i64;  // used when dtype is "I64"
  std::string dtype = "F32";
};

using TensorMap = std::map<std::string, NamedTensor>;

// Reads F32 and I64 tensors (others rejected with a message naming the tensor and dtype).
// Validates the header length against the file size, offsets against the data size, that tensors
// neither overlap nor leave gaps, and that each shape's byte size equals its data span.
// Throws std::runtime_error "PATH: REASON". When `metadata` is given, "__metadata__" is stored there.
TensorMap read_safetensors(const std::string& path, std::map<std::string, std::string>* metadata = nullptr);

// Writes the tensors atomically, in name order, with optional string metadata ("__metadata__").
void write_safetensors(const std::string& path, const TensorMap& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// The same two in memory: decode checks a file's bytes as read_safetensors does (errors name
// `path`); encode returns the bytes write_safetensors would write (std::invalid_argument naming
// `path` for a tensor it cannot encode).
TensorMap decode_safetensors(std::span<const std::byte> file, const std::string& path,
                             std::map<std::string, std::string>* metadata = nullptr);
std::vector<std::byte> encode_safetensors(const TensorMap& tensors, const std::map<std::string, std::string>& metadata,
                                          const std::string& path);

}  // namespace actlab
