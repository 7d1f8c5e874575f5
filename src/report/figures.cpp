// The figures of a report, each as its CSV data and a gnuplot script with the data inline
// (datablocks), so that drawing needs nothing but the script.
#include "report/report_internal.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>

namespace actlab::report {
namespace {

const char* const style =
    "set grid back lc rgb '#e0e0e0' lw 1\n"
    "set border 3 lc rgb '#444444'\nset tics nomirror\n"
    "set key noautotitle reverse Left samplen 2.5 spacing 1.1\n"
    "set style fill transparent solid 0.18 noborder\n";

std::string epoch_axis(int first, int last) {
  const int span = std::max(1, last - first);
  const int step = std::max(1, int(std::ceil(span / 10.0)));
  return fmt::format("set xrange [{}:{}]\nset xtics {}\nset xlabel 'epoch'\n", first - (last == first ? 1 : 0),
                     last + (last == first ? 1 : 0), step);
}

// A datablock of rows (one string per line; an empty string breaks the line there).
std::string datablock(const std::string& name, const std::vector<std::string>& rows) {
  std::string out = "$" + name + " << EOD\n";
  for (const std::string& r : rows) out += r + "\n";
  return out + "EOD\n";
}

struct Series {
  std::string label, block, color;
  bool band = false;  // columns 3 and 4 are min and max
  int dash = 1;
};

// A plot command: each series as an optional band and a line; `scale` multiplies the y values.
std::string plot_command(const std::vector<Series>& series, double scale = 1.0) {
  if (series.empty()) return "set yrange [0:1]\nplot NaN notitle\nset autoscale y\n";  // empty axes, no error
  const auto col = [&](int c) { return scale == 1.0 ? fmt::format("{}", c) : fmt::format("(${}*{})", c, scale); };
  std::string bands, lines;
  for (const Series& s : series) {
    if (s.band)
      bands += fmt::format("${} using 1:{}:{} with filledcurves fc rgb '{}' notitle, ", s.block, col(3), col(4),
                           s.color);
    lines += fmt::format("${} using 1:{} with linespoints lc rgb '{}' lw 2 dt {} pt 7 ps 0.5 title {}, ",
                         s.block, col(2), s.color, s.dash, gnuplot_quote(s.label));
  }
  std::string cmd = "plot " + bands + lines;
  cmd.resize(cmd.size() - 2);
  return cmd + "\n";
}

struct Aggregate {
  int epoch = 0;
  std::size_t count = 0;
  double mean = nan, lo = nan, hi = nan;
};

// Per epoch, the mean, min and max of one history field over the runs that have a finite value.
std::vector<Aggregate> aggregate(const std::vector<RunLog>& runs, double EpochRecord::*field) {
  std::map<int, std::vector<double>> by_epoch;
  for (const RunLog& run : runs)
    for (const EpochRecord& e : run.history)
      if (std::isfinite(e.*field)) by_epoch[e.epoch].push_back(e.*field);
  std::vector<Aggregate> out;
  for (const auto& [epoch, values] : by_epoch) {
    Aggregate a{epoch, values.size(), 0.0, values[0], values[0]};
    for (double v : values) {
      a.mean += v / double(values.size());
      a.lo = std::min(a.lo, v);
      a.hi = std::max(a.hi, v);
    }
    out.push_back(a);
  }
  return out;
}

std::vector<std::string> aggregate_rows(const std::vector<Aggregate>& agg) {
  std::vector<std::string> rows;
  for (const Aggregate& a : agg)
    rows.push_back(fmt::format("{} {} {} {}", a.epoch, number_text(a.mean), number_text(a.lo), number_text(a.hi)));
  return rows;
}

std::pair<int, int> epoch_span(const std::vector<RecipeRuns>& recipes) {
  int first = 1 << 30, last = -(1 << 30);
  for (const RecipeRuns& r : recipes)
    for (const RunLog& run : r.runs)
      for (const EpochRecord& e : run.history) first = std::min(first, e.epoch), last = std::max(last, e.epoch);
  return first > last ? std::pair{1, 1} : std::pair{first, last};
}

// One curve figure (loss or accuracy): `train` and `test` are the history fields.
Figure curve_figure(const std::vector<RecipeRuns>& recipes, const std::string& what, double EpochRecord::*train,
                    double EpochRecord::*test, double scale, const std::string& ylabel) {
  Figure f;
  f.name = what;
  f.csv = fmt::format("recipe,epoch,runs,train_{0}_mean,train_{0}_min,train_{0}_max,test_{0}_mean,test_{0}_min,test_{0}_max\n",
                      what);
  const bool single = recipes.size() == 1 && recipes[0].runs.size() == 1;
  const auto [first, last] = epoch_span(recipes);
  f.script = style + epoch_axis(first, last) + fmt::format("set ylabel {}\n", gnuplot_quote(ylabel));
  std::vector<Series> train_series, test_series;
  double lowest = INFINITY, highest = 0.0;  // over every curve and band
  for (std::size_t i = 0; i < recipes.size(); ++i) {
    const std::vector<Aggregate> a = aggregate(recipes[i].runs, train), b = aggregate(recipes[i].runs, test);
    for (const auto* curve : {&a, &b})
      for (const Aggregate& x : *curve) lowest = std::min(lowest, x.lo), highest = std::max(highest, x.hi);
    std::map<int, std::pair<const Aggregate*, const Aggregate*>> rows;
    for (const Aggregate& x : a) rows[x.epoch].first = &x;
    for (const Aggregate& x : b) rows[x.epoch].second = &x;
    for (const auto& [epoch, p] : rows) {
      const Aggregate none{};
      const Aggregate& tr = p.first ? *p.first : none;
      const Aggregate& te = p.second ? *p.second : none;
      f.csv += fmt::format("{},{},{},{},{},{},{},{},{}\n", csv_field(recipes[i].recipe), epoch,
                           std::max(tr.count, te.count), number_text(tr.mean), number_text(tr.lo), number_text(tr.hi),
                           number_text(te.mean), number_text(te.lo), number_text(te.hi));
    }
    const bool band = recipes[i].runs.size() > 1;
    f.script += datablock(fmt::format("train{}", i), aggregate_rows(a)) + datablock(fmt::format("test{}", i), aggregate_rows(b));
    // A series without a single finite value is left out: gnuplot refuses a plot with no points.
    if (single) {
      if (!a.empty()) train_series.push_back({"train", "train0", series_color(0), false, 2});
      if (!b.empty()) test_series.push_back({"test", "test0", series_color(1), false, 1});
    } else {
      const int dash = 1 + int(i / 10);
      if (!a.empty()) train_series.push_back({recipes[i].recipe, fmt::format("train{}", i), series_color(i), band, dash});
      if (!b.empty()) test_series.push_back({recipes[i].recipe, fmt::format("test{}", i), series_color(i), band, dash});
    }
  }
  const std::string key = what == "loss" ? "set key top right\n" : "set key bottom right\n";
  // A run that blows up (a loss of 1e36 before it diverged) would flatten every other curve to 0 on
  // a linear axis.
  const bool log_axis = what == "loss" && lowest > 0 && highest > 1000 * lowest;
  if (log_axis) f.script += "set logscale y\n";
  const std::string axis_note = log_axis ? " The loss axis is logarithmic: the values span more than a factor 1000." : "";
  if (single) {
    f.title = what == "loss" ? "Loss" : "Accuracy";
    f.caption = fmt::format("Training {0} (running mean over each epoch, training mode) and test {0} after each "
                            "epoch. A widening gap means overfitting.{1}", what, axis_note);
    f.width = 800;
    train_series.insert(train_series.end(), test_series.begin(), test_series.end());
    f.script += key + fmt::format("set title {}\n", gnuplot_quote(f.title)) + plot_command(train_series, scale);
    return f;
  }
  f.title = what == "loss" ? "Loss per recipe" : "Accuracy per recipe";
  f.caption = fmt::format("Mean over seeds per recipe; the shaded band spans the lowest to the highest seed. A "
                          "run that diverged counts for the epochs it finished. Left: training {0}; right: test {0}.{1}",
                          what, axis_note);
  f.width = 1100;
  f.script += "set multiplot layout 1,2\n" + key + fmt::format("set title 'training {}'\n", what) +
              plot_command(train_series, scale) + fmt::format("set title 'test {}'\n", what) +
              plot_command(test_series, scale) + "unset multiplot\n";
  return f;
}

std::string layer_label(int layer, const std::string& type) { return fmt::format("L{} {}", layer, type); }

}  // namespace

std::vector<Figure> curve_figures(const std::vector<RecipeRuns>& recipes) {
  std::vector<RecipeRuns> with_runs;  // only runs with at least one epoch
  for (const RecipeRuns& r : recipes) {
    RecipeRuns kept{r.recipe, {}};
    for (const RunLog& run : r.runs)
      if (!run.history.empty()) kept.runs.push_back(run);
    if (!kept.runs.empty()) with_runs.push_back(std::move(kept));
  }
  if (with_runs.empty()) return {};
  return {curve_figure(with_runs, "loss", &EpochRecord::train_loss, &EpochRecord::test_loss, 1.0, "cross-entropy loss"),
          curve_figure(with_runs, "accuracy", &EpochRecord::train_accuracy, &EpochRecord::test_accuracy, 100.0,
                       "accuracy (%)")};
}

std::vector<Figure> unit_heatmap_figures(const RunLog& run, const std::string& label, const std::string& stem) {
  std::map<int, std::string> layers;  // layer index -> type, over every epoch
  int first = 1 << 30, last = -(1 << 30);
  for (const EpochDiagnostics& d : run.diagnostics) {
    first = std::min(first, d.epoch), last = std::max(last, d.epoch);
    for (const ActivationLayerStats& s : d.activations) layers.emplace(s.layer, s.type);
  }
  if (layers.empty()) return {};
  std::map<int, int> row;
  std::string ytics;
  for (const auto& [layer, type] : layers) {
    const int r = int(row.size());
    row[layer] = r;
    std::string text = layer_label(layer, type);  // tic labels are format strings: % must be doubled
    for (std::size_t p = 0; (p = text.find('%', p)) != std::string::npos; p += 2) text.insert(p, 1, '%');
    ytics += fmt::format("{}{} {}", ytics.empty() ? "" : ", ", gnuplot_quote(text), r);
  }
  Figure f;
  f.name = stem;
  f.title = "Dead and saturated units: " + label;
  f.caption = "Per activation layer (rows) and epoch (columns): the fraction of units that were dead (never "
              "active on the epoch's data) and saturated (in the flat part of the function). Dark cells are "
              "units that have stopped passing gradient.";
  f.csv = "epoch,layer,type,dead_fraction,saturated_fraction,never_positive_fraction\n";
  std::vector<std::string> dead, saturated;
  for (const EpochDiagnostics& d : run.diagnostics)
    for (const ActivationLayerStats& s : d.activations) {
      f.csv += fmt::format("{},{},{},{},{},{}\n", d.epoch, s.layer, csv_field(s.type), number_text(s.dead_fraction),
                           number_text(s.saturated_fraction), number_text(s.never_positive_fraction));
      if (std::isfinite(s.dead_fraction)) dead.push_back(fmt::format("{} {} {}", d.epoch, row[s.layer], s.dead_fraction));
      if (std::isfinite(s.saturated_fraction))
        saturated.push_back(fmt::format("{} {} {}", d.epoch, row[s.layer], s.saturated_fraction));
    }
  const std::size_t cells = layers.size() * std::size_t(last - first + 1);
  f.height = std::max(320, 150 + 36 * int(layers.size()));
  f.width = 1100;
  f.script = datablock("dead", dead) + datablock("saturated", saturated) +
             "set border lc rgb '#444444'\nset tics nomirror\nunset key\n" +
             fmt::format("set xrange [{}:{}]\nset xtics {}\nset xlabel 'epoch'\n", first - 0.5, last + 0.5,
                         std::max(1, int(std::ceil((last - first + 1) / 12.0)))) +
             fmt::format("set yrange [{}:-0.5]\nset ytics ({})\n", double(layers.size()) - 0.5, ytics) +
             "set cbrange [0:1]\nset palette defined (0 '#ffffff', 0.3 '#fdbb84', 0.6 '#ef6548', 1 '#990000')\n"
             "set cbtics ('0' 0, '25%%' 0.25, '50%%' 0.5, '75%%' 0.75, '100%%' 1)\n"
             "set multiplot layout 1,2\n";
  const std::string labels =
      cells <= 240 ? ", $D using 1:2:($3 == 0 ? '0' : $3 < 0.01 ? '<1%' : sprintf('%.0f%%', 100*$3)):"
                     "($3 > 0.55 ? 0xffffff : 0x222222) with labels tc rgb variable font ',12'"
                   : "";
  for (const char* which : {"dead", "saturated"}) {
    std::string plot = "plot $D using 1:2:(0.5):(0.5):3 with boxxyerror fc palette fs solid 1.0 noborder" + labels;
    for (std::size_t p; (p = plot.find("$D")) != std::string::npos;) plot.replace(p, 2, std::string("$") + which);
    f.script += fmt::format("set title '{} fraction'\n", which) + plot + "\n";
  }
  f.script += "unset multiplot\n";
  return {f};
}

std::vector<Figure> gradient_figures(const RunLog& run, const std::string& label, const std::string& stem) {
  // Only positive finite values can go on a log axis.
  std::map<std::pair<int, std::string>, std::vector<std::string>> weight, input;
  int first = 1 << 30, last = -(1 << 30);
  std::size_t zeros = 0;
  Figure f;
  f.csv = "epoch,layer,type,quantity,value\n";
  for (const EpochDiagnostics& d : run.diagnostics) {
    first = std::min(first, d.epoch), last = std::max(last, d.epoch);
    for (const LinearLayerStats& s : d.linear) {
      f.csv += fmt::format("{},{},linear,weight_grad_rms,{}\n", d.epoch, s.layer, number_text(s.weight_grad_rms));
      if (std::isfinite(s.weight_grad_rms) && s.weight_grad_rms > 0)
        weight[{s.layer, "linear"}].push_back(fmt::format("{} {}", d.epoch, s.weight_grad_rms));
      else if (s.weight_grad_rms <= 0)
        ++zeros;
    }
    for (const ActivationLayerStats& s : d.activations) {
      f.csv += fmt::format("{},{},{},input_grad_rms,{}\n", d.epoch, s.layer, csv_field(s.type), number_text(s.input_grad_rms));
      if (std::isfinite(s.input_grad_rms) && s.input_grad_rms > 0)
        input[{s.layer, s.type}].push_back(fmt::format("{} {}", d.epoch, s.input_grad_rms));
      else if (s.input_grad_rms <= 0)
        ++zeros;
    }
  }
  if (weight.empty() && input.empty()) return {};
  f.name = stem;
  f.title = "Gradient RMS per layer: " + label;
  f.caption = "Root mean square of the gradient at the end of each epoch, log scale. Left: the weight gradient "
              "of each Linear layer; right: the gradient flowing into each activation. Lines that fall by "
              "orders of magnitude towards the input are vanishing gradients.";
  if (zeros > 0)
    f.caption += fmt::format(" {} values of zero are left out: a log scale cannot show them (they are in the CSV).", zeros);
  f.width = 1100;
  f.script = std::string(style) + epoch_axis(first, last) + "set logscale y\nset format y '%.0e'\nset key outside right top\n" +
             fmt::format("set multiplot layout 1,{}\n", int(!weight.empty()) + int(!input.empty()));
  std::size_t block = 0;
  for (auto* panel : {&weight, &input}) {
    if (panel->empty()) continue;
    std::vector<Series> series;
    for (const auto& [key, rows] : *panel) {
      const std::string name = fmt::format("g{}", block++);
      f.script += datablock(name, rows);
      series.push_back({layer_label(key.first, key.second), name, series_color(series.size()), false,
                        1 + int(series.size() / 10)});
    }
    f.script += panel == &weight ? "set title 'weight gradient (Linear)'\nset ylabel 'RMS of dW'\n"
                                 : "set title 'gradient into each activation'\nset ylabel 'RMS of dx'\n";
    f.script += plot_command(series);
  }
  f.script += "unset multiplot\n";
  return {f};
}

std::vector<Figure> slope_figures(const std::vector<std::pair<std::string, const RunLog*>>& runs) {
  Figure f;
  f.name = "prelu_slopes";
  f.title = "PReLU slopes";
  f.caption = "The learned negative-side slope of each PReLU layer at the end of each epoch: the mean over the "
              "layer's slopes, with a band from the smallest to the largest when it learns one per channel.";
  f.csv = "run,layer,epoch,slope_min,slope_mean,slope_max\n";
  std::vector<Series> series;
  int first = 1 << 30, last = -(1 << 30);
  for (const auto& [label, run] : runs) {
    std::map<int, std::vector<std::string>> layers;
    for (const EpochDiagnostics& d : run->diagnostics)
      for (const ActivationLayerStats& s : d.activations) {
        if (!s.has_slope) continue;
        first = std::min(first, d.epoch), last = std::max(last, d.epoch);
        f.csv += fmt::format("{},{},{},{},{},{}\n", csv_field(label), s.layer, d.epoch, number_text(s.slope_min),
                             number_text(s.slope_mean), number_text(s.slope_max));
        if (std::isfinite(s.slope_mean))
          layers[s.layer].push_back(fmt::format("{} {} {} {}", d.epoch, s.slope_mean,
                                                number_text(std::isfinite(s.slope_min) ? s.slope_min : s.slope_mean),
                                                number_text(std::isfinite(s.slope_max) ? s.slope_max : s.slope_mean)));
      }
    for (const auto& [layer, rows] : layers) {
      const std::string name = fmt::format("s{}", series.size());
      f.script += datablock(name, rows);
      const std::string text = runs.size() == 1 ? fmt::format("L{} prelu", layer) : fmt::format("{} L{}", label, layer);
      series.push_back({text, name, series_color(series.size()), true, 1 + int(series.size() / 10)});
    }
  }
  if (series.empty()) return {};
  f.width = 900;
  f.script = std::string(style) + epoch_axis(first, last) + "set ylabel 'slope a (f(x) = a x for x < 0)'\n"
             "set key outside right top\nset title 'PReLU slope per layer'\n" + f.script + plot_command(series);
  return {f};
}

}  // namespace actlab::report
