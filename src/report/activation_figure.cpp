// Activations and their derivatives, computed with the library's own kernels over a grid:
// the figure of a report and `actlab plot-activations`.
#include "report/report_internal.hpp"

#include "actlab/file_io.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <stdexcept>

namespace actlab::report {

Figure activation_figure(const std::vector<Activation>& acts, const std::vector<std::string>& labels,
                         double x_min, double x_max, std::size_t points) {
  if (!(x_min < x_max) || !std::isfinite(x_min) || !std::isfinite(x_max))
    throw std::invalid_argument(fmt::format("the range must be finite with min < max, not {},{}", x_min, x_max));
  if (points < 2) throw std::invalid_argument(fmt::format("need at least 2 grid points, not {}", points));
  std::vector<float> x(points), y(points), dx(points), ones(points, 1.0f);
  // The kernels run in float32: the grid must be finite and its points distinct there (a range of
  // -1e300,1e300 became inf, and 0,1e-300 all zeros).
  for (std::size_t i = 0; i < points; ++i) {
    x[i] = float(x_min + (x_max - x_min) * double(i) / double(points - 1));
    if (!std::isfinite(x[i]) || (i > 0 && !(x[i] > x[i - 1])))
      throw std::invalid_argument(fmt::format("the range {},{} with {} points does not give {} distinct finite "
                                              "float32 values",
                                              x_min, x_max, points, points));
  }
  Figure f;
  f.name = "activations";
  f.title = "Activation functions and their derivatives";
  f.caption = "f(x) (left) and f'(x) (right), computed with actlab's kernels (activation_forward and "
              "activation_backward with dy = 1); the legend names the colors of both panels. Derivative lines "
              "break at kinks, where f' jumps.";
  f.width = 1300;
  f.height = 520;
  std::vector<std::vector<float>> columns;
  std::string header = "x";
  std::string blocks;
  for (std::size_t a = 0; a < acts.size(); ++a) {
    activation_forward(acts[a], y, x);
    activation_backward(acts[a], dx, ones, x, y);
    columns.emplace_back(y.begin(), y.end());
    columns.emplace_back(dx.begin(), dx.end());
    header.append(",").append(csv_field(labels[a] + " f")).append(",").append(csv_field(labels[a] + " df/dx"));
    std::string fblock = fmt::format("$f{} << EOD\n", a), dblock = fmt::format("$d{} << EOD\n", a);
    for (std::size_t i = 0; i < points; ++i) {
      // An exact kink point stands alone (blank lines around it); a kink between two points breaks the line.
      bool at_kink = false, before_kink = false;
      for (double k : acts[a].info->kinks) {
        at_kink = at_kink || double(x[i]) == k;
        before_kink = before_kink || (i + 1 < points && double(x[i]) < k && double(x[i + 1]) > k);
      }
      if (at_kink) dblock += "\n";
      if (std::isfinite(y[i])) fblock += fmt::format("{} {}\n", x[i], y[i]);
      if (std::isfinite(dx[i])) dblock += fmt::format("{} {}\n", x[i], dx[i]);
      if (at_kink || before_kink) dblock += "\n";
    }
    blocks += fblock + "EOD\n" + dblock + "EOD\n";
  }
  f.csv = header + "\n";
  for (std::size_t i = 0; i < points; ++i) {
    f.csv += number_text(x[i]);
    for (const auto& c : columns) f.csv.append(",").append(number_text(c[i]));
    f.csv += "\n";
  }
  std::string plot_f = "plot ", plot_d = "plot ";
  for (std::size_t a = 0; a < acts.size(); ++a) {
    const std::string line = fmt::format("with lines lc rgb '{}' lw 2 dt {}", series_color(a), 1 + int(a / 10));
    plot_f += fmt::format("$f{} using 1:2 {} notitle, ", a, line);
    plot_d += fmt::format("$d{} using 1:2 {} title {}, ", a, line, gnuplot_quote(labels[a]));
  }
  plot_f.resize(plot_f.size() - 2);
  plot_d.resize(plot_d.size() - 2);
  // Both panels have the same size; the legend sits to the right of the second, as wide as its
  // longest label (positions in pixels, then as fractions of the figure).
  std::size_t longest = 0;
  for (const std::string& l : labels) longest = std::max(longest, l.size());
  const double w = f.width, key = std::min(0.45 * w, 70.0 + 8.0 * double(longest)), area = w - key;
  const auto at = [&](double px) { return fmt::format("{:.4f}", px / w); };
  f.script = blocks +
             "set grid back lc rgb '#e0e0e0'\nset border 3 lc rgb '#444444'\nset tics nomirror\n"
             "set xzeroaxis lt 1 lc rgb '#999999'\nset yzeroaxis lt 1 lc rgb '#999999'\n" +
             fmt::format("set xrange [{}:{}]\nset xlabel 'x'\n", x_min, x_max) +
             "set multiplot\nset bmargin at screen 0.12\nset tmargin at screen 0.9\n" +
             fmt::format("set lmargin at screen {}\nset rmargin at screen {}\n", at(75), at(area * 0.48)) +
             "unset key\nset title 'f(x)'\nset ylabel 'f(x)'\n" + plot_f + "\n" +
             fmt::format("set lmargin at screen {}\nset rmargin at screen {}\n", at(area * 0.48 + 85), at(area - 10)) +
             fmt::format("set key at screen {}, screen 0.9 left top Left reverse samplen 2.5 spacing 1.1\n", at(area + 10)) +
             "set title \"f'(x)\"\nset ylabel \"f'(x)\"\n" + plot_d + "\nunset multiplot\n";
  return f;
}

}  // namespace actlab::report

namespace actlab {

ActivationPlotResult plot_activations(const ActivationPlotOptions& options) {
  namespace fs = std::filesystem;
  std::vector<Activation> acts;
  std::vector<std::string> labels;
  if (options.specs.empty()) {
    for (const ActivationInfo& info : activation_table()) acts.push_back(make_activation(info.name));
  } else {
    for (const std::string& spec : options.specs) acts.push_back(parse_activation(spec));
  }
  for (const Activation& a : acts) labels.push_back(a.to_string());
  for (auto it = labels.begin(); it != labels.end(); ++it)  // one curve each, one CSV column each
    if (std::find(labels.begin(), it, *it) != it)
      throw std::invalid_argument(fmt::format("'{}' is listed twice", *it));
  const fs::path out(options.out);
  const std::string ext = out.extension().string();
  if (ext != ".svg" && ext != ".png")
    throw std::invalid_argument(fmt::format("--out {}: the figure's name must end in .svg or .png", options.out));
  // Before anything is written: the figure and its data must be files.
  for (const fs::path& p : {out, fs::path(out).replace_extension(".csv")})
    if (fs::is_directory(p)) throw std::invalid_argument(fmt::format("--out {}: {} is a folder", options.out, p.string()));
  report::Figure figure = report::activation_figure(acts, labels, options.x_min, options.x_max, options.points);
  figure.height = std::max(figure.height, 150 + 24 * int(acts.size()));  // room for the legend
  if (out.has_parent_path()) fs::create_directories(out.parent_path());
  ActivationPlotResult result;
  result.data = fs::path(out).replace_extension(".csv").string();
  write_file_atomic(result.data, figure.csv);
  const std::string gnuplot = find_gnuplot(options.search_path);
  if (gnuplot.empty()) {
    result.message = fmt::format("gnuplot was not found on PATH: wrote the data to {}; {}", result.data,
                                 gnuplot_install_hint);
    return result;
  }
  report::draw_figure(gnuplot, figure, options.out, ext == ".svg" ? FigureFormat::svg : FigureFormat::png);
  result.figure = options.out;
  return result;
}

}  // namespace actlab
