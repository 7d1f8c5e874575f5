// Whole-file reads with a size cap, and atomic writes (temp file + fsync + rename; through
// symbolic links, and straight into devices and pipes).
#include "actlab/file_io.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <regex>
#include <utility>
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

// Closes a descriptor that was written to: close() can report a write-back error. Returns 0 or
// an errno value.
int close_written(Fd& f) {
  const int fd = std::exchange(f.fd, -1);
  return ::close(fd) == 0 ? 0 : errno;
}

// Paths that name an open descriptor of this process (/dev/stdout, /dev/fd/N, /proc/self/fd/N): a
// write goes into that descriptor's file, appended, as `actlab ... --output /dev/stdout >> log`
// expects; replacing the file would cut it off from the descriptor.
bool names_a_descriptor(const std::string& path) {
  for (const char* prefix : {"/dev/stdout", "/dev/stderr", "/dev/fd/", "/proc/self/fd/"})
    if (path.starts_with(prefix)) return true;
  return false;
}

// A symbolic link that names no file yet, followed by hand, as Linux's protected_symlinks rule
// would let open() follow it: only where the link is ours, or its folder is not a sticky
// world-writable one (like /tmp), or the folder's owner owns the link too.
std::filesystem::path follow_dangling_link(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path at(path);
  for (int hops = 0; hops < 40; ++hops) {  // Linux's own limit on links in a row
    struct stat link {}, dir {};
    if (::lstat(at.c_str(), &link) != 0 || !S_ISLNK(link.st_mode)) return at;
    const fs::path folder = at.has_parent_path() ? at.parent_path() : fs::path(".");
    if (::stat(folder.c_str(), &dir) == 0 && (dir.st_mode & S_ISVTX) && (dir.st_mode & S_IWOTH) &&
        link.st_uid != ::geteuid() && link.st_uid != dir.st_uid)
      throw std::runtime_error(fmt::format("{}: will not follow a symbolic link that another user owns in a "
                                           "shared folder",
                                           path));
    std::error_code ec;
    const fs::path next = fs::read_symlink(at, ec);
    if (ec) fail_errno(path, "cannot read symbolic link", ec.value());
    at = next.is_absolute() ? next : folder / next;
  }
  fail_errno(path, "cannot follow", ELOOP);
}

// The path of an open regular file, as the kernel resolved it (symbolic links followed, with the
// kernel's own checks). Falls back to `path` where /proc is not mounted, or where the name found no
// longer leads to that file (it was renamed or removed meanwhile).
std::filesystem::path resolved_path(int fd, const struct stat& opened, const std::string& path) {
  std::error_code ec;
  const std::filesystem::path p = std::filesystem::read_symlink(fmt::format("/proc/self/fd/{}", fd), ec);
  struct stat st {};
  if (ec || !p.is_absolute() || ::stat(p.c_str(), &st) != 0 || st.st_dev != opened.st_dev ||
      st.st_ino != opened.st_ino)
    return path;
  return p;
}

// Writes into something that exists and is not a file to replace: a device (/dev/null), a pipe, or
// a descriptor's file (append). No temporary file and no rename, which would put a regular file
// where the device was.
void write_in_place(const std::string& path, Fd& f, bool append, std::span<const std::byte> bytes) {
  const int flags = ::fcntl(f.fd, F_GETFL);
  if (flags < 0 || ::fcntl(f.fd, F_SETFL, (flags & ~O_NONBLOCK) | (append ? O_APPEND : 0)) != 0)
    fail_errno(path, "cannot set up writing", errno);
  if (int err = write_all(f.fd, bytes.data(), bytes.size())) fail_errno(path, "write error", err);
  if (int err = close_written(f)) fail_errno(path, "cannot close", err);
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
  // What is there, asked of the kernel: the path is opened without creating or truncating anything.
  std::filesystem::path target;  // the regular file to replace, symbolic links followed
  mode_t mode = 0666;            // a new file's (less the umask); an existing file keeps its own
  bool keep_mode = false;
  {
    Fd existing;
    existing.fd = ::open(path.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (existing.fd >= 0) {
      struct stat st {};
      if (::fstat(existing.fd, &st) != 0) fail_errno(path, "cannot stat", errno);
      if (!S_ISREG(st.st_mode) || names_a_descriptor(path))
        return write_in_place(path, existing, S_ISREG(st.st_mode), bytes);
      target = resolved_path(existing.fd, st, path);
      mode = st.st_mode & 07777;
      keep_mode = true;
    } else if (errno == ENOENT) {
      target = follow_dangling_link(path);  // or the path itself, when nothing is there
    } else if (errno == ENXIO) {
      throw std::runtime_error(fmt::format("{}: a FIFO that no process reads from", path));
    } else if (errno == EISDIR) {
      throw std::runtime_error(fmt::format("{}: names a directory, not a file", path));
    } else {
      fail_errno(path, "cannot open for writing", errno);  // as a shell's > would refuse it
    }
  }
  // The temp file lives in the target's folder so that rename() stays on one file system and is
  // atomic. Its name is new (O_EXCL, no links followed); the counter keeps two threads of one process
  // writing the same path apart.
  static std::atomic<unsigned> counter{0};
  const std::filesystem::path folder = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  std::string tmp;
  Fd f;
  for (int attempt = 0; f.fd < 0; ++attempt) {
    tmp = (folder / fmt::format(".{}.tmp.{}.{}", target.filename().string(), ::getpid(), counter.fetch_add(1)))
              .string();
    f.fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (f.fd < 0 && (errno != EEXIST || attempt == 16)) fail_errno(path, "cannot create temporary file", errno);
  }
  auto fail_and_remove = [&](const char* what, int err) {
    if (f.fd >= 0) ::close(f.fd);
    f.fd = -1;
    ::unlink(tmp.c_str());
    fail_errno(path, what, err);
  };
  if (keep_mode && ::fchmod(f.fd, mode) != 0) fail_and_remove("cannot set permissions", errno);
  if (int err = write_all(f.fd, bytes.data(), bytes.size())) fail_and_remove("write error", err);
  if (::fsync(f.fd) != 0) fail_and_remove("cannot flush to disk", errno);
  if (int err = close_written(f)) fail_and_remove("cannot close", err);
  if (::rename(tmp.c_str(), target.c_str()) != 0) fail_and_remove("cannot rename temporary file", errno);

  // Flush the folder entry too, so that the rename itself survives a crash (best effort).
  Fd d;
  d.fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d.fd >= 0) ::fsync(d.fd);
}

void write_file_atomic(const std::string& path, const std::string& text) {
  write_file_atomic(path, std::as_bytes(std::span<const char>(text.data(), text.size())));
}

void check_output_folder(const std::string& dir) {
  namespace fs = std::filesystem;
  // Up the path to the first part that exists ("/" is its own parent).
  for (fs::path p = dir; !p.empty(); p = p == p.parent_path() ? fs::path() : p.parent_path()) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      if (::access(p.c_str(), W_OK | X_OK) != 0)
        throw std::invalid_argument(
            fmt::format("--out {}: cannot write into {}: {}", dir, p.string(), std::strerror(errno)));
      return;
    }
    if (fs::exists(p, ec))
      throw std::invalid_argument(fmt::format("--out {}: {} is a file, not a folder", dir, p.string()));
  }
}

std::size_t remove_stale_temporaries(const std::string& dir) {
  static const std::regex temporary(R"(\..+\.tmp\.([0-9]{1,9})\.[0-9]+)");  // as write_file_atomic names them
  std::size_t removed = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    std::smatch m;
    if (!std::regex_match(name, m, temporary)) continue;
    const long pid = std::stol(m[1].str());
    if (pid <= 0 || pid == long(::getpid()) || ::kill(pid_t(pid), 0) == 0 || errno != ESRCH) continue;
    if (std::filesystem::remove(entry.path(), ec)) ++removed;
  }
  return removed;
}

}  // namespace actlab
