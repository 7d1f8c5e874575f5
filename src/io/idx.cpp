// IDX arrays (the MNIST file format), plain or gzipped. Format: http://yann.lecun.com/exdb/mnist/
//   magic 0x00 0x00 TYPE NDIMS, then NDIMS big-endian uint32 sizes, then the data in C order.
#include "actlab/dataset.hpp"
#include "actlab/file_io.hpp"
#include "io/io_internal.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace actlab {
namespace {

constexpr std::size_t kMaxBytes = std::size_t(1) << 33;  // as read_file's default cap
// Deflate expands at most about 1032:1, so the compressed size gives an honest bound on the output.
constexpr std::size_t kMaxDeflateRatio = 1032;

struct Inflater {
  z_stream zs{};
  ~Inflater() { inflateEnd(&zs); }
};

std::vector<std::uint8_t> gunzip(const std::string& path, std::span<const std::byte> in) {
  Inflater z;
  if (inflateInit2(&z.zs, 15 + 16) != Z_OK)  // 15 + 16: a 32 KiB window, gzip wrapper only
    throw std::runtime_error(fmt::format("{}: cannot initialise zlib", path));
  const std::size_t limit =
      in.size() > kMaxBytes / kMaxDeflateRatio ? kMaxBytes : in.size() * kMaxDeflateRatio + 1024;
  // Grow the output as data actually arrives rather than trusting any size written in the file; the
  // gzip trailer's size (ISIZE, the length modulo 2^32) is only the first guess, which avoids
  // doubling a buffer of twice the data's size (and touching all of it).
  std::size_t guess = std::max<std::size_t>(in.size() * 4, 1 << 16);
  if (in.size() >= 18) {
    const auto* t = reinterpret_cast<const std::uint8_t*>(in.data() + in.size() - 4);
    const std::size_t isize = std::size_t(t[0]) | std::size_t(t[1]) << 8 | std::size_t(t[2]) << 16 |
                              std::size_t(t[3]) << 24;
    if (isize > 0) guess = isize + 1;  // + 1: the stream's end is seen with room left
  }
  std::vector<std::uint8_t> out;
  io_detail::reserve_on_huge_pages(out, std::min(limit, guess));
  out.resize(std::min(limit, guess));
  std::size_t in_pos = 0, out_pos = 0;
  for (;;) {
    if (z.zs.avail_in == 0 && in_pos < in.size()) {
      const std::size_t chunk = std::min<std::size_t>(in.size() - in_pos, UINT_MAX);
      z.zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data() + in_pos));
      z.zs.avail_in = uInt(chunk);
      in_pos += chunk;
    }
    if (out_pos == out.size()) {
      if (out.size() >= limit)
        throw std::runtime_error(fmt::format("{}: decompressed data exceeds {} bytes", path, limit));
      out.resize(std::min(limit, out.size() * 2));
    }
    const std::size_t room = std::min<std::size_t>(out.size() - out_pos, UINT_MAX);
    z.zs.next_out = out.data() + out_pos;
    z.zs.avail_out = uInt(room);
    const int rc = inflate(&z.zs, Z_NO_FLUSH);
    out_pos += room - z.zs.avail_out;
    const bool input_done = z.zs.avail_in == 0 && in_pos == in.size();
    if (rc == Z_STREAM_END) {
      if (input_done) break;
      inflateReset(&z.zs);  // another gzip member follows, as `cat a.gz b.gz` makes
      continue;
    }
    if (rc == Z_BUF_ERROR && input_done)
      throw std::runtime_error(fmt::format("{}: gzip data is truncated (after {} bytes of output)", path, out_pos));
    if (rc != Z_OK && rc != Z_BUF_ERROR)
      throw std::runtime_error(
          fmt::format("{}: corrupt gzip data ({})", path, z.zs.msg ? z.zs.msg : fmt::format("zlib error {}", rc)));
  }
  out.resize(out_pos);
  return out;
}

// Validates the header and sizes; returns the header length in bytes.
std::size_t parse_header(const std::string& path, const std::uint8_t* p, std::size_t n,
                         std::vector<std::size_t>& dims) {
  if (n < 4) throw std::runtime_error(fmt::format("{}: file is {} bytes, too short for an IDX header", path, n));
  if (p[0] != 0 || p[1] != 0)
    throw std::runtime_error(fmt::format("{}: not an IDX file (bad magic {:02x} {:02x})", path, p[0], p[1]));
  if (p[2] != 0x08)
    throw std::runtime_error(
        fmt::format("{}: IDX element type 0x{:02x} is not supported (only 0x08, unsigned byte)", path, p[2]));
  const std::size_t ndims = p[3];
  if (ndims < 1 || ndims > 4)
    throw std::runtime_error(fmt::format("{}: IDX array has {} dimensions (1 to 4 supported)", path, ndims));
  const std::size_t header = 4 + 4 * ndims;
  if (n < header) throw std::runtime_error(fmt::format("{}: IDX header is truncated", path));
  std::size_t count = 1;
  for (std::size_t i = 0; i < ndims; ++i) {
    const std::uint8_t* q = p + 4 + 4 * i;
    const std::size_t d = std::size_t(q[0]) << 24 | std::size_t(q[1]) << 16 | std::size_t(q[2]) << 8 | q[3];
    if (d != 0 && count > std::numeric_limits<std::size_t>::max() / d)
      throw std::runtime_error(fmt::format("{}: IDX dimensions overflow", path));
    count *= d;
    dims.push_back(d);
  }
  const std::size_t have = n - header;
  if (have < count)
    throw std::runtime_error(fmt::format("{}: IDX data is truncated: dimensions [{}] need {} bytes, found {}", path,
                                         fmt::join(dims, ", "), count, have));
  if (have > count)
    throw std::runtime_error(fmt::format("{}: {} bytes of trailing data after the IDX array [{}]", path,
                                         have - count, fmt::join(dims, ", ")));
  return header;
}

}  // namespace

IdxArray read_idx(const std::string& path) {
  const std::vector<std::byte> file = read_file(path, kMaxBytes);
  IdxArray out;
  if (file.size() >= 2 && file[0] == std::byte{0x1f} && file[1] == std::byte{0x8b}) {
    out.data = gunzip(path, file);
    const std::size_t header = parse_header(path, out.data.data(), out.data.size(), out.dims);
    out.data.erase(out.data.begin(), out.data.begin() + std::ptrdiff_t(header));
  } else {
    const auto* p = reinterpret_cast<const std::uint8_t*>(file.data());
    const std::size_t header = parse_header(path, p, file.size(), out.dims);
    io_detail::reserve_on_huge_pages(out.data, file.size() - header);
    out.data.assign(p + header, p + file.size());
  }
  return out;
}

}  // namespace actlab
