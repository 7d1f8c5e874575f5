// safetensors reading and writing (F32 and I64). Format: https://github.com/huggingface/safetensors
#include "actlab/safetensors.hpp"

#include "actlab/file_io.hpp"
#include "io/printable.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <tuple>

namespace actlab {
namespace {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

// The reference implementation refuses headers above 100 MB; so do we, before parsing any JSON.
constexpr std::uint64_t kMaxHeader = 100'000'000;
// The header nests 3 levels deep. Deeper nesting is refused while parsing: nlohmann's dump(), used in
// error messages, recurses once per level, and a 100 MB header of '[' would overflow the stack.
constexpr int kMaxJsonDepth = 32;
struct TooDeep {};

std::size_t dtype_size(const std::string& dtype) {
  if (dtype == "F32") return 4;
  if (dtype == "I64") return 8;
  return 0;
}

// Number of elements of `shape` times item_size, or SIZE_MAX when that overflows (never a real size).
std::size_t byte_size(const std::vector<std::size_t>& shape, std::size_t item_size) {
  std::size_t n = item_size;
  for (std::size_t d : shape) {
    if (d != 0 && n > std::numeric_limits<std::size_t>::max() / d) return std::numeric_limits<std::size_t>::max();
    n *= d;
  }
  return n;
}

struct Extent {
  std::size_t begin, end;
  std::string name;
};

}  // namespace

TensorMap read_safetensors(const std::string& path, std::map<std::string, std::string>* metadata) {
  return decode_safetensors(read_file(path), path, metadata);
}

TensorMap decode_safetensors(std::span<const std::byte> file, const std::string& path,
                             std::map<std::string, std::string>* metadata) {
  using nlohmann::json;
  auto fail = [&](const std::string& what) { return std::runtime_error(fmt::format("{}: {}", path, what)); };
  if (file.size() < 8) throw fail(fmt::format("file is {} bytes, too short for a safetensors header", file.size()));
  std::uint64_t header_len = 0;
  std::memcpy(&header_len, file.data(), 8);
  if (header_len > file.size() - 8)
    throw fail(fmt::format("header length {} runs past the end of the file ({} bytes)", header_len, file.size()));
  if (header_len > kMaxHeader) throw fail(fmt::format("header length {} is above the 100 MB limit", header_len));

  const auto* text = reinterpret_cast<const char*>(file.data()) + 8;
  json header;
  try {
    header = json::parse(text, text + header_len, [](int depth, json::parse_event_t, json&) {
      if (depth > kMaxJsonDepth) throw TooDeep{};
      return true;
    });
  } catch (const json::exception& e) {
    throw fail(fmt::format("header is not valid JSON ({})", e.what()));
  } catch (const TooDeep&) {
    throw fail(fmt::format("header nests deeper than {} levels", kMaxJsonDepth));
  }
  if (!header.is_object()) throw fail("header is not a JSON object");

  const std::size_t data_size = file.size() - 8 - std::size_t(header_len);
  const std::byte* data = file.data() + 8 + header_len;
  TensorMap tensors;
  std::vector<Extent> extents;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      bool ok = entry.is_object();
      if (ok)
        for (const auto& v : entry) ok = ok && v.is_string();
      if (!ok) throw fail("__metadata__ must map names to strings");
      if (metadata)
        for (const auto& [key, value] : entry.items()) (*metadata)[key] = value.get<std::string>();
      continue;
    }
    // (clang 14 cannot capture a structured binding: the name is captured through a reference)
    auto bad = [&, &tensor = name](const std::string& what) {
      return fail(fmt::format("tensor '{}': {}", printable(tensor), what));
    };
    if (!entry.is_object()) throw bad("entry is not a JSON object");
    const auto dtype = entry.find("dtype"), shape = entry.find("shape"), offsets = entry.find("data_offsets");
    if (dtype == entry.end() || !dtype->is_string()) throw bad("missing or non-string 'dtype'");
    NamedTensor t;
    t.dtype = dtype->get<std::string>();
    const std::size_t item = dtype_size(t.dtype);
    if (item == 0) throw bad(fmt::format("dtype '{}' is not supported (only F32 and I64)", printable(t.dtype)));
    if (shape == entry.end() || !shape->is_array()) throw bad("missing or non-array 'shape'");
    for (const auto& d : *shape) {
      if (!d.is_number_unsigned()) throw bad(fmt::format("shape entry {} is not a non-negative integer", d.dump()));
      t.shape.push_back(d.get<std::size_t>());
    }
    if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
        !(*offsets)[1].is_number_unsigned())
      throw bad("'data_offsets' must be [begin, end] with non-negative integers");
    const auto begin = (*offsets)[0].get<std::uint64_t>(), end = (*offsets)[1].get<std::uint64_t>();
    if (begin > end || end > data_size)
      throw bad(fmt::format("data_offsets [{}, {}] do not fit the {}-byte data section", begin, end, data_size));
    const std::size_t bytes = byte_size(t.shape, item);
    if (bytes == std::numeric_limits<std::size_t>::max())
      throw bad(fmt::format("shape [{}] is too large (its byte size overflows)", fmt::join(t.shape, ", ")));
    if (bytes != end - begin)
      throw bad(fmt::format("shape [{}] of {} needs {} bytes but data_offsets span {}",
                            fmt::join(t.shape, ", "), t.dtype, bytes, end - begin));
    // The sizes are now bounded by the bytes actually present in the file.
    if (item == 4) {
      t.f32.resize(bytes / 4);
      if (bytes) std::memcpy(t.f32.data(), data + begin, bytes);
    } else {
      t.i64.resize(bytes / 8);
      if (bytes) std::memcpy(t.i64.data(), data + begin, bytes);
    }
    extents.push_back({std::size_t(begin), std::size_t(end), name});
    tensors.emplace(name, std::move(t));
  }

  // The tensors must tile the data section exactly: no overlap, no gap, nothing left over.
  std::sort(extents.begin(), extents.end(),
            [](const Extent& a, const Extent& b) { return std::tie(a.begin, a.end) < std::tie(b.begin, b.end); });
  std::size_t cursor = 0;
  const std::string* previous = nullptr;
  for (const Extent& e : extents) {
    if (e.begin < cursor)
      throw fail(fmt::format("tensors '{}' and '{}' overlap", printable(*previous), printable(e.name)));
    if (e.begin > cursor)
      throw fail(fmt::format("gap of {} bytes before tensor '{}'", e.begin - cursor, printable(e.name)));
    cursor = e.end;
    previous = &e.name;
  }
  if (cursor != data_size)
    throw fail(fmt::format("data section is {} bytes but the tensors cover {}", data_size, cursor));
  return tensors;
}

void write_safetensors(const std::string& path, const TensorMap& tensors,
                       const std::map<std::string, std::string>& metadata) {
  write_file_atomic(path, encode_safetensors(tensors, metadata, path));
}

std::vector<std::byte> encode_safetensors(const TensorMap& tensors, const std::map<std::string, std::string>& metadata,
                                          const std::string& path) {
  using nlohmann::json;
  json header = json::object();  // std::map underneath: keys come out sorted
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::size_t offset = 0;
  for (const auto& [name, t] : tensors) {  // name order, so the data follows the header's order
    auto bad = [&, &tensor = name](const std::string& what) {
      return std::invalid_argument(fmt::format("{}: tensor '{}': {}", path, tensor, what));
    };
    if (name.empty() || name == "__metadata__") throw bad("reserved or empty name");
    const std::size_t item = dtype_size(t.dtype);
    if (item == 0) throw bad(fmt::format("dtype '{}' cannot be written (only F32 and I64)", t.dtype));
    const std::size_t bytes = byte_size(t.shape, item);
    const std::size_t have = item == 4 ? t.f32.size() * 4 : t.i64.size() * 8;
    if (bytes != have)
      throw bad(fmt::format("shape [{}] needs {} bytes of {} but {} were given", fmt::join(t.shape, ", "), bytes,
                            t.dtype, have));
    header[name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const json::exception& e) {  // e.g. a name that is not valid UTF-8
    throw std::invalid_argument(fmt::format("{}: cannot encode the header ({})", path, e.what()));
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data 8-byte aligned in the file

  std::vector<std::byte> out(8 + text.size() + offset);
  const std::uint64_t header_len = text.size();
  std::memcpy(out.data(), &header_len, 8);
  std::memcpy(out.data() + 8, text.data(), text.size());
  std::byte* data = out.data() + 8 + text.size();
  for (const auto& [name, t] : tensors) {
    const std::size_t bytes = t.dtype == "F32" ? t.f32.size() * 4 : t.i64.size() * 8;
    if (bytes) std::memcpy(data, t.dtype == "F32" ? static_cast<const void*>(t.f32.data()) : t.i64.data(), bytes);
    data += bytes;
  }
  return out;
}

}  // namespace actlab
