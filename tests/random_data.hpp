// Test data of Fashion-MNIST's shapes (784 byte features, 10 classes), random and seeded by the row
// count, for tests that need the seed recipe's sizes without the data set.
#pragma once

#include "actlab/dataset.hpp"
#include "actlab/init.hpp"
#include "actlab/model_io.hpp"
#include "actlab/recipes.hpp"

namespace actlab {

inline DataSplit random_fashion_shaped(std::size_t train_rows, std::size_t test_rows) {
  DataSplit data;
  data.name = "random";
  for (Dataset* d : {&data.train, &data.test}) {
    d->rows = d == &data.train ? train_rows : test_rows;
    d->features = 784;
    d->num_classes = 10;
    Rng rng(d->rows);
    d->pixels.resize(d->rows * d->features);
    for (auto& p : d->pixels) p = std::uint8_t(rng.below(256));
    d->labels.resize(d->rows);
    for (auto& l : d->labels) l = std::int32_t(rng.below(10));
    d->scaling = {1.0f / 255, 0.0f};
  }
  return data;
}

// The seed recipe (784-256-128-10 with BatchNorm), initialized from Rng(seed).
inline Sequential seed_recipe_model(std::uint64_t seed) {
  Sequential model = parse_model_spec(recipe_spec("seed", std::vector<std::size_t>{256, 128}, true, 10), 784);
  Rng rng(seed);
  initialize_parameters(model, rng);
  return model;
}

}  // namespace actlab
