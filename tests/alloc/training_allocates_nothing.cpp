// Once training runs, a step allocates nothing: the seed recipe on random Fashion-MNIST-shaped data,
// with the diagnostics on, at 1 and 2 threads; every operator new between steps 10 and 30 is
// counted. A program of its own, because it replaces the global operator new.
#include "actlab/diagnostics.hpp"
#include "actlab/trainer.hpp"
#include "random_data.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <omp.h>

namespace {
std::atomic<long> allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  ++allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

long allocations_in_steps_10_to_30(int threads) {
  using namespace actlab;
  omp_set_num_threads(threads);
  const DataSplit data = random_fashion_shaped(4096, 256);
  Sequential model = seed_recipe_model(5);
  Diagnostics diagnostics(model);
  TrainConfig config;
  config.epochs = 1;
  TrainCallbacks callbacks;
  long at_10 = 0, at_30 = 0;
  callbacks.observe = [&](std::size_t step) { diagnostics.observe_step(step); };
  callbacks.on_step = [&](std::size_t step) {
    if (step == 10) at_10 = allocations;
    if (step == 30) at_30 = allocations;
  };
  train(model, data, config, callbacks);
  return at_30 - at_10;
}

}  // namespace

int main() {
  int failures = 0;
  for (const int threads : {1, 2}) {
    const long n = allocations_in_steps_10_to_30(threads);
    std::printf("%d thread(s): %ld allocations in steps 10 to 30\n", threads, n);
    failures += n != 0;
  }
  return failures == 0 ? 0 : 1;
}
