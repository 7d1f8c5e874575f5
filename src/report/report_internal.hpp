// The pieces of the report layer: reading run logs, building figures (CSV + gnuplot script),
// drawing them, and the HTML page. Only src/report/ and the tests include this.
#pragma once

#include "actlab/activation.hpp"
#include "actlab/report.hpp"

#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace actlab::report {

inline constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// ---- run logs (run_log.cpp). Numbers a file leaves out (or writes as null) are NaN. ----

struct EpochRecord {
  int epoch = 0;
  double train_loss = nan, train_accuracy = nan, test_loss = nan, test_accuracy = nan, seconds = nan, lr = nan;
};

struct ActivationLayerStats {
  int layer = 0;
  std::string type;
  double dead_fraction = nan, never_positive_fraction = nan, saturated_fraction = nan, input_grad_rms = nan;
  bool has_slope = false;
  double slope_min = nan, slope_mean = nan, slope_max = nan;
};

struct LinearLayerStats {
  int layer = 0;
  double weight_grad_rms = nan, weight_rms = nan;
};

struct EpochDiagnostics {
  int epoch = 0;
  std::vector<ActivationLayerStats> activations;
  std::vector<LinearLayerStats> linear;
  double grad_ratio_first_last = nan, train_eval_gap = nan;
  std::vector<std::string> warnings;
};

struct RunLog {
  std::string dir;
  std::string name;                      // the folder's name, e.g. seed-seed0
  std::vector<std::string> layers;       // "linear(256)", "batchnorm1d", "leaky_relu", ... from config.json
  std::vector<Activation> activations;   // the activation layers' functions, in order, without repeats
  std::vector<EpochRecord> history;
  std::vector<EpochDiagnostics> diagnostics;  // empty without diagnostics.jsonl
};

// Reads DIR/history.json (required), DIR/config.json and DIR/diagnostics.jsonl (both optional).
// Throws std::runtime_error "FILE: what is wrong".
RunLog read_run_log(const std::string& dir);
// The name of the folder `dir` ("runs/x/" and "runs/x/." name x).
std::string folder_name(const std::string& dir);

struct RecipeRuns {
  std::string recipe;
  std::vector<RunLog> runs;  // in results.json's order; the first is "the first seed"
};

// A text table: a header row and rows of cells (already formatted).
struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
};

struct ComparisonLog {
  std::string dir;
  std::vector<std::pair<std::string, std::string>> settings;  // results.json's top-level values
  Table recipes_table;  // one row per recipe (its scalar fields)
  Table runs_table;     // one row per run (recipe + the run's scalar fields)
  std::vector<RecipeRuns> recipes;
  std::vector<std::string> notes;  // runs whose folders could not be read
};

// Reads DIR/results.json and every run folder it names. Throws std::runtime_error naming the file.
ComparisonLog read_comparison_log(const std::string& dir);

// ---- figures (figures.cpp, activation_figure.cpp) ----

struct Figure {
  std::string name;     // file stem under figures/, e.g. "loss", "units_seed"
  std::string title;    // heading in the page
  std::string caption;  // what it shows and what to look for
  std::string csv;      // the data behind it, header line first
  std::string script;   // gnuplot commands after the terminal and output are set
  int width = 1000, height = 420;
};

// Loss and accuracy: one recipe with one run gives train and test in one panel; otherwise a
// training and a test panel, one line per recipe (the mean over its runs) with a min-max band.
std::vector<Figure> curve_figures(const std::vector<RecipeRuns>& recipes);
// Dead and saturated fractions, layers x epochs, of one run (empty without diagnostics).
std::vector<Figure> unit_heatmap_figures(const RunLog& run, const std::string& label, const std::string& stem);
// Weight-gradient RMS of each Linear and input-gradient RMS at each activation, log scale.
std::vector<Figure> gradient_figures(const RunLog& run, const std::string& label, const std::string& stem);
// PReLU slope (mean, min-max band) per PReLU layer of the given runs (empty when none has one).
std::vector<Figure> slope_figures(const std::vector<std::pair<std::string, const RunLog*>>& runs);
// f and f' of each activation over [x_min, x_max], two panels.
Figure activation_figure(const std::vector<Activation>& acts, const std::vector<std::string>& labels,
                         double x_min, double x_max, std::size_t points);

// ---- gnuplot helpers (gnuplot.cpp) ----

std::string gnuplot_quote(const std::string& text);  // a single-quoted gnuplot string
std::string csv_field(const std::string& text);      // quoted when it holds , " or a newline
std::string number_text(double v);                   // shortest round-trip text; "" for NaN and inf
std::string number_text(float v);                    // the same, shortest for a float
const char* series_color(std::size_t i);             // a color of a 10-color palette, "#rrggbb"
std::string file_stem(const std::string& text);      // [A-Za-z0-9_-], others become '_'

// Draws `figure` with `gnuplot` into `path` (its extension picks svg or png): gnuplot writes a
// temporary file that is renamed into place. Throws std::runtime_error with gnuplot's message.
void draw_figure(const std::string& gnuplot, const Figure& figure, const std::string& path, FigureFormat format);

// ---- the page (html.cpp) ----

struct PageFigure {
  const Figure* figure = nullptr;
  std::string image_path;  // "" when not drawn
  std::string csv_name;    // e.g. figures/loss.csv
  std::string why_not;     // why it was not drawn, when image_path is ""
};

struct Page {
  std::string title;
  std::string subtitle;
  std::string message;  // shown in a box at the top when not empty
  std::vector<std::pair<std::string, std::string>> settings;
  std::vector<std::pair<std::string, Table>> tables;  // heading, table
  std::vector<std::pair<std::string, std::vector<std::string>>> warnings;  // run, its last epoch's warnings
  std::vector<std::string> notes;
  std::vector<PageFigure> figures;
  FigureFormat format = FigureFormat::svg;
};

std::string html_escape(const std::string& text);
std::string base64(const std::string& bytes);
// The page, with images embedded as data: URIs read from each image_path.
std::string render_page(const Page& page);

}  // namespace actlab::report
