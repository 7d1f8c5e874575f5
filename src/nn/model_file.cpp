// Model directories: config.json (architecture, input scaling) + model.safetensors (weights named
// as torch.nn.Sequential's state_dict).
#include "actlab/file_io.hpp"
#include "actlab/model_io.hpp"
#include "actlab/safetensors.hpp"
#include "io/hex.hpp"
#include "io/printable.hpp"
#include "io/sha256.hpp"
#include "nn/layer_args.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace actlab {
namespace {

using nlohmann::ordered_json;

constexpr const char* format_name = "actlab-model";
constexpr int format_version = 1;
// A config nests 3 levels deep. Deeper nesting is refused while parsing: nlohmann's dump(), used in
// error messages, recurses once per level, and 16 MB of '[' would overflow the stack.
constexpr int max_json_depth = 32;
struct TooDeep {};

// The tensors a layer stores, with their shapes; `value` points at the layer's storage.
struct StoredTensor {
  std::string name;
  std::vector<std::size_t> shape;
  std::vector<float>* value = nullptr;  // null for num_batches_tracked (I64)
  std::int64_t* count = nullptr;
};

std::vector<StoredTensor> stored_tensors(Sequential& model) {
  std::vector<StoredTensor> out;
  auto& layers = model.layers();
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const auto name = [i](const char* n) { return fmt::format("{}.{}", i, n); };
    if (auto* l = std::get_if<Linear>(&layers[i])) {
      out.push_back({name("weight"), {l->out_features, l->in_features}, &l->weight});
      out.push_back({name("bias"), {l->out_features}, &l->bias});
    } else if (auto* b = std::get_if<BatchNorm1d>(&layers[i])) {
      out.push_back({name("weight"), {b->num_features}, &b->weight});
      out.push_back({name("bias"), {b->num_features}, &b->bias});
      out.push_back({name("running_mean"), {b->num_features}, &b->running_mean});
      out.push_back({name("running_var"), {b->num_features}, &b->running_var});
      out.push_back({name("num_batches_tracked"), {}, nullptr, &b->num_batches_tracked});
    } else if (auto* p = std::get_if<PReLU>(&layers[i])) {
      out.push_back({name("weight"), {p->num_parameters}, &p->weight});
    }
  }
  return out;
}

std::string shape_text(const std::vector<std::size_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

}  // namespace

std::string model_config_json(const Sequential& model, const InputScaling& scaling, std::string_view weights_sha256) {
  ordered_json layers = ordered_json::array();
  for (std::size_t i = 0; i < model.layers().size(); ++i) {
    const Layer& layer = model.layers()[i];
    ordered_json l;
    l["type"] = layer_type(layer);
    std::vector<LayerArg> args;
    try {
      args = layer_args(layer);  // checks an activation's parameters, which may have been set directly
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(fmt::format("layer {}: {}", i, e.what()));
    }
    for (const LayerArg& a : args) {
      if (a.is_word) {
        l[a.key] = a.value;
        continue;
      }
      // JSON has no NaN or infinity: such an argument cannot be saved (nor loaded).
      const ordered_json number = ordered_json::parse(a.value, nullptr, /*allow_exceptions=*/false);
      if (number.is_discarded())
        throw std::invalid_argument(fmt::format("layer {} ({}): {}={} cannot be saved", i, layer_type(layer), a.key,
                                                a.value));
      l[a.key] = number;
    }
    layers.push_back(l);
  }
  ordered_json config;
  config["format"] = format_name;
  config["version"] = format_version;
  config["in_features"] = model.in_features();
  config["out_features"] = model.out_features();
  config["input_scaling"] = {{"scale", scaling.scale}, {"shift", scaling.shift}};
  // Before the layers, on a line of its own: deleting that line leaves valid JSON.
  if (!weights_sha256.empty()) config["weights_sha256"] = weights_sha256;
  config["layers"] = layers;
  return config.dump(2) + "\n";
}

ModelFile model_from_config_json(std::string_view json_text, const std::string& source) {
  const auto fail = [&](const std::string& what) { throw std::runtime_error(fmt::format("{}: {}", source, what)); };
  ordered_json config;
  try {
    config = ordered_json::parse(json_text, [](int depth, ordered_json::parse_event_t, ordered_json&) {
      if (depth > max_json_depth) throw TooDeep{};
      return true;
    });
  } catch (const TooDeep&) {
    fail(fmt::format("nests deeper than {} levels", max_json_depth));
  } catch (const std::exception& e) {
    fail(fmt::format("not valid JSON ({})", e.what()));
  }
  if (!config.is_object()) fail("expected a JSON object");
  if (!config.contains("format") || config["format"] != format_name)  // (value() throws for a non-string)
    fail(fmt::format("\"format\" is not \"{}\"", format_name));
  if (!config.contains("version") || config["version"] != format_version)
    fail(fmt::format("unsupported \"version\" (this actlab reads version {})", format_version));
  if (!config.contains("in_features") || !config["in_features"].is_number_unsigned() ||
      config["in_features"].get<std::uint64_t>() == 0 || config["in_features"].get<std::uint64_t>() > (1u << 24))
    fail("\"in_features\" must be a positive integer");
  if (!config.contains("layers") || !config["layers"].is_array() || config["layers"].empty())
    fail("\"layers\" must be a non-empty array");

  ModelFile out;
  const auto& sc = config.value("input_scaling", ordered_json::object());
  // The scaling is applied in float32: a number beyond its range would turn every input into inf.
  const auto float_number = [](const ordered_json& v) {
    return v.is_number() && std::abs(v.get<double>()) <= double(std::numeric_limits<float>::max());
  };
  if (!sc.is_object() || !float_number(sc.value("scale", ordered_json(1.0))) ||
      !float_number(sc.value("shift", ordered_json(0.0))))
    fail("\"input_scaling\" must be {\"scale\": number, \"shift\": number}, finite as float32");
  out.scaling = {sc.value("scale", 1.0f), sc.value("shift", 0.0f)};

  if (config.contains("weights_sha256")) {
    const auto& digest = config["weights_sha256"];
    std::array<std::byte, 32> bytes;
    if (!digest.is_string() || !io_detail::from_hex(digest.get_ref<const std::string&>(), bytes))
      fail("\"weights_sha256\" must be 64 hex digits (the SHA-256 of model.safetensors)");
    out.weights_sha256 = io_detail::hex_text(bytes);  // lower case, as sha256_hex writes it
  }

  const std::size_t in_features = config["in_features"].get<std::size_t>();
  std::vector<Layer> layers;
  std::size_t width = in_features, parameters = 0;
  for (std::size_t i = 0; i < config["layers"].size(); ++i) {
    const auto& l = config["layers"][i];
    const std::string where = fmt::format("{}: layer {}", source, i);
    if (!l.is_object() || !l.contains("type") || !l["type"].is_string())
      throw std::runtime_error(fmt::format("{}: expected an object with a string \"type\"", where));
    std::vector<LayerArg> args;
    for (const auto& [key, value] : l.items()) {
      if (key == "type") continue;
      // An empty name would pass as the positional argument (linear's out_features).
      if (key.empty()) throw std::runtime_error(fmt::format("{}: an argument with an empty name", where));
      if (value.is_string()) args.push_back({key, value.get<std::string>(), true});
      else if (value.is_number()) args.push_back({key, value.dump()});
      else throw std::runtime_error(fmt::format("{}: \"{}\" must be a number or a string", where, key));
    }
    try {
      layers.push_back(make_layer(l["type"].get<std::string>(), args, width, where, &parameters));
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(e.what());
    }
    width = std::visit([&](const auto& layer) { return layer.output_width(width); }, layers.back());
  }
  if (config.contains("out_features") && config["out_features"] != width)
    fail(fmt::format("\"out_features\" is {} but the layers give {}", config["out_features"].dump(), width));
  out.model = Sequential(in_features, std::move(layers));
  return out;
}

TensorMap model_tensors(const Sequential& model, const std::string& prefix) {
  TensorMap tensors;
  for (const StoredTensor& t : stored_tensors(const_cast<Sequential&>(model))) {
    NamedTensor nt;
    nt.shape = t.shape;
    if (t.value) nt.f32 = *t.value;
    else {
      nt.dtype = "I64";
      nt.i64 = {*t.count};
    }
    tensors.emplace(prefix + t.name, std::move(nt));
  }
  return tensors;
}

void set_model_tensors(Sequential& model, TensorMap& tensors, const std::string& source, const std::string& prefix) {
  const auto fail = [&](const std::string& what) { throw std::runtime_error(fmt::format("{}: {}", source, what)); };
  const auto expected = stored_tensors(model);
  for (const StoredTensor& t : expected) {
    auto it = tensors.find(prefix + t.name);
    if (it == tensors.end()) fail(fmt::format("missing tensor '{}' that the model config implies", prefix + t.name));
    NamedTensor& got = it->second;
    if (got.shape != t.shape)
      fail(fmt::format("tensor '{}' has shape {}, the model config implies {}", it->first, shape_text(got.shape),
                       shape_text(t.shape)));
    if (t.value) {
      if (got.dtype != "F32") fail(fmt::format("tensor '{}' is {}, expected F32", it->first, printable(got.dtype)));
      if (got.f32.size() != t.value->size())
        fail(fmt::format("tensor '{}' holds {} values, its shape {} needs {}", it->first, got.f32.size(),
                         shape_text(got.shape), t.value->size()));
      for (float v : got.f32)
        if (!std::isfinite(v)) fail(fmt::format("tensor '{}' holds a non-finite value", it->first));
      // A negative running variance would make every evaluation output NaN, with no error.
      if (t.name.ends_with("running_var") && std::any_of(got.f32.begin(), got.f32.end(), [](float v) { return v < 0; }))
        fail(fmt::format("tensor '{}' holds a negative variance", it->first));
      // Copied into the existing storage: optimizers hold spans over it.
      std::copy(got.f32.begin(), got.f32.end(), t.value->begin());
    } else {
      if (got.dtype != "I64" || got.i64.size() != 1) fail(fmt::format("tensor '{}' must be one I64", it->first));
      *t.count = got.i64[0];
    }
  }
  for (const auto& [name, _] : tensors) {
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string local = name.substr(prefix.size());
    if (std::none_of(expected.begin(), expected.end(), [&](const StoredTensor& t) { return t.name == local; }))
      fail(fmt::format("unexpected tensor '{}' that the model config does not describe", printable(name)));
  }
}

void save_model(const std::string& dir, const Sequential& model, const InputScaling& scaling) {
  // What load_model would refuse is refused here, before anything is written: the loader's own
  // checks run on the config and the tensors (every layer's arguments; each tensor's name, shape,
  // size and values).
  const std::string weights_path = dir + "/model.safetensors";
  const std::string source = fmt::format("{} (not saved)", dir);
  const TensorMap tensors = model_tensors(model);
  const std::vector<std::byte> weights = encode_safetensors(tensors, {{"format", "pt"}}, weights_path);
  // The config names the weights file by its digest, so that a save cut off between the two files
  // (new weights beside the old config) is refused by load_model instead of loading a mixed model.
  std::string config;
  try {
    config = model_config_json(model, scaling, io_detail::sha256_hex(weights));
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format("{}: {}", source, e.what()));
  }
  ModelFile probe = model_from_config_json(config, source);
  TensorMap checked = tensors;
  set_model_tensors(probe.model, checked, source);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error(fmt::format("{}: cannot create the folder ({})", dir, ec.message()));
  write_file_atomic(weights_path, weights);
  write_file_atomic(dir + "/config.json", config);
}

void write_run_record(const std::string& dir, const RunRecord& record) {
  write_file_atomic(dir + "/run.json",
                    nlohmann::ordered_json{{"data", absolute_data_source(record.data)}, {"data_seed", record.data_seed}}
                            .dump(2) +
                        "\n");
}

std::optional<RunRecord> read_run_record(const std::string& dir) {
  const std::string path = dir + "/run.json";
  if (!std::filesystem::exists(path)) return std::nullopt;
  const std::vector<std::byte> bytes = read_file(path, 1u << 20);
  try {
    const auto j = nlohmann::json::parse(reinterpret_cast<const char*>(bytes.data()),
                                         reinterpret_cast<const char*>(bytes.data()) + bytes.size());
    const auto& seed = j.at("data_seed");
    if (!seed.is_number_unsigned()) throw std::out_of_range("data_seed is not a whole number >= 0");
    return RunRecord{j.at("data").get<std::string>(), seed.get<std::uint64_t>()};
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("{}: unreadable run record ({})", path, e.what()));
  }
}

ModelFile load_model(const std::string& dir) {
  if (dir.empty()) throw std::runtime_error("load_model: no folder given");
  const std::string config_path = dir + "/config.json";
  const std::vector<std::byte> bytes = read_file(config_path, 16u << 20);
  ModelFile out = model_from_config_json(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), config_path);
  const std::string weights_path = dir + "/model.safetensors";
  const std::vector<std::byte> weights = read_file(weights_path);
  // The file's own structure first: a damaged file is named as such, not as another save's.
  TensorMap tensors = decode_safetensors(weights, weights_path);
  if (!out.weights_sha256.empty()) {
    const std::string digest = io_detail::sha256_hex(weights);
    if (digest != out.weights_sha256)
      throw std::runtime_error(fmt::format(
          "{}: not the weights that config.json was saved with (SHA-256 {}..., config.json records {}...): "
          "another save's, as a save cut off between the two files leaves them, or changed since; if the "
          "weights were replaced on purpose, delete \"weights_sha256\" from config.json",
          weights_path, digest.substr(0, 12), out.weights_sha256.substr(0, 12)));
  }
  set_model_tensors(out.model, tensors, weights_path);
  return out;
}

}  // namespace actlab
