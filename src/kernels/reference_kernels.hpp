// The scalar reference kernels: plain loops over an activation's generic bodies. They are the
// specification that every faster path is tested against. They live in the public header
// actlab/activation_entry.hpp, so that users build their own entries (register_activation) the
// same way as the built-in table.
#pragma once

#include "actlab/activation_entry.hpp"
