#include "actlab/file_io.hpp"
#include "io_test_util.hpp"

#include <filesystem>

using actlab::read_file;
using actlab::write_file_atomic;
using actlab::test::TempDir;
using actlab::test::throws_with;

namespace {

std::size_t entries(const std::filesystem::path& dir) {
  return std::size_t(std::distance(std::filesystem::directory_iterator(dir), {}));
}

}  // namespace

TEST(FileIo, WriteThenReadRoundTrips) {
  TempDir t;
  const std::string path = t.file("a.bin");
  const std::vector<std::byte> data = {std::byte{0}, std::byte{0xff}, std::byte{7}};
  write_file_atomic(path, data);
  EXPECT_EQ(read_file(path), data);
  write_file_atomic(path, std::string("hello\n"));  // replaces the old content
  const auto text = read_file(path);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(text.data()), text.size()), "hello\n");
  EXPECT_EQ(entries(t.dir), 1u) << "a temporary file was left behind";
}

TEST(FileIo, EmptyFileReadsAsNoBytes) {
  TempDir t;
  write_file_atomic(t.file("empty"), std::string());
  EXPECT_TRUE(read_file(t.file("empty")).empty());
}

TEST(FileIo, MissingFileNamesPathAndReason) {
  TempDir t;
  const std::string path = t.file("missing.bin");
  EXPECT_TRUE(throws_with([&] { read_file(path); }, path + ":", "No such file"));
}

TEST(FileIo, DirectoryIsNotAFile) {
  TempDir t;
  EXPECT_TRUE(throws_with([&] { read_file(t.dir.string()); }, t.dir.string() + ":", "directory"));
}

TEST(FileIo, SizeCapIsEnforcedBeforeReading) {
  TempDir t;
  const std::string path = t.file("big");
  write_file_atomic(path, std::string(100, 'x'));
  EXPECT_EQ(read_file(path, 100).size(), 100u);
  EXPECT_TRUE(throws_with([&] { read_file(path, 99); }, path + ":", "limit"));
}

TEST(FileIo, WriteIntoMissingFolderFails) {
  TempDir t;
  const std::string path = t.file("no/such/folder/x.bin");
  EXPECT_TRUE(throws_with([&] { write_file_atomic(path, std::string("x")); }, path + ":", "temporary"));
}

TEST(FileIo, FailedRenameRemovesTheTemporaryFile) {
  TempDir t;
  const std::string target = t.file("occupied");
  std::filesystem::create_directories(std::filesystem::path(target) / "child");  // rename cannot replace it
  EXPECT_TRUE(throws_with([&] { write_file_atomic(target, std::string("data")); }, target + ":", "rename"));
  EXPECT_EQ(entries(t.dir), 1u) << "the temporary file was not removed";
}

TEST(FileIo, EmptyPathIsAnError) {
  EXPECT_THROW(read_file(""), std::runtime_error);
  EXPECT_THROW(write_file_atomic("", std::string("x")), std::runtime_error);
}
