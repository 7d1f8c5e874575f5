// Reports from run logs: figures drawn by gnuplot, the CSV data behind each figure, and one
// self-contained HTML page. This layer reads run folders; it never trains.
//
// A run folder (actlab train --out DIR) holds config.json, history.json and, when the trainer
// recorded them, diagnostics.jsonl (one JSON object per epoch). A comparison folder (actlab compare
// --out DIR) holds results.json and one run folder per recipe and seed. The formats are in
// docs/formats.md.
//
// gnuplot (Debian's gnuplot-nox) is looked up on PATH when a report is written. Without it the CSV
// files and the HTML page (without images) are still written, and the result's message says what to
// install. Every file is written to a temporary name and renamed into place.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace actlab {

enum class FigureFormat { svg, png };

// What to say when gnuplot is missing.
inline constexpr const char* gnuplot_install_hint =
    "install gnuplot-nox (apt-get install gnuplot-nox) to draw the figures";

// The gnuplot program: the first executable file named gnuplot in the folders of `search_path`
// (':'-separated, as PATH). An empty search_path means the PATH environment variable. Returns ""
// when there is none.
std::string find_gnuplot(const std::string& search_path = "");

struct ReportOptions {
  FigureFormat format = FigureFormat::svg;
  std::string search_path;  // where to look for gnuplot, as in find_gnuplot
};

struct ReportResult {
  std::string html;                  // DIR/report.html
  std::vector<std::string> figures;  // the images drawn: DIR/figures/NAME.svg|png
  std::vector<std::string> data;     // the data behind each figure: DIR/figures/NAME.csv
  std::vector<std::string> notes;    // what the report could not show (a missing run, a figure gnuplot refused)
  std::string gnuplot;               // the gnuplot used; "" when none was found
  std::string message;               // "" when every figure was drawn; else why not, and what to install
};

// Writes DIR/report.html, DIR/figures/*.csv and (with gnuplot) DIR/figures/*.svg|png for a run folder
// (history.json) or a comparison folder (results.json). The page embeds its figures as data: URIs
// and has no external links. Figures: loss and accuracy curves (a min-max band over seeds for
// comparisons), dead and saturated fractions per layer and epoch (heatmap), gradient RMS per layer
// over epochs (log scale), PReLU slope trajectories, and the activations used with their derivatives.
// Throws std::runtime_error naming the file when DIR has neither file or a file is malformed.
ReportResult write_report(const std::string& dir, const ReportOptions& options = {});

struct ActivationPlotOptions {
  std::vector<std::string> specs;  // e.g. "elu:alpha=0.5"; empty: every table entry at its defaults
  double x_min = -5.0;             // the plotted range, x_min < x_max
  double x_max = 5.0;
  std::size_t points = 801;          // grid points, at least 2
  std::string out = "activations.svg";  // .svg or .png; the data goes next to it as .csv
  std::string search_path;         // where to look for gnuplot, as in find_gnuplot
};

struct ActivationPlotResult {
  std::string figure;   // the image written; "" when gnuplot is missing
  std::string data;     // the CSV: x, then f and f' of each activation
  std::string message;  // "" when the figure was drawn; else what to install
};

// f and f' of the chosen activations in one figure (two panels), computed with activation_forward
// and activation_backward over a uniform grid. Throws std::invalid_argument for a bad spec or range,
// std::runtime_error when a file cannot be written or gnuplot fails.
ActivationPlotResult plot_activations(const ActivationPlotOptions& options);

}  // namespace actlab
