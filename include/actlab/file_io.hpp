// Reading and writing whole files, safely.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace actlab {

// Reads a whole file. Throws std::runtime_error "PATH: REASON" when it is missing, a directory,
// unreadable, or larger than max_bytes (a guard against a header that lies about sizes).
std::vector<std::byte> read_file(const std::string& path, std::size_t max_bytes = std::size_t(1) << 33);

// Writes `bytes` to a temporary file in the same folder, flushes it to disk and renames it over
// `path`: a crash leaves the old file or the new one, never half of one, with the old one's
// permissions. Symbolic links are followed as open() follows them (the file a link names is
// replaced, the link stays). A device or pipe that exists (/dev/null, a FIFO) is written straight
// into, and a descriptor's name (/dev/stdout, /dev/fd/N) appends to its file; a FIFO that no process
// reads from is an error rather than a wait. Like a shell's >, a file this process may not open for
// writing is refused. Throws std::runtime_error.
void write_file_atomic(const std::string& path, std::span<const std::byte> bytes);
void write_file_atomic(const std::string& path, const std::string& text);

// Checks, before any work, that the folder `dir` can be made or written into: the nearest part of
// its path that exists must be a folder this process may write into (a folder, existing or not, is
// fine). Throws std::invalid_argument "--out DIR: ..." naming the part in the way.
void check_output_folder(const std::string& dir);

// Removes the temporary files that write_file_atomic left in `dir` when its process was killed
// between creating one and renaming it (".NAME.tmp.PID.N" whose PID no longer runs). Returns how
// many it removed; errors are ignored (a best-effort tidy-up). PIDs are this machine's and this
// PID namespace's: a folder shared with another container or machine may hold live writers' files.
std::size_t remove_stale_temporaries(const std::string& dir);

}  // namespace actlab
