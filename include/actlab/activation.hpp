// The activation table and the one-call API over contiguous float arrays.
//
// Every activation is one entry of the table in src/kernels/activation_table.cpp: its name, its
// parameters (PyTorch's functional names, defaults, valid ranges), f and f' as one generic body
// instantiated for float and double, the gradient of its learnable parameter if it has one, its
// kinks, and the gain used to initialize the Linear layer in front of it. The CLI's parser,
// `actlab list`, the tests and the docs all iterate that table; nothing else names activations.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace actlab {

inline constexpr std::size_t max_activation_params = 2;

// One parameter of an activation. A numeric parameter accepts values in [min, max]; a choice
// parameter (gelu's approximate) stores the index of the chosen word in `choices`.
struct ParamInfo {
  const char* name = nullptr;
  double default_value = 0.0;
  double min = 0.0;
  double max = 0.0;
  std::vector<std::string_view> choices;  // empty for numeric parameters
};

using ActivationParams = std::array<double, max_activation_params>;

enum class InitScheme { kaiming, xavier };

// Elementwise kernels of one activation, instantiated from the entry's generic bodies.
// forward:  y[i] = f(x[i])                       (y may alias x)
// backward: dx[i] = dy[i] * f'(x[i])  (assigns; may read y = f(x), which the caller passes; dx may alias dy)
// param_grad: returns d(sum of dy*y)/d(param 0); only for activations with a learnable parameter.
template <class T>
struct ActivationKernels {
  void (*forward)(const ActivationParams&, std::span<T> y, std::span<const T> x) = nullptr;
  void (*backward)(const ActivationParams&, std::span<T> dx, std::span<const T> dy,
                   std::span<const T> x, std::span<const T> y) = nullptr;
  double (*param_grad)(const ActivationParams&, std::span<const T> dy, std::span<const T> x) = nullptr;
};

struct ActivationInfo {
  const char* name = nullptr;
  std::vector<ParamInfo> params;
  const char* formula = nullptr;     // f(x), in words a reader can check
  const char* derivative = nullptr;  // f'(x), and the value chosen at each kink
  std::vector<double> kinks;         // where f' is discontinuous (at default parameters)
  bool learnable = false;            // param 0 is learned (prelu's weight)
  bool random_in_training = false;   // rrelu: random slope in training, mean slope in evaluation
  bool backward_from_output = false; // f' can be computed from y alone (valid for the defaults)
  InitScheme init = InitScheme::kaiming;
  // nullptr: 1/sqrt(E[f(x)^2]) for x ~ N(0,1), computed from f (see gain_source).
  double (*gain)(const ActivationParams&) = nullptr;
  const char* gain_source = nullptr;
  // Checks that involve several parameters; returns an error message or nullptr.
  const char* (*validate)(const ActivationParams&) = nullptr;
  ActivationKernels<float> reference_f32;   // the scalar specification, float
  ActivationKernels<double> reference_f64;  // the same bodies in double, for tests
};

// The whole table, in a stable order.
std::span<const ActivationInfo> activation_table();

// nullptr when no activation has this name.
const ActivationInfo* find_activation(std::string_view name);

// How many activations a program may add with register_activation.
inline constexpr std::size_t max_registered_activations = 64;

// Adds an activation after the built-in entries, so that find_activation, parse_activation, model
// SPECs and config files, recipes, initialization and `actlab list` all know it. Build the entry
// with make_entry (actlab/activation_entry.hpp): one entry, nothing else to change. Registered
// entries run their reference kernels. Returns the stored entry, which lives as long as the program
// (pointers to table entries stay valid). Not thread-safe: register at start-up, before other
// threads use the table. A model that uses the activation can only be loaded by a program that has
// registered it.
// Throws std::invalid_argument, naming the problem, when the name is empty, not made of [a-z0-9_],
// already taken or a SPEC layer type (linear, batchnorm1d, dropout); when the entry has more than
// max_activation_params parameters, a default outside its range, no formula or derivative text, no
// kernels (use make_entry), or asks for a learnable or random parameter (only prelu and rrelu, which
// have their own layer code, have those); or when max_registered_activations are already registered.
// A missing gain_source is filled in. The entry's texts (name, formulas, parameter names) are kept
// as pointers: pass string literals, or strings that live as long as the program uses the table.
const ActivationInfo& register_activation(ActivationInfo info);

// An activation with its parameter values: what a layer, `actlab apply` or a user holds.
struct Activation {
  const ActivationInfo* info = nullptr;
  ActivationParams params{};

  std::string_view name() const { return info->name; }
  // The parameter's value; throws std::invalid_argument for a name the entry does not have.
  double param(std::string_view param_name) const;
  // Canonical text form, e.g. "elu:alpha=0.5" (parameters at their default are left out).
  std::string to_string() const;
};

// Parses "name" or "name:key=value,key=value" with PyTorch's parameter names, e.g.
// "leaky_relu:negative_slope=0.2", "gelu:approximate=tanh", "softplus:beta=2,threshold=10".
// Throws std::invalid_argument naming the unknown activation, key or the out-of-range value.
Activation parse_activation(std::string_view spec);

// An activation at its defaults; throws std::invalid_argument for an unknown name.
Activation make_activation(std::string_view name);

// Sets one parameter by name, validating its range (choices given as words or indices). Checks that
// involve several parameters (rrelu's lower <= upper) are left to validate_activation, to be called
// once all are set.
void set_activation_param(Activation& act, std::string_view key, std::string_view value);
// Throws std::invalid_argument when a parameter is outside its range or not the index of one of its
// choices (Activation::params can be written directly), when the parameters together are invalid
// (naming their values), or for an Activation without a table entry.
void validate_activation(const Activation& act);

// The one-call API. Shapes: x, y, dy, dx all have the same length n (any layout).
// activation_forward assigns y = f(x); y may alias x. Both functions throw std::invalid_argument for
// arrays of different lengths or an Activation without a table entry (a default-constructed one).
void activation_forward(const Activation& act, std::span<float> y, std::span<const float> x);
// activation_backward assigns dx = dy * f'(x). It reads x, and y = f(x) where the entry computes
// f' from the output; pass the forward's output. dx may alias dy.
void activation_backward(const Activation& act, std::span<float> dx, std::span<const float> dy,
                         std::span<const float> x, std::span<const float> y);
// The gradient of the learnable parameter (prelu's shared weight): sum over i of dy[i] * df/da(x[i]).
double activation_param_grad(const Activation& act, std::span<const float> dy, std::span<const float> x);

// Gain for initializing the Linear layer in front of this activation.
double activation_gain(const Activation& act);

}  // namespace actlab
