// Whole-file reads with a size cap, and atomic writes (temp file + fsync + rename; through
// symbolic links, and straight into devices and pipes).
#include "actlab/file_io.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

namespace actlab {
namespace {

[[noreturn]] void fail_errno(const std::string& path, const char* what, int err) {
  throw std::runtime_error(fmt::format("{}: {}: {}", path, what, std::strerror(err)));
}

// Closes the descriptor on every path out of a function.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Writes all of `bytes`, retrying short writes and EINTR. Returns 0 or an errno value.
int write_all(int fd, const std::byte* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += n;
    size -= std::size_t(n);
  }
  return 0;
}

// The path a write lands on: a symbolic link is followed to the file it names, so that the link
// stays a link (renaming over it would replace the link and leave its target as it was).
std::filesystem::path follow_links(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path at(path);
  for (int hops = 0; hops < 40; ++hops) {  // Linux's own limit on links in a row
    std::error_code ec;
    if (!fs::is_symlink(fs::symlink_status(at, ec))) return at;
    const fs::path next = fs::read_symlink(at, ec);
    if (ec) fail_errno(path, "cannot read symbolic link", ec.value());
    at = next.is_absolute() ? next : at.parent_path() / next;
  }
  fail_errno(path, "cannot follow", ELOOP);
}

// Writes into a device, pipe or socket that already exists (/dev/null, /dev/stdout, a FIFO):
// there is no file to replace, so no temporary file and no rename, which would put a regular file
// where the device was.
void write_in_place(const std::string& path, const std::string& at, std::span<const std::byte> bytes) {
  Fd f;
  f.fd = ::open(at.c_str(), O_WRONLY | O_CLOEXEC);
  if (f.fd < 0) fail_errno(path, "cannot open", errno);
  if (int err = write_all(f.fd, bytes.data(), bytes.size())) fail_errno(path, "write error", err);
  const int fd = f.fd;
  f.fd = -1;
  if (::close(fd) != 0) fail_errno(path, "cannot close", errno);
}

}  // namespace

std::vector<std::byte> read_file(const std::string& path, std::size_t max_bytes) {
  if (path.empty()) throw std::runtime_error("(empty path): no file name given");
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0) fail_errno(path, "cannot open", errno);
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) fail_errno(path, "cannot stat", errno);
  if (S_ISDIR(st.st_mode)) throw std::runtime_error(fmt::format("{}: is a directory, not a file", path));

  std::vector<std::byte> bytes;
  if (S_ISREG(st.st_mode)) {
    // The size is known: check it against the cap before allocating anything.
    const auto size = std::uint64_t(st.st_size);
    if (size > max_bytes)
      throw std::runtime_error(
          fmt::format("{}: file is {} bytes, more than the limit of {} bytes", path, size, max_bytes));
    bytes.resize(std::size_t(size));
  }
  // Read until end of file; for pipes and devices the size is unknown, so grow in chunks under the cap.
  std::size_t used = 0;
  for (;;) {
    if (used == bytes.size()) {
      if (S_ISREG(st.st_mode)) {
        // One more read detects a file that grew after fstat.
        std::byte probe;
        ssize_t n;
        do n = ::read(f.fd, &probe, 1); while (n < 0 && errno == EINTR);
        if (n < 0) fail_errno(path, "read error", errno);
        if (n > 0) throw std::runtime_error(fmt::format("{}: file grew while being read", path));
        break;
      }
      if (bytes.size() >= max_bytes)
        throw std::runtime_error(fmt::format("{}: more than the limit of {} bytes", path, max_bytes));
      bytes.resize(std::min(max_bytes, std::max<std::size_t>(bytes.size() * 2, 1 << 16)));
    }
    const ssize_t n = ::read(f.fd, bytes.data() + used, bytes.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno(path, "read error", errno);
    }
    if (n == 0) {
      if (S_ISREG(st.st_mode))
        throw std::runtime_error(
            fmt::format("{}: file shrank while being read ({} of {} bytes)", path, used, bytes.size()));
      break;
    }
    used += std::size_t(n);
  }
  bytes.resize(used);
  return bytes;
}

void write_file_atomic(const std::string& path, std::span<const std::byte> bytes) {
  if (path.empty()) throw std::runtime_error("(empty path): no file name given");
  if (!std::filesystem::path(path).has_filename())
    throw std::runtime_error(fmt::format("{}: names a directory, not a file", path));
  const std::filesystem::path target = follow_links(path);
  struct stat st {};
  if (::stat(target.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
    return write_in_place(path, target.string(), bytes);
  // The temp file lives in the target's folder so that rename() stays on one file system and is atomic.
  // The counter keeps two threads of one process writing the same path apart.
  static std::atomic<unsigned> counter{0};
  const std::string tmp =
      (target.parent_path() / fmt::format(".{}.tmp.{}.{}", target.filename().string(), ::getpid(),
                                          counter.fetch_add(1)))
          .string();

  Fd f;
  f.fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (f.fd < 0) fail_errno(path, "cannot create temporary file", errno);
  auto fail_and_remove = [&](const char* what, int err) {
    if (f.fd >= 0) ::close(f.fd);
    f.fd = -1;
    ::unlink(tmp.c_str());
    fail_errno(path, what, err);
  };
  if (int err = write_all(f.fd, bytes.data(), bytes.size())) fail_and_remove("write error", err);
  if (::fsync(f.fd) != 0) fail_and_remove("cannot flush to disk", errno);
  const int fd = f.fd;
  f.fd = -1;
  if (::close(fd) != 0) fail_and_remove("cannot close", errno);
  if (::rename(tmp.c_str(), target.c_str()) != 0) fail_and_remove("cannot rename temporary file", errno);

  // Flush the folder entry too, so that the rename itself survives a crash (best effort).
  const std::string dir = target.has_parent_path() ? target.parent_path().string() : std::string(".");
  Fd d;
  d.fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d.fd >= 0) ::fsync(d.fd);
}

void write_file_atomic(const std::string& path, const std::string& text) {
  write_file_atomic(path, std::as_bytes(std::span<const char>(text.data(), text.size())));
}

std::size_t remove_stale_temporaries(const std::string& dir) {
  std::size_t removed = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    // ".NAME.tmp.PID.N", as write_file_atomic names them.
    const std::size_t tmp = name.rfind(".tmp.");
    if (name.empty() || name[0] != '.' || tmp == std::string::npos || tmp == 0) continue;
    const std::string tail = name.substr(tmp + 5);
    const std::size_t dot = tail.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == tail.size() ||
        tail.find_first_not_of("0123456789.") != std::string::npos || tail.find('.', dot + 1) != std::string::npos)
      continue;
    const long pid = std::strtol(tail.substr(0, dot).c_str(), nullptr, 10);
    if (pid <= 0 || pid == long(::getpid()) || ::kill(pid_t(pid), 0) == 0 || errno != ESRCH) continue;
    if (std::filesystem::remove(entry.path(), ec)) ++removed;
  }
  return removed;
}

}  // namespace actlab
