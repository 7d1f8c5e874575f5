#include "actlab/file_io.hpp"
#include "io_test_util.hpp"

#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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

TEST(FileIo, DirectoryIsRefusedAndNothingIsLeft) {
  TempDir t;
  const std::string target = t.file("occupied"), link = t.file("link");
  std::filesystem::create_directories(std::filesystem::path(target) / "child");
  std::filesystem::create_directory_symlink("occupied", link);
  EXPECT_TRUE(throws_with([&] { write_file_atomic(target, std::string("data")); }, target + ":", "directory"));
  EXPECT_TRUE(throws_with([&] { write_file_atomic(link, std::string("data")); }, link + ":", "directory"));
  EXPECT_EQ(entries(t.dir), 2u) << "a temporary file was left behind";
}

TEST(FileIo, EmptyPathIsAnError) {
  EXPECT_THROW(read_file(""), std::runtime_error);
  EXPECT_THROW(write_file_atomic("", std::string("x")), std::runtime_error);
}

// A symbolic link stays a link: the file it names gets the bytes (also through a dangling link,
// which creates that file).
TEST(FileIo, WriteFollowsSymbolicLinks) {
  TempDir t;
  const std::string target = t.file("target.bin"), link = t.file("link.bin"), dangling = t.file("dangling.bin");
  write_file_atomic(target, std::string("old"));
  std::filesystem::create_symlink("target.bin", link);
  write_file_atomic(link, std::string("new"));
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  const auto bytes = read_file(target);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()), "new");
  std::filesystem::create_symlink("made.bin", dangling);
  write_file_atomic(dangling, std::string("x"));
  EXPECT_TRUE(std::filesystem::is_symlink(dangling));
  EXPECT_TRUE(std::filesystem::is_regular_file(t.file("made.bin")));
  const std::string loop = t.file("loop.bin");
  std::filesystem::create_symlink("loop.bin", loop);
  EXPECT_TRUE(throws_with([&] { write_file_atomic(loop, std::string("x")); }, loop + ":", "symbolic"));
}

// A FIFO (like /dev/null or /dev/stdout, something that is not a file) is written into, not
// replaced by a regular file. The read end is opened first, without blocking, so that the write
// does not wait for a reader, and a wrong implementation fails here instead of hanging.
TEST(FileIo, WriteIntoAFifoLeavesTheFifo) {
  TempDir t;
  const std::string fifo = t.file("out.npy");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  write_file_atomic(fifo, std::string("through the pipe"));
  char got[64] = {};
  const ssize_t n = ::read(reader, got, sizeof got);
  ::close(reader);
  EXPECT_EQ(std::string(got, n > 0 ? std::size_t(n) : 0), "through the pipe");
  EXPECT_TRUE(std::filesystem::is_fifo(fifo));
  EXPECT_EQ(entries(t.dir), 1u) << "a temporary file was left behind";
  // With no reader a write would wait forever (as a shell's > does): it is an error instead.
  EXPECT_TRUE(throws_with([&] { write_file_atomic(fifo, std::string("x")); }, fifo + ":", "reads"));
  EXPECT_TRUE(std::filesystem::is_fifo(fifo));
}

// A file replaced through a link keeps its permissions (the new file is made, then renamed over it).
TEST(FileIo, ReplacedFileKeepsItsPermissions) {
  TempDir t;
  const std::string target = t.file("secret.bin"), link = t.file("link.bin");
  write_file_atomic(target, std::string("old"));
  std::filesystem::permissions(target, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::filesystem::create_symlink("secret.bin", link);
  write_file_atomic(link, std::string("new"));
  EXPECT_EQ(std::filesystem::status(target).permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

// Temporary files of a process that no longer runs (killed between write and rename) are removed;
// those of this process, and other names, are kept.
TEST(FileIo, StaleTemporariesOfDeadProcessesAreRemoved) {
  TempDir t;
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);  // its pid now names no process
  const std::string dead = std::to_string(child), self = std::to_string(::getpid());
  for (const std::string name : {".checkpoint.safetensors.tmp." + dead + ".3", ".history.json.tmp." + self + ".0",
                                 "model.tmp." + dead + ".1", std::string(".x.tmp.abc.1"), ".y.tmp." + dead})
    write_file_atomic(t.file(name), std::string("x"));
  EXPECT_EQ(actlab::remove_stale_temporaries(t.dir.string()), 1u);
  EXPECT_FALSE(std::filesystem::exists(t.file(".checkpoint.safetensors.tmp." + dead + ".3")));
  EXPECT_EQ(entries(t.dir), 4u);
  EXPECT_EQ(actlab::remove_stale_temporaries(t.file("no_such_folder")), 0u);
}
