// The report page: one self-contained HTML file. Figures are embedded as data: URIs, the style sheet
// and the one script are inline, and nothing is fetched from anywhere.
#include "report/report_internal.hpp"

#include "actlab/file_io.hpp"

#include <algorithm>
#include <cstdlib>
#include <fmt/format.h>

namespace actlab::report {
namespace {

const char* const css = R"(
body { font-family: "DejaVu Sans", system-ui, sans-serif; max-width: 1180px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.1em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
.sub { color: #666; margin-top: 0; }
.message { background: #fff4e5; border-left: 4px solid #f0a020; padding: 0.6em 1em; }
dl.settings { display: grid; grid-template-columns: max-content auto; gap: 0.1em 1em; }
dl.settings dt { color: #666; } dl.settings dd { margin: 0; }
table { border-collapse: collapse; font-size: 0.92em; }
.table-wrap { overflow-x: auto; margin: 0.5em 0 1em; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 0.3em 0.8em; text-align: left; white-space: nowrap; }
th { font-weight: 600; vertical-align: bottom; }
td.long { white-space: normal; min-width: 22em; overflow-wrap: anywhere; font-size: 0.92em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f4f4f4; }
figure { margin: 0.8em 0 1.5em; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.95em; max-width: 62em; }
.data { color: #777; }
.not-drawn { background: #f7f7f7; border: 1px dashed #bbb; padding: 1.5em; color: #666; }
ul.warnings li { color: #8a4b00; }
.check { color: #999; font-size: 0.8em; margin-top: 3em; }
)";

// On load, counts the figures the browser actually drew (decoded, non-zero size) and writes the count
// into the page: a headless browser's DOM dump then says whether every figure is visible.
const char* const check_script = R"(
window.addEventListener('load', function () {
  var images = document.querySelectorAll('figure img');
  var visible = 0;
  images.forEach(function (img) {
    var box = img.getBoundingClientRect();
    if (img.complete && img.naturalWidth > 0 && img.naturalHeight > 0 && box.width > 0 && box.height > 0) visible++;
  });
  document.getElementById('figure-check').textContent =
      'figures-visible: ' + visible + ' of ' + images.length;
});
)";

bool looks_numeric(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

std::string table_html(const Table& t) {
  // Column names are the JSON keys, with spaces for underscores so that headers can wrap.
  std::string out = "<div class=\"table-wrap\"><table>\n<tr>";
  for (std::string c : t.columns) {
    std::replace(c.begin(), c.end(), '_', ' ');
    out += "<th>" + html_escape(c) + "</th>";
  }
  out += "</tr>\n";
  for (const auto& row : t.rows) {
    out += "<tr>";
    for (std::size_t c = 0; c < t.columns.size(); ++c) {
      const std::string cell = c < row.size() ? row[c] : "";
      const char* cls = looks_numeric(cell) ? " class=\"num\"" : cell.size() > 40 ? " class=\"long\"" : "";
      out += fmt::format("<td{}>{}</td>", cls, html_escape(cell));
    }
    out += "</tr>\n";
  }
  return out + "</table></div>\n";
}

std::string image_html(const PageFigure& pf) {
  const std::vector<std::byte> bytes = read_file(pf.image_path, std::size_t(1) << 28);
  const std::string mime = pf.image_path.ends_with(".png") ? "image/png" : "image/svg+xml";
  return fmt::format("<img src=\"data:{};base64,{}\" width=\"{}\" height=\"{}\" alt=\"{}\">", mime,
                     base64(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size())),
                     pf.figure->width, pf.figure->height, html_escape(pf.figure->title));
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string base64(const std::string& bytes) {
  static const char* const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    unsigned v = unsigned(static_cast<unsigned char>(bytes[i])) << 16;
    if (n > 1) v |= unsigned(static_cast<unsigned char>(bytes[i + 1])) << 8;
    if (n > 2) v |= unsigned(static_cast<unsigned char>(bytes[i + 2]));
    out += digits[(v >> 18) & 63];
    out += digits[(v >> 12) & 63];
    out += n > 1 ? digits[(v >> 6) & 63] : '=';
    out += n > 2 ? digits[v & 63] : '=';
  }
  return out;
}

std::string render_page(const Page& page) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>" + html_escape(page.title) + "</title>\n<style>" + css + "</style>\n</head>\n<body>\n";
  out += "<h1>" + html_escape(page.title) + "</h1>\n<p class=\"sub\">" + html_escape(page.subtitle) + "</p>\n";
  if (!page.message.empty()) out += "<p class=\"message\">" + html_escape(page.message) + "</p>\n";
  if (!page.settings.empty()) {
    out += "<dl class=\"settings\">\n";
    for (auto [key, value] : page.settings) {
      std::replace(key.begin(), key.end(), '_', ' ');
      out += "<dt>" + html_escape(key) + "</dt><dd>" + html_escape(value) + "</dd>\n";
    }
    out += "</dl>\n";
  }
  if (!page.figures.empty()) {
    out += "<p>Figures: ";
    for (std::size_t i = 0; i < page.figures.size(); ++i)
      out += fmt::format("{}<a href=\"#{}\">{}</a>", i ? " · " : "", page.figures[i].figure->name,
                         html_escape(page.figures[i].figure->title));
    out += "</p>\n";
  }
  for (const auto& [heading, table] : page.tables)
    out += "<h2>" + html_escape(heading) + "</h2>\n" + table_html(table);
  if (!page.warnings.empty()) {
    out += "<h2>Warnings from the diagnostics (last epoch)</h2>\n<ul class=\"warnings\">\n";
    for (const auto& [run, warnings] : page.warnings)
      for (const std::string& w : warnings) out += "<li>" + html_escape(run) + ": " + html_escape(w) + "</li>\n";
    out += "</ul>\n";
  }
  if (!page.notes.empty()) {
    out += "<h2>Notes</h2>\n<ul>\n";
    for (const std::string& n : page.notes) out += "<li>" + html_escape(n) + "</li>\n";
    out += "</ul>\n";
  }
  for (const PageFigure& pf : page.figures) {
    out += fmt::format("<h2 id=\"{}\">{}</h2>\n<figure>\n", pf.figure->name, html_escape(pf.figure->title));
    out += pf.image_path.empty() ? "<div class=\"not-drawn\">not drawn: " + html_escape(pf.why_not) + "</div>"
                                 : image_html(pf);
    out += "\n<figcaption>" + html_escape(pf.figure->caption) + " <span class=\"data\">Data: <code>" +
           html_escape(pf.csv_name) + "</code></span></figcaption>\n</figure>\n";
  }
  out += "<p id=\"figure-check\" class=\"check\">figures-visible: not checked (the page's script did not run)</p>\n";
  out += std::string("<script>") + check_script + "</script>\n</body>\n</html>\n";
  return out;
}

}  // namespace actlab::report
