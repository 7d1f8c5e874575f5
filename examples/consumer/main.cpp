// The smallest program that uses an installed actlab: checks that the headers and the library it
// loads are the same version, and applies an activation to an array.
#include <actlab/activation.hpp>
#include <actlab/version.hpp>

#include <cstdio>
#include <cstring>
#include <vector>

int main() {
  std::printf("headers %s (%d.%d.%d), library %s, %zu activations\n", ACTLAB_VERSION_STRING,
              ACTLAB_VERSION_MAJOR, ACTLAB_VERSION_MINOR, ACTLAB_VERSION_PATCH, actlab::version(),
              actlab::activation_table().size());
  std::vector<float> x{-1.0f, 0.0f, 1.0f}, y(3);
  actlab::activation_forward(actlab::parse_activation("leaky_relu"), y, x);
  std::printf("leaky_relu([-1, 0, 1]) = [%g, %g, %g]\n", y[0], y[1], y[2]);
  const bool ok = std::strcmp(actlab::version(), ACTLAB_VERSION_STRING) == 0 && y[0] == -0.01f && y[2] == 1.0f;
  return ok ? 0 : 1;
}
