// Finding and running gnuplot, and the small text helpers the figures share.
#include "report/report_internal.hpp"

#include "actlab/file_io.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <spawn.h>
#include <stdexcept>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace actlab {

std::string find_gnuplot(const std::string& search_path) {
  std::string path = search_path;
  if (path.empty()) {
    const char* env = std::getenv("PATH");
    path = env ? env : "";
  }
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find(':', start), path.size());
    const std::string folder = path.substr(start, end - start);
    start = end + 1;
    if (folder.empty()) continue;  // an empty entry would mean ".": not a place to run programs from
    const std::string candidate = folder + "/gnuplot";
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return "";
}

}  // namespace actlab

namespace actlab::report {
namespace {

namespace fs = std::filesystem;

std::string read_small_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text;
}

// Runs `program script` with stdin from /dev/null and stdout + stderr into log; returns the exit status.
int run_program(const std::string& program, const std::string& script, const std::string& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> argv{const_cast<char*>(program.c_str()), const_cast<char*>(script.c_str()), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error(fmt::format("cannot run {}: {}", program, std::strerror(rc)));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw std::runtime_error(fmt::format("waiting for {}: {}", program, std::strerror(errno)));
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

void sync_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw std::runtime_error(fmt::format("{}: {}", path, std::strerror(errno)));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw std::runtime_error(fmt::format("{}: fsync: {}", path, std::strerror(errno)));
}

}  // namespace

std::string gnuplot_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += "''";  // gnuplot's escape inside single quotes
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out + "'";
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string number_text(double v) { return std::isfinite(v) ? fmt::format("{}", v) : std::string(); }
std::string number_text(float v) { return std::isfinite(v) ? fmt::format("{}", v) : std::string(); }

const char* series_color(std::size_t i) {
  // Tableau 10: distinguishable, and readable on white.
  static const char* const colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                       "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return colors[i % 10];
}

std::string file_stem(const std::string& text) {
  std::string out;
  for (char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    out += ok ? c : '_';
  }
  return out.empty() ? "_" : out;
}

void draw_figure(const std::string& gnuplot, const Figure& figure, const std::string& path, FigureFormat format) {
  const std::string tag = fmt::format(".tmp{}", ::getpid());
  const std::string image = path + tag, script_path = path + tag + ".gp", log_path = path + tag + ".log";
  std::string script =
      format == FigureFormat::svg
          ? fmt::format("set terminal svg size {},{} font 'DejaVu Sans,13' background rgb 'white' noenhanced\n",
                        figure.width, figure.height)
          : fmt::format("set terminal pngcairo size {},{} font 'DejaVu Sans,11' background rgb 'white' noenhanced\n",
                        figure.width, figure.height);
  script += "set output " + gnuplot_quote(image) + "\n" + figure.script + "\nunset output\n";
  write_file_atomic(script_path, script);
  int status = 0;
  try {
    status = run_program(gnuplot, script_path, log_path);
  } catch (...) {
    fs::remove(script_path);
    throw;
  }
  const std::string log = read_small_file(log_path);
  std::error_code ec;
  fs::remove(script_path, ec);
  fs::remove(log_path, ec);
  if (status != 0 || !fs::exists(image) || fs::file_size(image) == 0) {
    fs::remove(image, ec);
    std::string why = log.size() > 600 ? "..." + log.substr(log.size() - 600) : log;
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    throw std::runtime_error(fmt::format("gnuplot could not draw {} (exit status {}): {}", path, status,
                                         why.empty() ? "no message" : why));
  }
  sync_file(image);
  fs::rename(image, path, ec);
  if (ec) {  // e.g. a folder of that name
    fs::remove(image);
    throw std::runtime_error(fmt::format("{}: cannot write the figure ({})", path, ec.message()));
  }
}

}  // namespace actlab::report
