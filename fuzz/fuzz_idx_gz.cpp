// read_idx through its gzip path with a well-formed gzip stream around fuzzed IDX bytes, so that
// mutations reach the IDX header behind the decompressor. Input: byte 0 = how to damage the stream
// (bits 0-5: bytes cut off the end, bit 6: split into two gzip members, bit 7: append junk), rest = payload.
#include "fuzz_common.hpp"

#include "actlab/dataset.hpp"

#include <algorithm>
#include <vector>

#include <zlib.h>

namespace {

std::vector<std::uint8_t> gzip(const std::uint8_t* data, std::size_t size) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::vector<std::uint8_t> out(deflateBound(&zs, uLong(size)) + 32);
  zs.next_in = const_cast<Bytef*>(data);
  zs.avail_in = uInt(size);
  zs.next_out = out.data();
  zs.avail_out = uInt(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace actlab::fuzz;
  set_input(data, size);
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  const std::uint8_t* payload = data + 1;
  const std::size_t n = size - 1;
  std::vector<std::uint8_t> file;
  if (mode & 0x40) {  // two members, as `cat a.gz b.gz` makes; read_idx must see their concatenation
    const std::size_t half = n / 2;
    file = gzip(payload, half);
    const auto second = gzip(payload + half, n - half);
    file.insert(file.end(), second.begin(), second.end());
  } else {
    file = gzip(payload, n);
  }
  const std::size_t cut = mode & 0x3f;
  file.resize(file.size() > cut ? file.size() - cut : 0);
  if (mode & 0x80) file.insert(file.end(), {0x00, 0x01, 0x02});
  static const std::string path = scratch_file("input.idx.gz");
  write_input(path, file.data(), file.size());
  actlab::IdxArray a;
  if (!expect_clean([&] { a = actlab::read_idx(path); }, path)) return 0;
  // An intact stream (nothing cut or appended) decodes to exactly the payload, whose header it parsed.
  if (cut == 0 && !(mode & 0x80)) {
    const std::size_t header = 4 + 4 * a.dims.size();
    if (header + a.data.size() != n || !std::equal(a.data.begin(), a.data.end(), payload + header))
      finding("read_idx's data is not the payload after the header");
  }
  return 0;
}
