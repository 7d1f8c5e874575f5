// User text quoted in messages, made printable.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace actlab {

// `text` with control bytes (NUL included) written as \xNN: an error message that quotes a CSV cell
// or a name from a file stays one line, and a NUL in it no longer cuts the message short where it
// passes through std::exception::what().
inline std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
    else out += ch;
  }
  return out;
}

}  // namespace actlab
