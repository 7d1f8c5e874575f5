// The report layer: what it reads from run and comparison folders (the CSV behind each figure), the
// page without gnuplot, the page with it, and plot_activations. Fixtures: tests/data/report/.
#include "actlab/report.hpp"
#include "io_test_util.hpp"
#include "report/report_internal.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using actlab::test::TempDir;

const std::string fixtures = std::string(ACTLAB_TEST_DATA_DIR) + "/report";

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A copy of a fixture folder (the report writes into the folder it reads).
std::string copy_fixture(const TempDir& tmp, const std::string& name) {
  const fs::path to = tmp.dir / name;
  fs::copy(fs::path(fixtures) / name, to, fs::copy_options::recursive);
  return to.string();
}

// Rows of a simple CSV (no quoted fields), keyed by the header's column names.
std::vector<std::map<std::string, std::string>> read_csv(const fs::path& path) {
  std::istringstream lines(read_text(path));
  std::string line;
  const auto split = [](const std::string& s) {
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream in(s);
    while (std::getline(in, cell, ',')) cells.push_back(cell);
    if (!s.empty() && s.back() == ',') cells.push_back("");
    return cells;
  };
  std::getline(lines, line);
  const std::vector<std::string> header = split(line);
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(lines, line)) {
    const std::vector<std::string> cells = split(line);
    EXPECT_EQ(cells.size(), header.size()) << path << ": " << line;
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < header.size() && i < cells.size(); ++i) row[header[i]] = cells[i];
    rows.push_back(row);
  }
  return rows;
}

double num(const std::map<std::string, std::string>& row, const std::string& key) {
  const auto it = row.find(key);
  if (it == row.end()) ADD_FAILURE() << "no column " << key;
  return it == row.end() || it->second.empty() ? std::nan("") : std::stod(it->second);
}

// A search path that has no gnuplot in it.
actlab::ReportOptions without_gnuplot(const TempDir& tmp) {
  fs::create_directories(tmp.dir / "empty-bin");
  return {actlab::FigureFormat::svg, (tmp.dir / "empty-bin").string()};
}

TEST(ReportData, RunFolderCurvesComeFromHistory) {
  TempDir tmp;
  const std::string dir = copy_fixture(tmp, "run");
  const actlab::ReportResult r = actlab::write_report(dir, without_gnuplot(tmp));
  const auto rows = read_csv(fs::path(dir) / "figures" / "loss.csv");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].at("recipe"), "run");
  EXPECT_EQ(rows[2].at("epoch"), "3");
  EXPECT_EQ(rows[2].at("runs"), "1");
  EXPECT_DOUBLE_EQ(num(rows[0], "train_loss_mean"), 0.9);
  EXPECT_DOUBLE_EQ(num(rows[1], "test_loss_mean"), 0.55);
  EXPECT_DOUBLE_EQ(num(rows[1], "test_loss_min"), 0.55);
  const auto acc = read_csv(fs::path(dir) / "figures" / "accuracy.csv");
  ASSERT_EQ(acc.size(), 3u);
  EXPECT_DOUBLE_EQ(num(acc[2], "test_accuracy_max"), 0.84);
  EXPECT_EQ(r.data.size(), 6u);  // loss, accuracy, units, gradients, prelu_slopes, activations
}

TEST(ReportData, UnitsAndGradientsComeFromDiagnostics) {
  TempDir tmp;
  const std::string dir = copy_fixture(tmp, "run");
  actlab::write_report(dir, without_gnuplot(tmp));
  const auto units = read_csv(fs::path(dir) / "figures" / "units.csv");
  ASSERT_EQ(units.size(), 9u);  // 3 epochs x 3 activation layers
  EXPECT_EQ(units[6].at("epoch"), "3");
  EXPECT_EQ(units[6].at("layer"), "2");
  EXPECT_EQ(units[6].at("type"), "leaky_relu");
  EXPECT_DOUBLE_EQ(num(units[6], "dead_fraction"), 0.4375);
  EXPECT_DOUBLE_EQ(num(units[8], "saturated_fraction"), 0.5);
  const auto grads = read_csv(fs::path(dir) / "figures" / "gradients.csv");
  ASSERT_EQ(grads.size(), 18u);  // 3 epochs x (3 Linear + 3 activations)
  EXPECT_EQ(grads[0].at("quantity"), "weight_grad_rms");
  EXPECT_DOUBLE_EQ(num(grads[0], "value"), 1e-2);
  EXPECT_EQ(grads[17].at("quantity"), "input_grad_rms");
  EXPECT_EQ(grads[17].at("type"), "elu");
  const auto slopes = read_csv(fs::path(dir) / "figures" / "prelu_slopes.csv");
  ASSERT_EQ(slopes.size(), 3u);
  EXPECT_EQ(slopes[2].at("layer"), "5");
  EXPECT_DOUBLE_EQ(num(slopes[2], "slope_mean"), 0.125);
}

TEST(ReportData, ComparisonAveragesOverSeeds) {
  TempDir tmp;
  const std::string dir = copy_fixture(tmp, "compare");
  actlab::write_report(dir, without_gnuplot(tmp));
  const auto rows = read_csv(fs::path(dir) / "figures" / "loss.csv");
  ASSERT_EQ(rows.size(), 4u);  // 2 recipes x 2 epochs
  EXPECT_EQ(rows[0].at("recipe"), "seed");
  EXPECT_EQ(rows[0].at("runs"), "2");
  // seed, epoch 1: test loss 0.5 (seed 0) and 0.7 (seed 1).
  EXPECT_NEAR(num(rows[0], "test_loss_mean"), 0.6, 1e-12);
  EXPECT_DOUBLE_EQ(num(rows[0], "test_loss_min"), 0.5);
  EXPECT_DOUBLE_EQ(num(rows[0], "test_loss_max"), 0.7);
  EXPECT_EQ(rows[3].at("recipe"), "relu");
  EXPECT_NEAR(num(rows[3], "train_loss_mean"), 0.8, 1e-12);
  // Per-layer figures come from each recipe's first seed.
  EXPECT_TRUE(fs::exists(fs::path(dir) / "figures" / "units_seed.csv"));
  const auto relu_units = read_csv(fs::path(dir) / "figures" / "units_relu.csv");
  ASSERT_EQ(relu_units.size(), 4u);
  EXPECT_DOUBLE_EQ(num(relu_units[3], "dead_fraction"), 0.75);
  const std::string html = read_text(fs::path(dir) / "report.html");
  EXPECT_NE(html.find("<th>test accuracy mean</th>"), std::string::npos);  // the results table
  EXPECT_NE(html.find("75% of units dead since epoch 1"), std::string::npos);  // a diagnostics warning
}

TEST(ReportData, ActivationsComeFromTheConfigAndTheKernels) {
  TempDir tmp;
  const std::string dir = copy_fixture(tmp, "run");
  actlab::write_report(dir, without_gnuplot(tmp));
  const std::string csv = read_text(fs::path(dir) / "figures" / "activations.csv");
  const std::string header = csv.substr(0, csv.find('\n'));
  EXPECT_EQ(header.rfind("x,leaky_relu f,leaky_relu df/dx,prelu f,prelu df/dx,elu f,elu df/dx,", 0), 0u) << header;
  EXPECT_NE(header.find("learned: L5 slope 0.125"), std::string::npos) << header;
  // The row at x = -1: leaky_relu(-1) = -0.01, elu(-1) = exp(-1) - 1, elu'(-1) = exp(-1).
  const std::size_t at = csv.find("\n-1,");
  ASSERT_NE(at, std::string::npos);
  std::istringstream row(csv.substr(at + 1, csv.find('\n', at + 1) - at - 1));
  std::vector<double> v;
  for (std::string cell; std::getline(row, cell, ',');) v.push_back(std::stod(cell));
  ASSERT_GE(v.size(), 7u);
  EXPECT_FLOAT_EQ(float(v[1]), -0.01f);
  EXPECT_FLOAT_EQ(float(v[2]), 0.01f);
  EXPECT_FLOAT_EQ(float(v[3]), -0.25f);
  EXPECT_NEAR(v[5], std::expm1(-1.0), 1e-6);
  EXPECT_NEAR(v[6], std::exp(-1.0), 1e-6);
}

TEST(ReportData, BadFoldersAreErrorsNamingTheFile) {
  TempDir tmp;
  EXPECT_THROW(
      {
        try {
          actlab::write_report(tmp.dir.string(), without_gnuplot(tmp));
        } catch (const std::runtime_error& e) {
          EXPECT_NE(std::string(e.what()).find("history.json"), std::string::npos) << e.what();
          throw;
        }
      },
      std::runtime_error);
  const std::string dir = copy_fixture(tmp, "run");
  actlab::test::write_text(dir + "/diagnostics.jsonl", "{\"epoch\": 1}\nnot json\n");
  try {
    actlab::write_report(dir, without_gnuplot(tmp));
    ADD_FAILURE() << "no error for a malformed diagnostics.jsonl";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("diagnostics.jsonl:2"), std::string::npos) << e.what();
  }
}

TEST(ReportData, AnUnfinishedRunSaysHowToFinishIt) {
  TempDir tmp;
  std::ofstream(tmp.dir / "checkpoint.safetensors") << "x";
  try {
    actlab::write_report(tmp.dir.string());
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("actlab train --resume " + tmp.dir.string()), std::string::npos) << e.what();
  }
}

TEST(ReportData, ARunWithoutDiagnosticsStillHasCurves) {
  TempDir tmp;
  const std::string dir = copy_fixture(tmp, "run");
  fs::remove(fs::path(dir) / "diagnostics.jsonl");
  const actlab::ReportResult r = actlab::write_report(dir, without_gnuplot(tmp));
  EXPECT_EQ(r.data.size(), 3u);  // loss, accuracy, activations
  EXPECT_NE(read_text(r.html).find("no diagnostics.jsonl"), std::string::npos);
}

TEST(ReportNoGnuplot, WritesDataAndPageAndSaysWhatToInstall) {
  TempDir tmp;
  const std::string dir = copy_fixture(tmp, "run");
  const actlab::ReportResult r = actlab::write_report(dir, without_gnuplot(tmp));
  EXPECT_TRUE(r.gnuplot.empty());
  EXPECT_TRUE(r.figures.empty());
  EXPECT_NE(r.message.find("gnuplot-nox"), std::string::npos) << r.message;
  for (const std::string& csv : r.data) EXPECT_TRUE(fs::exists(csv)) << csv;
  const std::string html = read_text(r.html);
  EXPECT_NE(html.find("apt-get install gnuplot-nox"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  for (const auto& e : fs::directory_iterator(fs::path(dir) / "figures"))
    EXPECT_EQ(e.path().extension(), ".csv") << e.path();
}

TEST(ReportNoGnuplot, TheCommandLineSaysWhatToInstall) {
  TempDir tmp;
  const std::string dir = copy_fixture(tmp, "run");
  const std::string log = tmp.file("out.txt");
  const std::string cmd = std::string("PATH=/nonexistent '") + ACTLAB_CLI_PATH + "' report '" + dir + "' > '" + log + "' 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_NE(read_text(log).find("install gnuplot-nox (apt-get install gnuplot-nox)"), std::string::npos)
      << read_text(log);
  EXPECT_TRUE(fs::exists(fs::path(dir) / "report.html"));
  EXPECT_TRUE(fs::exists(fs::path(dir) / "figures" / "loss.csv"));
}

TEST(ReportNoGnuplot, PlotActivationsWritesTheData) {
  TempDir tmp;
  actlab::ActivationPlotOptions o;
  o.specs = {"relu", "softplus:beta=2,threshold=10"};
  o.out = tmp.file("act.svg");
  o.search_path = (tmp.dir / "nothing-here").string();
  const actlab::ActivationPlotResult r = actlab::plot_activations(o);
  EXPECT_TRUE(r.figure.empty());
  EXPECT_NE(r.message.find("gnuplot-nox"), std::string::npos);
  const std::string csv = read_text(tmp.file("act.csv"));
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "x,relu f,relu df/dx,\"softplus:beta=2,threshold=10 f\",\"softplus:beta=2,threshold=10 df/dx\"");
  EXPECT_NE(csv.find("\n1,1,1,"), std::string::npos);   // relu(1) = 1, relu'(1) = 1
  EXPECT_NE(csv.find("\n-1,0,0,"), std::string::npos);  // relu(-1) = 0, relu'(-1) = 0
  EXPECT_FALSE(fs::exists(tmp.file("act.svg")));
}

TEST(ReportActivations, RejectsBadInput) {
  actlab::ActivationPlotOptions o;
  o.out = "x.pdf";
  EXPECT_THROW(actlab::plot_activations(o), std::invalid_argument);
  o.out = "x.svg";
  o.specs = {"nope"};
  EXPECT_THROW(actlab::plot_activations(o), std::invalid_argument);
  o.specs = {"relu"};
  o.x_min = 1, o.x_max = 1;
  EXPECT_THROW(actlab::plot_activations(o), std::invalid_argument);
  o.x_min = -1;
  o.specs = {"relu", "relu"};  // two curves of one name, and two CSV columns
  EXPECT_THROW(actlab::plot_activations(o), std::invalid_argument);
  // A folder where the figure or its data would go is refused before anything is written.
  TempDir tmp;
  fs::create_directories(tmp.dir / "d.svg");
  o.specs = {"relu"};
  o.out = tmp.file("d.svg");
  EXPECT_THROW(actlab::plot_activations(o), std::invalid_argument);
  EXPECT_FALSE(fs::exists(tmp.file("d.csv")));
}

// A run whose loss blew up before it diverged would flatten the others on a linear axis.
TEST(ReportData, LossesThatSpanOrdersOfMagnitudeGoOnALogAxis) {
  using namespace actlab::report;
  const auto run = [](std::vector<double> losses) {
    RunLog r;
    for (std::size_t e = 0; e < losses.size(); ++e) {
      EpochRecord rec;
      rec.epoch = int(e) + 1;
      rec.train_loss = rec.test_loss = losses[e];
      rec.train_accuracy = rec.test_accuracy = 0.5;
      r.history.push_back(rec);
    }
    return r;
  };
  const auto loss_figure = [&](std::vector<RecipeRuns> recipes) {
    for (const Figure& f : curve_figures(recipes))
      if (f.name == "loss") return f;
    return Figure{};
  };
  const Figure calm = loss_figure({{"a", {run({2.0, 1.0})}}, {"b", {run({1.5, 0.5})}}});
  EXPECT_EQ(calm.script.find("logscale"), std::string::npos);
  const Figure wild = loss_figure({{"a", {run({2.0, 1.0})}}, {"b", {run({1.5, 2.6e36})}}});
  EXPECT_NE(wild.script.find("set logscale y"), std::string::npos);
  EXPECT_NE(wild.caption.find("logarithmic"), std::string::npos);
}

TEST(ReportHelpers, EscapingAndEncoding) {
  using namespace actlab::report;
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(html_escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(gnuplot_quote("it's"), "'it''s'");
  EXPECT_EQ(file_stem("elu:alpha=0.5"), "elu_alpha_0_5");
  EXPECT_EQ(actlab::find_gnuplot("/nonexistent:/also/not/here"), "");
}

TEST(ReportDrawn, EveryFigureIsDrawnAndEmbedded) {
  if (actlab::find_gnuplot().empty()) GTEST_SKIP() << "gnuplot is not installed";
  TempDir tmp;
  for (const auto format : {actlab::FigureFormat::svg, actlab::FigureFormat::png}) {
    const std::string dir = copy_fixture(tmp, format == actlab::FigureFormat::svg ? "compare" : "run");
    const actlab::ReportResult r = actlab::write_report(dir, {format, ""});
    EXPECT_TRUE(r.message.empty()) << r.message;
    EXPECT_TRUE(r.notes.empty()) << r.notes[0];
    EXPECT_EQ(r.figures.size(), r.data.size());
    const std::string html = read_text(r.html);
    const std::string uri = format == actlab::FigureFormat::svg ? "data:image/svg+xml;base64," : "data:image/png;base64,";
    std::size_t images = 0;
    for (std::size_t at = 0; (at = html.find(uri, at)) != std::string::npos; ++at) ++images;
    EXPECT_EQ(images, r.figures.size());
    EXPECT_EQ(html.find("src=\"http"), std::string::npos);  // self-contained
    EXPECT_EQ(html.find("href=\"http"), std::string::npos);
    for (const auto& e : fs::directory_iterator(fs::path(dir) / "figures"))  // no temporary files left
      EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();
  }
}

TEST(ReportDrawn, PlotActivationsDrawsOneFigure) {
  if (actlab::find_gnuplot().empty()) GTEST_SKIP() << "gnuplot is not installed";
  TempDir tmp;
  actlab::ActivationPlotOptions o;
  o.out = tmp.file("sub/all.png");
  const actlab::ActivationPlotResult r = actlab::plot_activations(o);
  EXPECT_TRUE(r.message.empty());
  EXPECT_EQ(r.figure, o.out);
  const std::string png = read_text(o.out);
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  // Every table entry has its two columns.
  const std::string csv = read_text(tmp.file("sub/all.csv"));
  EXPECT_EQ(std::count(csv.begin(), csv.begin() + std::ptrdiff_t(csv.find('\n')), ','),
            std::ptrdiff_t(2 * actlab::activation_table().size()));
}

}  // namespace
