// SHA-256 (FIPS 180-4), for pairing a model's config.json with its model.safetensors: the config
// records the weights file's digest, which `sha256sum model.safetensors` also prints.
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace actlab::io_detail {

// The digest of `bytes` as 64 lowercase hex digits.
std::string sha256_hex(std::span<const std::byte> bytes);

}  // namespace actlab::io_detail
