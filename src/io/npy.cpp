// NumPy .npy reading (versions 1.0-3.0) and float32 writing.
// Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
#include "actlab/npy.hpp"

#include "actlab/file_io.hpp"
#include "io/printable.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <bit>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string_view>

namespace actlab {
namespace {

static_assert(std::endian::native == std::endian::little, "actlab reads and writes little-endian data");

constexpr char kMagic[] = "\x93NUMPY";  // 6 bytes, then major, minor version

std::string shape_text(const std::vector<std::size_t>& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);  // Python's 1-tuple
  return fmt::format("({})", fmt::join(shape, ", "));
}

// A parser for the one Python dict literal the format allows:
//   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
class HeaderParser {
 public:
  HeaderParser(const std::string& path, std::string_view text) : path_(path), s_(text) {}

  void parse(std::string& descr, bool& fortran, std::vector<std::size_t>& shape) {
    bool seen[3] = {false, false, false};
    expect('{');
    while (!eat('}')) {
      const std::string key = string();
      expect(':');
      int k = key == "descr" ? 0 : key == "fortran_order" ? 1 : key == "shape" ? 2 : -1;
      if (k < 0) fail(fmt::format("unexpected key '{}'", printable(key)));
      if (seen[k]) fail(fmt::format("key '{}' appears twice", printable(key)));
      seen[k] = true;
      if (k == 0) {
        skip_ws();
        if (pos_ < s_.size() && s_[pos_] == '[') fail("structured dtypes are not supported");
        descr = string();
      } else if (k == 1) {
        fortran = boolean();
      } else {
        shape = tuple();
      }
      if (!eat(',')) {
        expect('}');
        break;
      }
    }
    skip_ws();  // numpy pads with spaces and a final newline
    if (pos_ != s_.size()) fail("unexpected text after the closing '}'");
    if (!(seen[0] && seen[1] && seen[2])) fail("it needs the keys 'descr', 'fortran_order' and 'shape'");
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(fmt::format("{}: bad .npy header ({}) at offset {}", path_, what, pos_));
  }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  bool eat(char c) {
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == c) return ++pos_, true;
    return false;
  }
  void expect(char c) {
    if (!eat(c)) fail(fmt::format("expected '{}'", c));
  }
  std::string string() {
    skip_ws();
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) fail("expected a quoted string");
    const char quote = s_[pos_++];
    const std::size_t end = s_.find(quote, pos_);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string out(s_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return out;
  }
  bool boolean() {
    skip_ws();
    if (s_.substr(pos_, 4) == "True") return pos_ += 4, true;
    if (s_.substr(pos_, 5) == "False") return pos_ += 5, false;
    fail("expected True or False");
  }
  std::vector<std::size_t> tuple() {
    std::vector<std::size_t> dims;
    expect('(');
    while (!eat(')')) {
      skip_ws();
      std::size_t v = 0;
      const std::size_t start = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
        const std::size_t digit = std::size_t(s_[pos_] - '0');
        if (v > (std::numeric_limits<std::size_t>::max() - digit) / 10) fail("dimension too large");
        v = v * 10 + digit;
        ++pos_;
      }
      if (pos_ == start) fail("expected a non-negative integer dimension");
      if (pos_ < s_.size() && s_[pos_] == 'L') ++pos_;  // Python 2 long literal, found in old files
      dims.push_back(v);
      if (dims.size() > 32) fail("more than 32 dimensions");
      if (!eat(',')) {
        expect(')');
        break;
      }
    }
    return dims;
  }

  const std::string& path_;
  std::string_view s_;
  std::size_t pos_ = 0;
};

template <typename T>
void convert(const std::byte* src, std::size_t n, float* dst) {
  for (std::size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, src + i * sizeof(T), sizeof(T));  // the data need not be aligned
    dst[i] = static_cast<float>(v);
  }
}

using Converter = void (*)(const std::byte*, std::size_t, float*);

// Maps a descr such as '<f4' to its item size and converter; rejects what actlab cannot read.
Converter dtype_converter(const std::string& path, const std::string& descr, std::size_t& item_size) {
  if (descr.size() < 2 || std::string_view("<>|=").find(descr[0]) == std::string_view::npos)
    throw std::runtime_error(fmt::format("{}: unsupported dtype '{}'", path, printable(descr)));
  const std::string_view type = std::string_view(descr).substr(1);
  struct Entry { std::string_view name; std::size_t size; Converter fn; };
  static constexpr Entry table[] = {
      {"f4", 4, convert<float>},         {"f8", 8, convert<double>},
      {"u1", 1, convert<std::uint8_t>},  {"i1", 1, convert<std::int8_t>},
      {"u2", 2, convert<std::uint16_t>}, {"i2", 2, convert<std::int16_t>},
      {"u4", 4, convert<std::uint32_t>}, {"i4", 4, convert<std::int32_t>},
      {"u8", 8, convert<std::uint64_t>}, {"i8", 8, convert<std::int64_t>},
  };
  for (const Entry& e : table) {
    if (e.name != type) continue;
    if (descr[0] == '>' && e.size > 1)
      throw std::runtime_error(fmt::format("{}: big-endian dtype '{}' is not supported", path, printable(descr)));
    item_size = e.size;
    return e.fn;
  }
  if (type.starts_with("O"))
    throw std::runtime_error(fmt::format("{}: object arrays (dtype '{}') are not supported", path, printable(descr)));
  throw std::runtime_error(fmt::format(
      "{}: unsupported dtype '{}' (expected float32, float64 or an integer type)", path, printable(descr)));
}

}  // namespace

NpyArray read_npy(const std::string& path) {
  const std::vector<std::byte> file = read_file(path);
  const auto* p = reinterpret_cast<const unsigned char*>(file.data());
  if (file.size() < 6 || std::memcmp(p, kMagic, 6) != 0)
    throw std::runtime_error(fmt::format("{}: not a .npy file (bad magic)", path));
  if (file.size() < 10) throw std::runtime_error(fmt::format("{}: truncated .npy header", path));
  const int major = p[6], minor = p[7];
  std::size_t header_len = 0, prefix = 0;
  if (major == 1) {
    header_len = std::size_t(p[8]) | std::size_t(p[9]) << 8;
    prefix = 10;
  } else if (major == 2 || major == 3) {
    if (file.size() < 12) throw std::runtime_error(fmt::format("{}: truncated .npy header", path));
    header_len = std::size_t(p[8]) | std::size_t(p[9]) << 8 | std::size_t(p[10]) << 16 | std::size_t(p[11]) << 24;
    prefix = 12;
  } else {
    throw std::runtime_error(fmt::format("{}: unsupported .npy version {}.{}", path, major, minor));
  }
  if (header_len > file.size() - prefix)
    throw std::runtime_error(fmt::format("{}: header length {} runs past the end of the file ({} bytes)", path,
                                         header_len, file.size()));

  std::string descr;
  bool fortran = false;
  NpyArray out;
  HeaderParser(path, std::string_view(reinterpret_cast<const char*>(p + prefix), header_len))
      .parse(descr, fortran, out.shape);
  std::size_t item_size = 0;
  const Converter fn = dtype_converter(path, descr, item_size);
  // numpy marks only arrays that are not also C-contiguous as Fortran order, so all of them need a transpose.
  if (fortran) throw std::runtime_error(fmt::format("{}: Fortran-order arrays are not supported", path));

  std::size_t count = 1;
  for (std::size_t d : out.shape) {
    if (d != 0 && count > std::numeric_limits<std::size_t>::max() / item_size / d)
      throw std::runtime_error(
          fmt::format("{}: shape {} has too many elements (size overflows)", path, shape_text(out.shape)));
    count *= d;
  }
  const std::size_t data_bytes = file.size() - prefix - header_len;
  if (data_bytes != count * item_size)
    throw std::runtime_error(fmt::format("{}: data is {} bytes but shape {} of '{}' needs {} bytes", path,
                                         data_bytes, shape_text(out.shape), descr, count * item_size));
  // Allocating now is safe: count is bounded by the bytes actually present.
  out.data.resize(count);
  fn(file.data() + prefix + header_len, count, out.data.data());
  return out;
}

void write_npy(const std::string& path, std::span<const float> data, std::span<const std::size_t> shape) {
  std::size_t count = 1;
  for (std::size_t d : shape) {
    if (d != 0 && count > std::numeric_limits<std::size_t>::max() / d)
      throw std::invalid_argument(fmt::format("{}: shape product overflows", path));
    count *= d;
  }
  const std::vector<std::size_t> dims(shape.begin(), shape.end());
  if (count != data.size())
    throw std::invalid_argument(fmt::format("{}: shape {} holds {} values but {} were given", path,
                                            shape_text(dims), count, data.size()));

  std::string header =
      fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': {}, }}", shape_text(dims));
  // Pad with spaces and end with a newline so that the data starts on a 64-byte boundary, as numpy does.
  const bool v1 = 10 + header.size() + 1 <= 65535;  // else fall back to version 2.0's 4-byte length
  const std::size_t prefix = v1 ? 10 : 12;
  const std::size_t total = (prefix + header.size() + 1 + 63) / 64 * 64;
  header.append(total - prefix - header.size() - 1, ' ');
  header.push_back('\n');

  std::vector<std::byte> bytes(total + data.size_bytes());
  std::memcpy(bytes.data(), kMagic, 6);
  bytes[6] = std::byte(v1 ? 1 : 2);
  bytes[7] = std::byte(0);
  for (std::size_t i = 0; i < prefix - 8; ++i) bytes[8 + i] = std::byte((header.size() >> (8 * i)) & 0xff);
  std::memcpy(bytes.data() + prefix, header.data(), header.size());
  if (!data.empty()) std::memcpy(bytes.data() + total, data.data(), data.size_bytes());
  write_file_atomic(path, bytes);
}

}  // namespace actlab
