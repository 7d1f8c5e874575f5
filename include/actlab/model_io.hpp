// Model descriptions and files.
//
// SPEC grammar (documented in docs/formats.md): layers separated by commas at the top level; each
// layer is TYPE or TYPE(key=value,...). TYPE is linear, batchnorm1d, prelu, dropout, or any activation
// of the table; keys are PyTorch's constructor/functional names:
//   linear(256)  or linear(out_features=256)        in_features comes from the previous width
//   batchnorm1d  or batchnorm1d(eps=1e-5,momentum=0.1)
//   prelu        or prelu(num_parameters=128,init=0.25)
//   dropout(p=0.2)
//   leaky_relu(negative_slope=0.2), gelu(approximate=tanh), ...
// Example: "linear(256),batchnorm1d,leaky_relu,linear(128),batchnorm1d,prelu,linear(10),elu"
//
// A model directory holds config.json (the architecture and the input scaling) and model.safetensors
// (the weights, named as the equivalent torch.nn.Sequential's state_dict). See docs/formats.md.
#pragma once

#include "actlab/dataset.hpp"
#include "actlab/model.hpp"
#include "actlab/safetensors.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace actlab {

// Builds a model (weights zero, not initialized) from a SPEC for inputs of in_features.
// Throws std::invalid_argument naming the bad layer.
Sequential parse_model_spec(std::string_view spec, std::size_t in_features);

// The SPEC of a model; parse_model_spec(to_model_spec(m), m.in_features()) rebuilds the architecture.
std::string to_model_spec(const Sequential& model);

struct ModelFile {
  Sequential model;
  InputScaling scaling;
  // config.json's "weights_sha256" (lowercase hex), empty where it has none: the digest of the
  // model.safetensors saved with it, checked by load_model.
  std::string weights_sha256;
};

// The JSON config text of a model (indented, stable key order); with a digest, "weights_sha256" too.
std::string model_config_json(const Sequential& model, const InputScaling& scaling,
                              std::string_view weights_sha256 = {});
// Builds the architecture from config JSON text; `source` names the file in error messages.
ModelFile model_from_config_json(std::string_view json_text, const std::string& source);

// Writes DIR/model.safetensors, then DIR/config.json with that file's SHA-256 (each atomically),
// creating DIR if needed. A
// model that load_model would refuse (a layer argument out of range, a non-finite weight, a negative
// running variance) is refused first, and nothing is written: std::invalid_argument or
// std::runtime_error "DIR (not saved): ...".
void save_model(const std::string& dir, const Sequential& model, const InputScaling& scaling);
// Reads both files and checks every tensor's name, dtype and shape against the config, and the
// weights file against the config's "weights_sha256" where it has one (configs written by hand or by
// earlier versions of actlab have none).
ModelFile load_model(const std::string& dir);

// DIR/run.json, written beside a model by training: the data source it was trained on (paths made
// absolute) and the seed that split that data into train and test rows (and made the synthetic
// sets), so that evaluation can score the model on the same test rows.
struct RunRecord {
  std::string data;
  std::uint64_t data_seed = 0;
};
void write_run_record(const std::string& dir, const RunRecord& record);
// std::nullopt where DIR has no run.json; throws std::runtime_error "DIR/run.json: ..." if unreadable.
std::optional<RunRecord> read_run_record(const std::string& dir);

// The model's stored tensors by state_dict name, each prefixed with `prefix`: weights, biases, PReLU
// slopes, BatchNorm running statistics (F32) and num_batches_tracked (I64 scalar).
TensorMap model_tensors(const Sequential& model, const std::string& prefix = "");
// Copies the tensors named prefix + state_dict name into the model after checking that each is
// present with the right dtype, shape, data filling that shape and finite values (running variances
// >= 0), and that no other tensor carries the prefix. Throws std::runtime_error "SOURCE: ...".
void set_model_tensors(Sequential& model, TensorMap& tensors, const std::string& source,
                       const std::string& prefix = "");

}  // namespace actlab
