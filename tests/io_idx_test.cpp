#include "actlab/dataset.hpp"
#include "io_test_util.hpp"

using actlab::read_idx;
using actlab::test::TempDir;
using actlab::test::throws_with;
using actlab::test::write_bytes;
using actlab::test::write_gz;

namespace {

// An unsigned-byte IDX file with the given dimensions and `data` (or a pattern when data is empty).
std::vector<std::uint8_t> idx_bytes(const std::vector<std::uint32_t>& dims, std::vector<std::uint8_t> data = {}) {
  std::vector<std::uint8_t> b = {0, 0, 0x08, std::uint8_t(dims.size())};
  std::size_t n = 1;
  for (std::uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(std::uint8_t(d >> s));
    n *= d;
  }
  if (data.empty())
    for (std::size_t i = 0; i < n; ++i) data.push_back(std::uint8_t(i * 7 + 3));
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

}  // namespace

TEST(Idx, ReadsPlainAndGzipped) {
  TempDir t;
  const auto bytes = idx_bytes({2, 3, 4});
  write_bytes(t.file("a-idx3-ubyte"), bytes);
  write_gz(t.file("a-idx3-ubyte.gz"), bytes);
  for (const char* name : {"a-idx3-ubyte", "a-idx3-ubyte.gz"}) {
    const auto a = read_idx(t.file(name));
    EXPECT_EQ(a.dims, (std::vector<std::size_t>{2, 3, 4})) << name;
    EXPECT_EQ(a.data, std::vector<std::uint8_t>(bytes.begin() + 16, bytes.end())) << name;
  }
}

TEST(Idx, ReadsLargeGzipAndConcatenatedMembers) {
  TempDir t;
  const auto bytes = idx_bytes({1000, 28, 28});  // larger than the first output buffer
  const std::size_t half = bytes.size() / 2;
  write_gz(t.file("p1.gz"), std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + std::ptrdiff_t(half)));
  write_gz(t.file("p2.gz"), std::vector<std::uint8_t>(bytes.begin() + std::ptrdiff_t(half), bytes.end()));
  auto joined = actlab::test::read_bytes(t.file("p1.gz"));
  const auto second = actlab::test::read_bytes(t.file("p2.gz"));
  joined.insert(joined.end(), second.begin(), second.end());
  write_bytes(t.file("joined.gz"), joined);
  const auto a = read_idx(t.file("joined.gz"));
  EXPECT_EQ(a.dims, (std::vector<std::size_t>{1000, 28, 28}));
  EXPECT_EQ(a.data, std::vector<std::uint8_t>(bytes.begin() + 16, bytes.end()));
}

TEST(Idx, RejectsBrokenFiles) {
  TempDir t;
  const std::string p = t.file("bad-idx");
  auto rejects = [&](const std::vector<std::uint8_t>& bytes, const std::string& word) {
    write_bytes(p, bytes);
    return throws_with([&] { read_idx(p); }, p + ":", word);
  };
  auto rejects_gz = [&](const std::vector<std::uint8_t>& bytes, const std::string& word) {
    write_gz(p, bytes);
    return throws_with([&] { read_idx(p); }, p + ":", word);
  };
  EXPECT_TRUE(rejects({}, "too short")) << "empty file";
  EXPECT_TRUE(rejects_gz({}, "too short")) << "empty gzip";
  auto bad_magic = idx_bytes({2});
  bad_magic[0] = 1;
  EXPECT_TRUE(rejects(bad_magic, "bad magic"));
  auto floats = idx_bytes({2});
  floats[2] = 0x0D;
  EXPECT_TRUE(rejects(floats, "0x0d"));
  EXPECT_TRUE(rejects({0, 0, 8, 0}, "0 dimensions"));
  EXPECT_TRUE(rejects({0, 0, 8, 5, 0, 0, 0, 1}, "5 dimensions"));
  EXPECT_TRUE(rejects({0, 0, 8, 3, 0, 0, 0, 1}, "header is truncated"));
  // Sizes that lie: 60000 x 28 x 28 declared, 10 bytes present; nothing that large may be allocated.
  EXPECT_TRUE(rejects(idx_bytes({60000, 28, 28}, std::vector<std::uint8_t>(10, 1)), "truncated"));
  EXPECT_TRUE(rejects_gz(idx_bytes({60000, 28, 28}, std::vector<std::uint8_t>(10, 1)), "truncated"));
  EXPECT_TRUE(rejects(idx_bytes({0xffffffff, 0xffffffff, 0xffffffff}, {1}), "overflow"));
  auto trailing = idx_bytes({4});
  trailing.push_back(9);
  EXPECT_TRUE(rejects(trailing, "trailing"));
}

TEST(Idx, RejectsBrokenGzipStreams) {
  TempDir t;
  write_gz(t.file("ok.gz"), idx_bytes({500, 10}));
  const auto gz = actlab::test::read_bytes(t.file("ok.gz"));
  const std::string p = t.file("bad.gz");
  write_bytes(p, std::vector<std::uint8_t>(gz.begin(), gz.begin() + std::ptrdiff_t(gz.size() / 2)));
  EXPECT_TRUE(throws_with([&] { read_idx(p); }, p + ":", "truncated"));
  auto corrupt = gz;
  for (std::size_t i = 12; i < 40 && i < corrupt.size(); ++i) corrupt[i] ^= 0x5a;
  write_bytes(p, corrupt);
  EXPECT_TRUE(throws_with([&] { read_idx(p); }, p + ":", "gzip"));
  auto garbage = gz;
  garbage.push_back(0x42);  // not another gzip member
  write_bytes(p, garbage);
  EXPECT_TRUE(throws_with([&] { read_idx(p); }, p + ":", "gzip"));
}

TEST(Idx, DirectoryIsAnError) {
  TempDir t;
  EXPECT_TRUE(throws_with([&] { read_idx(t.dir.string()); }, t.dir.string() + ":", "directory"));
}
