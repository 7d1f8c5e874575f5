#include "actlab/activation.hpp"
#include <gtest/gtest.h>
TEST(ActivationTable, Smoke) { EXPECT_GT(actlab::activation_table().size(), 10u); }
