#include "batching/batch_probe.h"

#include <gtest/gtest.h>

#include <functional>
#include <vector>

namespace bento::batching {
namespace {

// Runs the probe against a model whose batch of n takes cost(n) seconds; returns the sizes
// it timed.
std::vector<int> Drive(BatchSizeProbe& probe, const std::function<double(int)>& cost) {
  std::vector<int> timed;
  while (auto n = probe.Next()) {
    timed.push_back(*n);
    probe.Record(*n, cost(*n), 4 * cost(*n));
  }
  return timed;
}

TEST(BatchSizeProbeTest, AFixedCostModelGetsItsLargestBatch) {
  // A tiny model: 1 ms a run whatever the batch, so an item always gets cheaper.
  BatchSizeProbe probe(32, 10);
  EXPECT_EQ(Drive(probe, [](int) { return 0.001; }), (std::vector<int>{1, 2, 4, 8, 16, 32}));
  EXPECT_EQ(probe.chosen(), 32);
}

TEST(BatchSizeProbeTest, StopsWhereAnItemNoLongerGetsCheaper) {
  // MobileNetV2 on two cores, as measured: 6.0, 4.4, 4.1 and 4.5 ms an item at 1, 2, 4, 8.
  std::vector<double> per_item = {0, 6.0e-3, 4.4e-3, 0, 4.1e-3, 0, 0, 0, 4.5e-3};
  BatchSizeProbe probe(32, 10);
  EXPECT_EQ(Drive(probe, [&](int n) { return per_item[n] * n; }), (std::vector<int>{1, 2, 4, 8}));
  EXPECT_EQ(probe.chosen(), 4);  // 4.1 is 7% under 4.4; 4.5 is dearer than 4.1
  EXPECT_EQ(probe.Summary(), "1: 6 ms/item, 2: 4.4 ms/item, 4: 4.1 ms/item, 8: 4.5 ms/item "
                             "(largest batch: 4)");
}

TEST(BatchSizeProbeTest, AGainWithinTheNoiseDoesNotCount) {
  // 3% cheaper at 2 is not enough: batches stay at one item.
  BatchSizeProbe probe(32, 10);
  EXPECT_EQ(Drive(probe, [](int n) { return n == 1 ? 0.010 : 0.0097 * n; }),
            (std::vector<int>{1, 2}));
  EXPECT_EQ(probe.chosen(), 1);
}

TEST(BatchSizeProbeTest, EndsWithTheMaxBatchSizeWhenItIsNotAPowerOfTwo) {
  BatchSizeProbe probe(12, 10);
  EXPECT_EQ(Drive(probe, [](int) { return 0.001; }), (std::vector<int>{1, 2, 4, 8, 12}));
  EXPECT_EQ(probe.chosen(), 12);

  BatchSizeProbe one(1, 10);
  EXPECT_EQ(Drive(one, [](int) { return 0.001; }), (std::vector<int>{1}));
  EXPECT_EQ(one.chosen(), 1);
}

TEST(BatchSizeProbeTest, StopsWhenTheBudgetIsSpentAndKeepsTheLastSizeKept) {
  // Each size's runs cost 4 * 0.1 s; a budget of 1 s is spent after sizes 1, 2 and 4.
  BatchSizeProbe probe(32, 1.0);
  EXPECT_EQ(Drive(probe, [](int) { return 0.1; }), (std::vector<int>{1, 2, 4}));
  EXPECT_EQ(probe.chosen(), 4);
}

TEST(BatchSizeProbeTest, IgnoresARecordForASizeItDidNotAskFor) {
  BatchSizeProbe probe(32, 10);
  probe.Record(8, 0.001, 0.004);
  EXPECT_EQ(probe.Next(), 1);
  EXPECT_EQ(probe.chosen(), 32);
  EXPECT_EQ(probe.Summary(), "no sizes timed (largest batch: 32)");
}

TEST(BatchingPaysTest, OnlyWhenABatchedItemWithItsHandOffIsCheaper) {
  // MobileNetV2 on two cores, as measured: two requests at once 4.72 ms an item, a batch of 2
  // alone 4.72: batching would only add the hand-off.
  EXPECT_FALSE(BatchingPays(4.72e-3, 4.72e-3));
  EXPECT_FALSE(BatchingPays(4.20e-3, 4.72e-3));  // 11% cheaper at load: not enough
  EXPECT_TRUE(BatchingPays(3.50e-3, 4.72e-3));   // 26%
  // A digits MLP: a batch of 32 makes an item ten times cheaper than two requests at once,
  // but an item's Run costs less than handing it over.
  EXPECT_FALSE(BatchingPays(0.3e-6, 3e-6));
  // A model with a fixed cost of 1 ms a run: a batch of 32 saves what a hand-off costs many
  // times over.
  EXPECT_TRUE(BatchingPays(1e-3 / 32, 1e-3 / 2));
}

TEST(WideThreadsPayTest, WhenALoneRequestRunsFasterByMoreThanTheNoise) {
  // MobileNetV2 on two cores: alone 7.5 ms on one thread, 4.9 on two.
  EXPECT_TRUE(WideThreadsPay(7.5e-3, 4.9e-3));
  EXPECT_TRUE(WideThreadsPay(8e-3, 6.8e-3));     // at the bound
  EXPECT_FALSE(WideThreadsPay(8e-3, 7.2e-3));    // 10% faster: within the noise
  // Small kernels: the OCR classifier is slower on two threads.
  EXPECT_FALSE(WideThreadsPay(1.16e-3, 1.3e-3));
  // A tiny model: equal within noise.
  EXPECT_FALSE(WideThreadsPay(3.84e-6, 3.89e-6));
}

}  // namespace
}  // namespace bento::batching
