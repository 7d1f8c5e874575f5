// write_report: reads a run or comparison folder, writes the CSV behind every figure, draws the
// figures with gnuplot when it is installed, and writes the page.
#include "report/report_internal.hpp"

#include "actlab/file_io.hpp"
#include "actlab/version.hpp"

#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <set>
#include <stdexcept>

namespace actlab {
namespace {

namespace fs = std::filesystem;
using namespace report;

// The runs whose per-layer figures the report shows, with the label to show them under.
using LabelledRuns = std::vector<std::pair<std::string, const RunLog*>>;

std::string percent(double v) { return std::isfinite(v) ? fmt::format("{:.2f}%", 100 * v) : "-"; }

std::vector<std::pair<std::string, std::string>> run_settings(const RunLog& run) {
  std::vector<std::pair<std::string, std::string>> s;
  if (!run.layers.empty()) s.emplace_back("model", fmt::format("{}", fmt::join(run.layers, " → ")));
  if (run.history.empty()) return s;
  const EpochRecord& last = run.history.back();
  const EpochRecord* best = &run.history[0];
  double seconds = 0;
  for (const EpochRecord& e : run.history) {
    if (std::isfinite(e.test_accuracy) && !(best->test_accuracy >= e.test_accuracy)) best = &e;
    if (std::isfinite(e.seconds)) seconds += e.seconds;
  }
  s.emplace_back("epochs", std::to_string(run.history.size()));
  s.emplace_back("final test accuracy", fmt::format("{} (loss {:.4f})", percent(last.test_accuracy), last.test_loss));
  s.emplace_back("best test accuracy", fmt::format("{} at epoch {}", percent(best->test_accuracy), best->epoch));
  s.emplace_back("training time", fmt::format("{:.1f} s", seconds));
  return s;
}

// The layer with the largest value of `field` at the last epoch, e.g. "L2 relu 41.0%".
std::string worst_layer(const EpochDiagnostics& d, double ActivationLayerStats::*field) {
  const ActivationLayerStats* worst = nullptr;
  for (const ActivationLayerStats& s : d.activations)
    if (std::isfinite(s.*field) && (!worst || s.*field > worst->*field)) worst = &s;
  if (!worst) return "-";
  if (worst->*field == 0) return "none";
  return fmt::format("L{} {} {:.1f}%", worst->layer, worst->type, 100 * (worst->*field));
}

Table diagnostics_table(const LabelledRuns& runs) {
  Table t{{"run", "epoch", "most dead layer", "most saturated layer", "grad RMS first/last", "train/eval mode gap"}, {}};
  for (const auto& [label, run] : runs) {
    if (run->diagnostics.empty()) continue;
    const EpochDiagnostics& d = run->diagnostics.back();
    t.rows.push_back({label, std::to_string(d.epoch), worst_layer(d, &ActivationLayerStats::dead_fraction),
                      worst_layer(d, &ActivationLayerStats::saturated_fraction),
                      number_text(d.grad_ratio_first_last).empty() ? "-" : fmt::format("{:.3g}", d.grad_ratio_first_last),
                      number_text(d.train_eval_gap).empty() ? "-" : fmt::format("{:.3g}", d.train_eval_gap)});
  }
  return t;
}

// The activations the runs use (from their config.json) and, for PReLU layers, the slope each
// learned by its last epoch.
Figure used_activations_figure(const LabelledRuns& runs, bool comparison) {
  std::vector<Activation> acts;
  std::vector<std::string> labels;
  std::set<std::string> seen;
  for (const auto& [label, run] : runs)
    for (const Activation& a : run->activations)
      if (seen.insert(a.to_string()).second) acts.push_back(a), labels.push_back(a.to_string());
  std::size_t learned = 0;
  for (const auto& [label, run] : runs) {
    if (run->diagnostics.empty()) continue;
    for (const ActivationLayerStats& s : run->diagnostics.back().activations) {
      if (!s.has_slope || !std::isfinite(s.slope_mean) || ++learned > 6) continue;
      Activation a = make_activation("prelu");
      a.params[0] = std::round(s.slope_mean * 1000) / 1000;
      acts.push_back(a);
      labels.push_back(fmt::format("prelu, learned: {}L{} slope {:.3f}", comparison ? label + " " : "", s.layer,
                                   s.slope_mean));
    }
  }
  return activation_figure(acts, labels, -5.0, 5.0, 801);
}

void add_run_figures(std::vector<Figure>& figures, const LabelledRuns& runs, bool comparison) {
  for (const auto& [label, run] : runs) {
    const std::string suffix = comparison ? "_" + file_stem(label) : "";
    for (Figure& f : unit_heatmap_figures(*run, label, "units" + suffix)) figures.push_back(std::move(f));
  }
  for (const auto& [label, run] : runs) {
    const std::string suffix = comparison ? "_" + file_stem(label) : "";
    for (Figure& f : gradient_figures(*run, label, "gradients" + suffix)) figures.push_back(std::move(f));
  }
  for (Figure& f : slope_figures(runs)) figures.push_back(std::move(f));
}

void add_warnings(Page& page, const std::string& label, const RunLog& run) {
  if (!run.diagnostics.empty() && !run.diagnostics.back().warnings.empty())
    page.warnings.emplace_back(label, run.diagnostics.back().warnings);
}

}  // namespace

ReportResult write_report(const std::string& dir, const ReportOptions& options) {
  const fs::path root(dir);
  const bool comparison = fs::exists(root / "results.json");
  if (!comparison && !fs::exists(root / "history.json") && fs::exists(root / "checkpoint.safetensors"))
    throw std::runtime_error(fmt::format("{}: a training run that has not finished (it holds a checkpoint, no "
                                         "history.json yet): continue it with actlab train --resume {}, then report",
                                         dir, dir));
  if (!comparison && !fs::exists(root / "history.json"))
    throw std::runtime_error(fmt::format("{}: no results.json (a comparison) or history.json (a training run): "
                                         "give a folder that actlab train --out or actlab compare --out wrote", dir));
  Page page;
  page.format = options.format;
  std::vector<Figure> figures;
  const std::string name = folder_name(dir);
  ComparisonLog log;
  RunLog single;
  LabelledRuns first_runs;
  if (comparison) {
    log = read_comparison_log(dir);
    page.title = "actlab comparison: " + name;
    page.subtitle = fmt::format("{} recipes, read from {}. Written by actlab {}.", log.recipes.size(), dir, version());
    page.settings = log.settings;
    page.tables.emplace_back("Results per recipe", log.recipes_table);
    page.tables.emplace_back("Runs", log.runs_table);
    page.notes = log.notes;
    for (const RecipeRuns& r : log.recipes)
      if (!r.runs.empty()) first_runs.emplace_back(r.recipe, &r.runs[0]);
    for (const RecipeRuns& r : log.recipes)
      for (const RunLog& run : r.runs) add_warnings(page, run.name, run);
    figures = curve_figures(log.recipes);
  } else {
    single = read_run_log(dir);
    page.title = "actlab training run: " + name;
    page.subtitle = fmt::format("Read from {}. Written by actlab {}.", dir, version());
    page.settings = run_settings(single);
    first_runs.emplace_back(single.name, &single);
    add_warnings(page, single.name, single);
    figures = curve_figures({RecipeRuns{single.name, {single}}});
    if (single.diagnostics.empty())
      page.notes.push_back(dir + " has no diagnostics.jsonl: no per-layer figures (units, gradients, PReLU slopes)");
  }
  if (const Table t = diagnostics_table(first_runs); !t.rows.empty())
    page.tables.emplace_back(comparison ? "Diagnostics at the last epoch (first seed of each recipe)"
                                        : "Diagnostics at the last epoch", t);
  add_run_figures(figures, first_runs, comparison);
  bool any_activation = false;
  for (const auto& r : first_runs) any_activation = any_activation || !r.second->activations.empty();
  if (any_activation) figures.push_back(used_activations_figure(first_runs, comparison));

  // Unique file names, then the data and the images.
  std::set<std::string> names;
  for (Figure& f : figures) {
    const std::string base = f.name;
    for (int k = 2; !names.insert(f.name).second; ++k) f.name = fmt::format("{}_{}", base, k);
  }
  const fs::path figure_dir = root / "figures";
  fs::create_directories(figure_dir);
  ReportResult result;
  result.gnuplot = find_gnuplot(options.search_path);
  if (result.gnuplot.empty())
    page.message = fmt::format("gnuplot was not found on PATH: the data behind each figure is in {} (CSV) "
                               "and this page has no images; {}.",
                               figure_dir.string(), gnuplot_install_hint);
  const std::string ext = options.format == FigureFormat::svg ? ".svg" : ".png";
  for (const Figure& f : figures) {
    PageFigure pf{&f, "", "figures/" + f.name + ".csv", ""};
    const std::string csv = (figure_dir / (f.name + ".csv")).string();
    write_file_atomic(csv, f.csv);
    result.data.push_back(csv);
    if (result.gnuplot.empty()) {
      pf.why_not = std::string(gnuplot_install_hint);
    } else {
      const std::string image = (figure_dir / (f.name + ext)).string();
      try {
        draw_figure(result.gnuplot, f, image, options.format);
        pf.image_path = image;
        result.figures.push_back(image);
      } catch (const std::exception& e) {
        pf.why_not = e.what();
        page.notes.push_back(e.what());
      }
    }
    page.figures.push_back(pf);
  }
  result.notes = page.notes;
  result.message = page.message;
  result.html = (root / "report.html").string();
  write_file_atomic(result.html, render_page(page));
  return result;
}

}  // namespace actlab
