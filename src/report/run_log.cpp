// Reading run folders (history.json, config.json, diagnostics.jsonl) and comparison folders
// (results.json). Lenient about numbers a file leaves out (they become NaN: the figure skips them),
// strict about structure: a file that is not what it should be is an error naming the file.
#include "report/report_internal.hpp"

#include "actlab/file_io.hpp"

#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace actlab::report {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

std::string read_text(const std::string& path) {
  const std::vector<std::byte> bytes = read_file(path, std::size_t(1) << 30);
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

ordered_json parse_json(const std::string& text, const std::string& where) {
  try {
    return ordered_json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("{}: not valid JSON ({})", where, e.what()));
  }
}

double number(const ordered_json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : nan;
}

int integer(const ordered_json& j, const char* key, const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer())
    throw std::runtime_error(fmt::format("{}: '{}' is missing or not an integer", where, key));
  return it->get<int>();
}

std::string scalar_text(const ordered_json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  if (v.is_number_float()) return fmt::format("{:.4g}", v.get<double>());
  if (v.is_null()) return "-";  // results.json's "no number" (a run that never reached the target, ...)
  if (v.is_array()) {
    std::string out;
    for (const auto& e : v) out += (out.empty() ? "" : ", ") + scalar_text(e);
    return out;
  }
  return v.dump();
}

bool is_scalar(const ordered_json& v) {
  if (v.is_array()) {
    for (const auto& e : v)
      if (e.is_structured()) return false;
    return true;
  }
  return !v.is_structured();
}

// Appends one object's scalar fields to a table, adding columns as they first appear.
void add_row(Table& table, const ordered_json& object, std::vector<std::string> row_prefix) {
  std::vector<std::string> row = std::move(row_prefix);
  row.resize(table.columns.size());
  for (const auto& [key, value] : object.items()) {
    if (!is_scalar(value)) continue;
    std::size_t c = 0;
    while (c < table.columns.size() && table.columns[c] != key) ++c;
    if (c == table.columns.size()) {
      table.columns.push_back(key);
      row.resize(table.columns.size());
    }
    row[c] = scalar_text(value);
  }
  table.rows.push_back(std::move(row));
}

void read_config(RunLog& run, const std::string& path) {
  const ordered_json config = parse_json(read_text(path), path);
  const auto layers = config.find("layers");
  if (layers == config.end() || !layers->is_array()) throw std::runtime_error(path + ": no 'layers' array");
  for (const auto& l : *layers) {
    if (!l.is_object() || !l.contains("type") || !l["type"].is_string())
      throw std::runtime_error(path + ": a layer without a 'type'");
    const std::string type = l["type"].get<std::string>();
    const ActivationInfo* info = find_activation(type);
    if (type == "linear" && l.contains("out_features"))
      run.layers.push_back(fmt::format("linear({})", l["out_features"].dump()));
    else if (!info)
      run.layers.push_back(type);
    if (!info) continue;
    // An activation: its parameters by name; keys that are not parameters (prelu's num_parameters) are skipped.
    Activation act = make_activation(type);
    for (const auto& [key, value] : l.items()) {
      bool known = false;
      for (const ParamInfo& p : info->params) known = known || key == p.name;
      if (known) set_activation_param(act, key, value.is_string() ? value.get<std::string>() : value.dump());
    }
    validate_activation(act);
    const std::string spec = act.to_string();
    run.layers.push_back(spec);
    bool seen = false;
    for (const Activation& a : run.activations) seen = seen || a.to_string() == spec;
    if (!seen) run.activations.push_back(act);
  }
}

EpochDiagnostics parse_diagnostics(const ordered_json& j, const std::string& where) {
  if (!j.is_object()) throw std::runtime_error(where + ": not a JSON object");
  EpochDiagnostics d;
  d.epoch = integer(j, "epoch", where);
  d.grad_ratio_first_last = number(j, "grad_ratio_first_last");
  d.train_eval_gap = number(j, "train_eval_gap");
  if (const auto it = j.find("layers"); it != j.end() && it->is_array())
    for (const auto& l : *it) {
      ActivationLayerStats s;
      s.layer = integer(l, "layer", where);
      s.type = l.contains("type") && l["type"].is_string() ? l["type"].get<std::string>() : "activation";
      s.dead_fraction = number(l, "dead_fraction");
      s.never_positive_fraction = number(l, "never_positive_fraction");
      s.saturated_fraction = number(l, "saturated_fraction");
      s.input_grad_rms = number(l, "input_grad_rms");
      if (const auto slope = l.find("slope"); slope != l.end() && slope->is_object()) {
        s.has_slope = true;
        s.slope_min = number(*slope, "min");
        s.slope_mean = number(*slope, "mean");
        s.slope_max = number(*slope, "max");
      }
      d.activations.push_back(std::move(s));
    }
  if (const auto it = j.find("linear"); it != j.end() && it->is_array())
    for (const auto& l : *it)
      d.linear.push_back({integer(l, "layer", where), number(l, "weight_grad_rms"), number(l, "weight_rms")});
  if (const auto it = j.find("warnings"); it != j.end() && it->is_array())
    for (const auto& w : *it)
      if (w.is_string()) d.warnings.push_back(w.get<std::string>());
  return d;
}

void read_diagnostics(RunLog& run, const std::string& path) {
  std::istringstream lines(read_text(path));
  std::string line;
  for (int n = 1; std::getline(lines, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = fmt::format("{}:{}", path, n);
    run.diagnostics.push_back(parse_diagnostics(parse_json(line, where), where));
  }
}

}  // namespace

std::string folder_name(const std::string& dir) {
  const fs::path normal = fs::path(dir).lexically_normal();  // "runs/x/" stays "runs/x/": no filename
  return normal.has_filename() ? normal.filename().string() : normal.parent_path().filename().string();
}

RunLog read_run_log(const std::string& dir) {
  RunLog run;
  run.dir = dir;
  run.name = folder_name(dir);
  const std::string history_path = (fs::path(dir) / "history.json").string();
  const ordered_json history = parse_json(read_text(history_path), history_path);
  if (!history.is_array()) throw std::runtime_error(history_path + ": not a JSON array of epochs");
  for (const auto& e : history) {
    if (!e.is_object()) throw std::runtime_error(history_path + ": an entry that is not an object");
    run.history.push_back({integer(e, "epoch", history_path), number(e, "train_loss"), number(e, "train_accuracy"),
                           number(e, "test_loss"), number(e, "test_accuracy"), number(e, "seconds"),
                           number(e, "lr")});
  }
  if (const fs::path p = fs::path(dir) / "config.json"; fs::exists(p)) read_config(run, p.string());
  if (const fs::path p = fs::path(dir) / "diagnostics.jsonl"; fs::exists(p)) read_diagnostics(run, p.string());
  return run;
}

ComparisonLog read_comparison_log(const std::string& dir) {
  ComparisonLog log;
  log.dir = dir;
  const std::string path = (fs::path(dir) / "results.json").string();
  const ordered_json results = parse_json(read_text(path), path);
  if (!results.is_object()) throw std::runtime_error(path + ": not a JSON object");
  for (const auto& [key, value] : results.items())
    if (key != "recipes" && is_scalar(value)) log.settings.emplace_back(key, scalar_text(value));
  const auto recipes = results.find("recipes");
  if (recipes == results.end() || !recipes->is_array()) throw std::runtime_error(path + ": no 'recipes' array");
  log.recipes_table.columns = {"recipe"};
  log.runs_table.columns = {"recipe"};
  for (const auto& r : *recipes) {
    if (!r.is_object() || !r.contains("recipe") || !r["recipe"].is_string())
      throw std::runtime_error(path + ": a recipe entry without a 'recipe' name");
    RecipeRuns entry;
    entry.recipe = r["recipe"].get<std::string>();
    add_row(log.recipes_table, r, {entry.recipe});
    const auto runs = r.find("runs");
    if (runs == r.end() || !runs->is_array()) {
      log.notes.push_back(fmt::format("recipe {}: no runs listed in {}", entry.recipe, path));
      continue;
    }
    for (std::size_t k = 0; k < runs->size(); ++k) {
      const ordered_json& run = (*runs)[k];
      add_row(log.runs_table, run, {entry.recipe});
      // Where the run lives: its "dir" (relative to DIR unless absolute), else runs/RECIPE-seedK.
      std::string run_dir;
      if (run.contains("dir") && run["dir"].is_string()) run_dir = run["dir"].get<std::string>();
      else if (run.contains("seed")) run_dir = fmt::format("runs/{}-seed{}", entry.recipe, run["seed"].dump());
      else continue;
      const fs::path full = fs::path(run_dir).is_absolute() ? fs::path(run_dir) : fs::path(dir) / run_dir;
      try {
        entry.runs.push_back(read_run_log(full.string()));
      } catch (const std::exception& e) {
        log.notes.push_back(fmt::format("recipe {}: run {} left out: {}", entry.recipe, full.string(), e.what()));
      }
    }
    log.recipes.push_back(std::move(entry));
  }
  return log;
}

}  // namespace actlab::report
