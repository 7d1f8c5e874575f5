// Bytes as hex text and back: digests, and checkpoint records that must come back bit for bit.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace actlab::io_detail {

// Two lowercase hex digits per byte, in the bytes' order.
std::string hex_text(std::span<const std::byte> bytes);

// Fills `out` from exactly 2 * out.size() hex digits (either case); false for any other text.
bool from_hex(std::string_view text, std::span<std::byte> out);

}  // namespace actlab::io_detail
