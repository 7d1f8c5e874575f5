#include "actlab/safetensors.hpp"
#include "io_test_util.hpp"

#include <nlohmann/json.hpp>

using actlab::NamedTensor;
using actlab::read_safetensors;
using actlab::TensorMap;
using actlab::write_safetensors;
using actlab::test::read_bytes;
using actlab::test::TempDir;
using actlab::test::throws_with;
using actlab::test::write_bytes;

namespace {

std::vector<std::uint8_t> st_bytes(const std::string& header, std::size_t data_bytes) {
  std::vector<std::uint8_t> b(8 + header.size() + data_bytes, 0);
  for (int i = 0; i < 8; ++i) b[std::size_t(i)] = std::uint8_t(std::uint64_t(header.size()) >> (8 * i));
  std::copy(header.begin(), header.end(), b.begin() + 8);
  return b;
}

TensorMap sample() {
  TensorMap m;
  m["fc.weight"] = {{2, 3}, {1, -2, 3.5f, 0, 1e-20f, -0.0f}, {}, "F32"};
  m["fc.bias"] = {{2}, {0.25f, -0.5f}, {}, "F32"};
  m["bn.num_batches_tracked"] = {{}, {}, {std::int64_t(1) << 40}, "I64"};
  m["bn.running_mean"] = {{3}, {1, 2, 3}, {}, "F32"};
  m["empty"] = {{0, 4}, {}, {}, "F32"};
  m["idx"] = {{2}, {}, {-1, 5}, "I64"};
  return m;
}

}  // namespace

TEST(Safetensors, RoundTripsF32I64AndMetadata) {
  TempDir t;
  const std::string path = t.file("m.safetensors");
  const TensorMap m = sample();
  const std::map<std::string, std::string> meta = {{"format", "pt"}, {"note", "actlab test"}};
  write_safetensors(path, m, meta);
  const TensorMap r = read_safetensors(path);
  ASSERT_EQ(r.size(), m.size());
  for (const auto& [name, t0] : m) {
    const NamedTensor& t1 = r.at(name);
    EXPECT_EQ(t1.dtype, t0.dtype) << name;
    EXPECT_EQ(t1.shape, t0.shape) << name;
    EXPECT_EQ(t1.f32, t0.f32) << name;
    EXPECT_EQ(t1.i64, t0.i64) << name;
  }

  // The layout: header padded to 8 bytes, metadata as a string map, data laid out in name order.
  const auto bytes = read_bytes(path);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | bytes[std::size_t(i)];
  EXPECT_EQ(n % 8, 0u);
  const std::string text(bytes.begin() + 8, bytes.begin() + 8 + std::ptrdiff_t(n));
  const auto header = nlohmann::json::parse(text);
  using StringMap = std::map<std::string, std::string>;
  EXPECT_EQ(header["__metadata__"].get<StringMap>(), meta);
  std::uint64_t cursor = 0;
  std::size_t last_pos = 0;
  for (const auto& [name, t0] : m) {  // std::map iterates in name order
    const auto offsets = header[name]["data_offsets"].get<std::vector<std::uint64_t>>();
    EXPECT_EQ(offsets[0], cursor) << name;
    cursor = offsets[1];
    const std::size_t pos = text.find("\"" + name + "\"");
    EXPECT_GT(pos, last_pos) << "keys must be written sorted";
    last_pos = pos;
  }
  EXPECT_EQ(8 + n + cursor, bytes.size());
}

TEST(Safetensors, EmptyMapRoundTrips) {
  TempDir t;
  write_safetensors(t.file("e.safetensors"), {});
  EXPECT_TRUE(read_safetensors(t.file("e.safetensors")).empty());
}

TEST(Safetensors, WriteRejectsBadTensors) {
  TempDir t;
  const std::string p = t.file("w.safetensors");
  TensorMap bad_dtype = {{"x", {{1}, {1.0f}, {}, "F16"}}};
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { write_safetensors(p, bad_dtype); }, p + ":", "F16"));
  TensorMap bad_size = {{"x", {{2, 2}, {1.0f}, {}, "F32"}}};
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { write_safetensors(p, bad_size); }, p + ":", "'x'"));
  TensorMap reserved = {{"__metadata__", {{1}, {1.0f}, {}, "F32"}}};
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { write_safetensors(p, reserved); }, p + ":", "reserved"));
  EXPECT_FALSE(std::filesystem::exists(p));
}

TEST(Safetensors, RejectsBrokenFiles) {
  TempDir t;
  const std::string p = t.file("bad.safetensors");
  auto rejects = [&](const std::vector<std::uint8_t>& bytes, const std::string& word) {
    write_bytes(p, bytes);
    return throws_with([&] { read_safetensors(p); }, p + ":", word);
  };
  const std::string f32x2 = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  EXPECT_TRUE(rejects({}, "too short")) << "empty file";
  EXPECT_TRUE(rejects({1, 2, 3}, "too short"));
  auto lying = st_bytes(f32x2, 8);
  lying[5] = 1;  // header length about 2^40
  EXPECT_TRUE(rejects(lying, "runs past the end"));
  EXPECT_TRUE(rejects(st_bytes("{not json", 0), "not valid JSON"));
  EXPECT_TRUE(rejects(st_bytes("[1, 2]", 0), "not a JSON object"));
  EXPECT_TRUE(rejects(st_bytes(R"({"w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}})", 4), "'w': dtype 'BF16'"));
  EXPECT_TRUE(rejects(st_bytes(f32x2, 7), "do not fit")) << "truncated data";
  EXPECT_TRUE(rejects(st_bytes(f32x2, 12), "tensors cover 8")) << "trailing data";
  EXPECT_TRUE(rejects(st_bytes(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "needs 12 bytes"));
  EXPECT_TRUE(rejects(st_bytes(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8), "non-negative"));
  EXPECT_TRUE(rejects(st_bytes(R"({"a":{"dtype":"F32","shape":[4611686018427387904,8],"data_offsets":[0,8]}})", 8),
                      "overflows"))
      << "a shape whose byte size overflows";
  EXPECT_TRUE(rejects(st_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8), "do not fit"));
  EXPECT_TRUE(rejects(st_bytes(R"({"a":{"dtype":"F32","shape":[2]}})", 8), "data_offsets"));
  EXPECT_TRUE(rejects(st_bytes(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", 8), "dtype"));
  EXPECT_TRUE(rejects(st_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                               R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8),
                      "overlap"));
  EXPECT_TRUE(rejects(st_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8), "gap"));
  EXPECT_TRUE(rejects(st_bytes(R"({"__metadata__":{"k":1}})", 0), "__metadata__"));
  EXPECT_TRUE(rejects(st_bytes(R"({"a":[1]})", 0), "'a': entry is not"));
}

TEST(Safetensors, DirectoryIsAnError) {
  TempDir t;
  EXPECT_TRUE(throws_with([&] { read_safetensors(t.dir.string()); }, t.dir.string() + ":", "directory"));
}
