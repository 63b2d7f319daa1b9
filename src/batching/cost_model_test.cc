#include "batching/cost_model.h"

#include <gtest/gtest.h>

namespace bento::batching {
namespace {

TEST(CostModelTest, StartsAtThePrior) {
  CostModel model(CostModel::Options{.prior_a = 0.001, .prior_b = 0.01});
  EXPECT_DOUBLE_EQ(model.a(), 0.001);
  EXPECT_DOUBLE_EQ(model.b(), 0.01);
  EXPECT_DOUBLE_EQ(model.Cost(4), 0.014);
}

TEST(CostModelTest, LearnsSlopeAndInterceptFromSamples) {
  CostModel model;  // default prior, far from the truth
  for (int round = 0; round < 20; ++round) {
    for (int n : {1, 4, 8, 16, 32}) model.Observe(n, 0.002 * n + 0.010);
  }
  EXPECT_NEAR(model.a(), 0.002, 0.002 * 0.02);
  EXPECT_NEAR(model.b(), 0.010, 0.010 * 0.02);
}

TEST(CostModelTest, FollowsAChangeInCost) {
  CostModel model;
  for (int i = 0; i < 50; ++i) model.Observe(1 + i % 8, 0.002 * (1 + i % 8) + 0.010);
  for (int i = 0; i < 200; ++i) model.Observe(1 + i % 8, 0.001 * (1 + i % 8) + 0.003);
  EXPECT_NEAR(model.a(), 0.001, 0.0001);
  EXPECT_NEAR(model.b(), 0.003, 0.0003);
}

TEST(CostModelTest, SamplesOfOneSizeScaleThePrior) {
  CostModel model(CostModel::Options{.prior_a = 0.001, .prior_b = 0.004});
  for (int i = 0; i < 30; ++i) model.Observe(1, 0.010);
  EXPECT_NEAR(model.Cost(1), 0.010, 1e-6);
  EXPECT_NEAR(model.b() / model.a(), 4.0, 1e-3);  // the prior's shape
}

TEST(CostModelTest, NeverGoesNegative) {
  CostModel falling;
  for (int n = 1; n <= 32; ++n) falling.Observe(n, 0.050 - 0.001 * n);
  EXPECT_GE(falling.a(), 0);
  EXPECT_GE(falling.b(), 0);
  EXPECT_GT(falling.Cost(1), 0);

  CostModel through_origin;
  for (int n = 1; n <= 32; ++n) through_origin.Observe(n, 0.003 * n - 0.002);
  EXPECT_GE(through_origin.b(), 0);
  EXPECT_GT(through_origin.a(), 0.0025);

  CostModel junk;
  junk.Observe(0, 1.0);
  junk.Observe(4, -1.0);
  EXPECT_DOUBLE_EQ(junk.weight(), 0);
}

}  // namespace
}  // namespace bento::batching
