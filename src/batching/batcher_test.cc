// Tests of the dispatch policy on simulated time. The fake executor is the test itself: it
// takes the batches Poll hands out and completes them when told, after a simulated duration.
#include "batching/batcher.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bento::batching {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

// n rows of `width` floats; row i holds base + i in every column.
Tensor Rows(float base, int64_t n, int64_t width = 2) {
  std::vector<float> v;
  for (int64_t i = 0; i < n; ++i) v.insert(v.end(), static_cast<size_t>(width), base + i);
  return Tensor::Of<float>({n, width}, v);
}

std::vector<float> Floats(const Tensor& t) {
  auto v = t.values<float>();
  return {v.begin(), v.end()};
}

std::vector<float> Doubled(const Tensor& t) {
  std::vector<float> v = Floats(t);
  for (float& x : v) x *= 2;
  return v;
}

// The fake model: y = 2·x. Fails (INVALID_ARGUMENT) a batch without input "z" when the test
// says every request needs it, and a batch holding the value `poison`, as a model whose
// input passed every check can fail on its value.
StatusOr<TensorMap> FakeModel(const TensorMap& inputs, bool needs_z,
                              std::optional<float> poison = std::nullopt) {
  if (needs_z && !inputs.count("z")) return InvalidArgumentError("missing input 'z'");
  const Tensor& x = inputs.at("x");
  for (float v : x.values<float>()) {
    if (poison && v == *poison) return InvalidArgumentError("index out of range");
  }
  return TensorMap{{"y", Tensor::Of<float>(x.shape(), Doubled(x))}};
}

class BatcherTest : public ::testing::Test {
 protected:
  // Prior cost: 1 ms per item + 10 ms per batch. A heavy prior holds that shape; the level
  // follows the batches' simulated durations (see cost_model.h).
  void Make(BatchingOptions options, double prior_weight = 1e9) {
    ASSERT_TRUE(ValidateOptions(options).ok());
    batcher_ = std::make_unique<Batcher>(
        options, CostModel::Options{.prior_a = 0.001, .prior_b = 0.010,
                                    .prior_weight = prior_weight});
    start_ = clock_.Now();
  }

  // Submits at the current simulated time, then polls as the Dispatcher would.
  void Submit(const std::string& name, TensorMap inputs) {
    inputs_[name] = inputs;
    Completions c = batcher_->Submit(
        Request{std::move(inputs), [this, name](StatusOr<TensorMap> r) {
                  EXPECT_EQ(answers_.count(name), 0u) << name << " answered twice";
                  answers_.emplace(name, std::move(r));
                }},
        clock_.Now());
    FireAll(c);
    Poll();
  }
  void Submit(const std::string& name, float base, int64_t n) {
    Submit(name, TensorMap{{"x", Rows(base, n)}});
  }

  // Returns the batches formed by this poll; they join running_.
  std::vector<uint64_t> Poll() {
    PollResult r = batcher_->Poll(clock_.Now());
    FireAll(r.completions);
    wake_at_ = r.wake_at;
    std::vector<uint64_t> ids;
    for (Batch& b : r.batches) {
      ids.push_back(b.id);
      sizes_.push_back(b.size);
      running_.emplace(b.id, std::move(b));
    }
    max_running_ = std::max(max_running_, running_.size());
    EXPECT_EQ(batcher_->inflight_batches(), static_cast<int>(running_.size()));
    return ids;
  }

  // The fake executor finishes batch `id` now (with `error` if given), then the batcher polls.
  void Complete(uint64_t id, Status error = OkStatus()) {
    auto it = running_.find(id);
    ASSERT_NE(it, running_.end()) << "batch " << id << " is not running";
    StatusOr<TensorMap> out =
        error.ok() ? FakeModel(it->second.inputs, needs_z_, poison_) : StatusOr<TensorMap>(error);
    running_.erase(it);
    Completions c = batcher_->Complete(id, std::move(out), clock_.Now());
    FireAll(c);
    Poll();
  }
  void CompleteAll() {
    while (!running_.empty()) Complete(running_.begin()->first);
  }

  void AdvanceTo(Clock::Duration since_start) { clock_.SetTime(start_ + since_start); }

  // The request answered, with y == 2·x of its own input.
  void ExpectServed(const std::string& name) {
    ASSERT_EQ(answers_.count(name), 1u) << name << " not answered";
    const StatusOr<TensorMap>& r = answers_.at(name);
    ASSERT_TRUE(r.ok()) << name << ": " << r.status();
    EXPECT_EQ(r->at("y").shape(), inputs_.at(name).at("x").shape()) << name;
    EXPECT_EQ(Floats(r->at("y")), Doubled(inputs_.at(name).at("x"))) << name;
  }
  void ExpectFailed(const std::string& name, StatusCode code) {
    ASSERT_EQ(answers_.count(name), 1u) << name << " not answered";
    EXPECT_EQ(answers_.at(name).status().code(), code) << name << ": "
                                                        << answers_.at(name).status();
  }

  SimulatedClock clock_;
  Clock::TimePoint start_;
  std::unique_ptr<Batcher> batcher_;
  std::map<uint64_t, Batch> running_;
  std::vector<int64_t> sizes_;  // of every batch formed, in order
  size_t max_running_ = 0;
  std::optional<Clock::TimePoint> wake_at_;
  std::map<std::string, TensorMap> inputs_;
  std::map<std::string, StatusOr<TensorMap>> answers_;
  bool needs_z_ = false;
  std::optional<float> poison_;
};

TEST_F(BatcherTest, DispatchesAFullBatchAtOnce) {
  Make({.max_batch_size = 4, .max_latency_ms = 100});
  Submit("r0", 0, 1);  // the first request: no rate known yet, sent alone
  for (int i = 1; i <= 3; ++i) {
    AdvanceTo(milliseconds(i));
    Submit("r" + std::to_string(i), 10.f * i, 1);
  }
  EXPECT_EQ(sizes_, (std::vector<int64_t>{1}));  // r1..r3 wait: traffic is high
  ASSERT_TRUE(wake_at_.has_value());
  Submit("r4", 40, 1);  // four items queued: full, sent at once at the same instant
  EXPECT_EQ(sizes_, (std::vector<int64_t>{1, 4}));
  CompleteAll();
  for (int i = 0; i <= 4; ++i) ExpectServed("r" + std::to_string(i));
}

TEST_F(BatcherTest, WaitsWhileWaitingPaysThenSendsWhenItStopsPaying) {
  Make({.max_batch_size = 16, .max_latency_ms = 100});
  for (int i = 0; i <= 3; ++i) {
    AdvanceTo(milliseconds(i));
    Submit("r" + std::to_string(i), 10.f * i, 1);
  }
  EXPECT_EQ(sizes_, (std::vector<int64_t>{1}));
  // One request per ms, q = 3: waiting pays while the gap since the last arrival stays
  // under m·cost(3)/3 = 13/3 ms, so the next poll is at 3 + 4.33 ms.
  ASSERT_TRUE(wake_at_.has_value());
  EXPECT_GE(*wake_at_ - start_, microseconds(7333));
  EXPECT_LE(*wake_at_ - start_, microseconds(7334));
  clock_.SetTime(*wake_at_ - microseconds(1));
  Poll();
  EXPECT_EQ(sizes_, (std::vector<int64_t>{1}));
  clock_.SetTime(*wake_at_);
  Poll();
  EXPECT_EQ(sizes_, (std::vector<int64_t>{1, 3}));
  CompleteAll();
  for (int i = 0; i <= 3; ++i) ExpectServed("r" + std::to_string(i));
}

TEST_F(BatcherTest, SendsWhenTheDeadlineNears) {
  // A request per ms: batching always pays (cost(q)/q = 1 + 10/q ms > 1 ms), so only the
  // 30 ms budget of the oldest waiting request (r1, due at 31 ms) stops the wait.
  Make({.max_batch_size = 64, .max_latency_ms = 30});
  Submit("r0", 0, 1);
  int i = 1;
  for (; sizes_.size() < 2 && i < 30; ++i) {
    AdvanceTo(milliseconds(i));
    Submit("r" + std::to_string(i), 10.f * i, 1);
  }
  // At 9 ms (q = 9) the next request plus a batch of 10 still fit (9 + 1 + 20 < 31); at
  // 10 ms a batch of 11 would not (10 + 1 + 21 >= 31): send the 10 queued, due 10 + 20 ms.
  EXPECT_EQ(i - 1, 10);
  EXPECT_EQ(sizes_, (std::vector<int64_t>{1, 10}));
  EXPECT_LE(clock_.Now() - start_ + milliseconds(20), milliseconds(31));
  CompleteAll();
  for (int k = 0; k <= 10; ++k) ExpectServed("r" + std::to_string(k));
}

TEST_F(BatcherTest, NoWaitingAtLowTraffic) {
  Make({.max_batch_size = 32, .max_latency_ms = 100});
  for (int i = 0; i < 4; ++i) {
    AdvanceTo(std::chrono::seconds(i));
    Submit("r" + std::to_string(i), 10.f * i, 1);
    // A lone request, one a second: sent the moment it arrives, nothing left to wake for.
    EXPECT_EQ(sizes_.size(), static_cast<size_t>(i + 1));
    EXPECT_FALSE(wake_at_.has_value());
    CompleteAll();
    ExpectServed("r" + std::to_string(i));
  }
}

TEST_F(BatcherTest, ShedsTheOldestWhenItCannotMeetItsDeadline) {
  Make({.max_batch_size = 4, .max_latency_ms = 50, .max_inflight_batches = 1});
  Submit("r0", 0, 1);  // runs, and keeps the only slot busy
  const uint64_t stuck = running_.begin()->first;
  AdvanceTo(milliseconds(1));
  Submit("r1", 10, 1);  // due at 51 ms; a batch of 1 takes 11 ms: shed after 40 ms
  AdvanceTo(milliseconds(39));
  Submit("r2", 20, 1);  // due at 89 ms: still fine after r0's 40 ms run
  ASSERT_TRUE(wake_at_.has_value());
  EXPECT_EQ(*wake_at_ - start_, milliseconds(40) + Clock::Duration(1));
  clock_.SetTime(*wake_at_ - Clock::Duration(1));
  Poll();
  EXPECT_TRUE(answers_.empty());
  clock_.SetTime(*wake_at_);
  Poll();
  ExpectFailed("r1", StatusCode::kUnavailable);
  EXPECT_NE(answers_.at("r1").status().message().find("shed"), std::string::npos);
  EXPECT_EQ(answers_.count("r2"), 0u);  // still has time
  Complete(stuck);                      // frees the slot: r2 goes
  CompleteAll();
  ExpectServed("r0");
  ExpectServed("r2");
  EXPECT_EQ(batcher_->stats(clock_.Now()).shed_total, 1u);
}

TEST_F(BatcherTest, CostAboveTheBudgetIsServedNotShed) {
  // cost(1) = 11 ms > 5 ms budget (a cold estimate, say): shedding would starve the model of
  // the samples that correct it, so requests are sent at once instead.
  Make({.max_batch_size = 4, .max_latency_ms = 5, .max_inflight_batches = 1});
  Submit("r0", 0, 1);
  Submit("r1", 10, 1);
  AdvanceTo(milliseconds(20));
  Poll();
  EXPECT_TRUE(answers_.empty());
  CompleteAll();
  ExpectServed("r0");
  ExpectServed("r1");
  EXPECT_EQ(batcher_->stats(clock_.Now()).shed_total, 0u);
}

TEST_F(BatcherTest, SplitsAnOversizeRequestAndAnswersOnceInOrder) {
  Make({.max_batch_size = 4, .max_latency_ms = 100, .max_inflight_batches = 2});
  Submit("big", 0, 10);  // items 0-3 and 4-7 go at once (two slots); 8-9 wait
  ASSERT_EQ(sizes_, (std::vector<int64_t>{4, 4}));
  const uint64_t first = running_.begin()->first, second = std::next(running_.begin())->first;
  Submit("small", 100, 2);
  Complete(first);  // a slot frees: big's last 2 items and small's 2 fill a batch
  ASSERT_EQ(sizes_, (std::vector<int64_t>{4, 4, 4}));
  const Batch& third = running_.rbegin()->second;
  EXPECT_EQ(Floats(third.inputs.at("x")), (std::vector<float>{8, 8, 9, 9, 100, 100, 101, 101}));
  Complete(running_.rbegin()->first);
  ExpectServed("small");
  EXPECT_EQ(answers_.count("big"), 0u);  // items 4-7 still running
  Complete(second);
  ExpectServed("big");  // all ten rows, in order
}

TEST_F(BatcherTest, BadInputFailsAloneAtSubmit) {
  Make({.max_batch_size = 8, .max_latency_ms = 100});
  Submit("good", 0, 1);
  Submit("scalar", TensorMap{{"x", Tensor::Of<float>({}, {1})}});  // no batch dim
  Submit("mismatch", TensorMap{{"x", Rows(5, 2)}, {"z", Rows(5, 3)}});
  Submit("empty", TensorMap{{"x", Rows(5, 0)}});
  ExpectFailed("scalar", StatusCode::kInvalidArgument);
  ExpectFailed("mismatch", StatusCode::kInvalidArgument);
  ExpectFailed("empty", StatusCode::kInvalidArgument);
  CompleteAll();
  ExpectServed("good");
  EXPECT_EQ(batcher_->stats(clock_.Now()).rejected_total, 3u);
}

TEST_F(BatcherTest, RequestMissingAnInputRunsAloneAndFailsAlone) {
  Make({.max_batch_size = 3, .max_latency_ms = 100, .max_inflight_batches = 4});
  needs_z_ = true;
  auto with_z = [](float base) { return TensorMap{{"x", Rows(base, 1)}, {"z", Rows(0, 1)}}; };
  Submit("g0", with_z(0));
  AdvanceTo(milliseconds(1));
  Submit("g1", with_z(10));
  Submit("no_z", TensorMap{{"x", Rows(20, 1)}});
  Submit("g2", with_z(30));
  Submit("g3", with_z(40));  // g1..g3 fill a batch; no_z is not in it
  ASSERT_EQ(sizes_, (std::vector<int64_t>{1, 3}));
  ASSERT_TRUE(wake_at_.has_value());
  clock_.SetTime(*wake_at_);  // waiting for company stops paying: no_z goes alone
  Poll();
  ASSERT_EQ(sizes_, (std::vector<int64_t>{1, 3, 1}));
  CompleteAll();
  for (const char* name : {"g0", "g1", "g2", "g3"}) ExpectServed(name);
  ExpectFailed("no_z", StatusCode::kInvalidArgument);
}

// A request can pass every check and still fail inside the model. When a batch of several
// requests fails, each runs again alone, so only the one that fails alone gets the error.
TEST_F(BatcherTest, AFailedBatchRunsEachRequestAloneSoOnlyTheBadOneFails) {
  Make({.max_batch_size = 2, .max_latency_ms = 100, .max_inflight_batches = 4});
  poison_ = 10.f;  // the model fails on any batch holding r1's rows
  for (int i = 0; i < 5; ++i) Submit("r" + std::to_string(i), 10.f * i, 1);
  ASSERT_EQ(sizes_, (std::vector<int64_t>{1, 2, 2}));  // [r0] [r1 r2] [r3 r4]
  Complete(std::next(running_.begin())->first);
  // Nobody is answered yet: r1 and r2 each run again, alone, right away.
  EXPECT_EQ(answers_.size(), 0u);
  EXPECT_EQ(sizes_, (std::vector<int64_t>{1, 2, 2, 1, 1}));
  CompleteAll();
  ExpectFailed("r1", StatusCode::kInvalidArgument);
  for (const char* name : {"r0", "r2", "r3", "r4"}) ExpectServed(name);
  const BatcherStats stats = batcher_->stats(clock_.Now());
  EXPECT_EQ(stats.batch_errors_total, 2u);  // [r1 r2], then [r1] alone, which is final
  EXPECT_EQ(stats.retried_total, 2u);
  EXPECT_TRUE(batcher_->idle());
}

TEST_F(BatcherTest, ATransientBatchErrorCostsNoRequest) {
  Make({.max_batch_size = 4, .max_latency_ms = 100, .max_inflight_batches = 1});
  Submit("a", 0.f, 1);                       // sent alone at once
  for (const char* name : {"b", "c"}) Submit(name, 5.f, 2);  // queue behind it
  Complete(running_.begin()->first);
  ASSERT_EQ(sizes_, (std::vector<int64_t>{1, 4}));  // [a] [b c]
  Complete(running_.begin()->first, InternalError("the GPU fell over once"));
  // b and c run again one at a time (one batch in flight at most), and both are served.
  EXPECT_EQ(sizes_, (std::vector<int64_t>{1, 4, 2}));
  CompleteAll();
  EXPECT_EQ(sizes_, (std::vector<int64_t>{1, 4, 2, 2}));
  for (const char* name : {"a", "b", "c"}) ExpectServed(name);
}

TEST_F(BatcherTest, ABatchOfOneRequestFailsItAtOnce) {
  Make({.max_batch_size = 4, .max_latency_ms = 100, .max_inflight_batches = 2});
  Submit("big", 0.f, 3);
  Complete(running_.begin()->first, InternalError("out of memory"));
  ExpectFailed("big", StatusCode::kInternal);
  EXPECT_EQ(batcher_->stats(clock_.Now()).retried_total, 0u);
  EXPECT_TRUE(batcher_->idle());
}

TEST_F(BatcherTest, SeveralBatchesInFlightButNeverMore) {
  Make({.max_batch_size = 2, .max_latency_ms = 1000, .max_inflight_batches = 3});
  for (int i = 0; i < 10; ++i) Submit("r" + std::to_string(i), 10.f * i, 1);
  EXPECT_EQ(running_.size(), 3u);  // [r0] [r1 r2] [r3 r4]; r5..r9 queue
  EXPECT_EQ(batcher_->stats(clock_.Now()).queued_items, 5);
  Complete(running_.begin()->first);  // one slot frees, exactly one batch takes it
  EXPECT_EQ(running_.size(), 3u);
  EXPECT_EQ(sizes_.size(), 4u);
  CompleteAll();
  EXPECT_EQ(max_running_, 3u);
  for (int i = 0; i < 10; ++i) ExpectServed("r" + std::to_string(i));
}

TEST_F(BatcherTest, MaxBatchSizeOneSendsEveryItemAloneWithoutWaiting) {
  Make({.max_batch_size = 1, .max_latency_ms = 100, .max_inflight_batches = 2});
  Submit("a", 0, 1);
  Submit("b", 10, 1);
  Submit("c", 20, 3);  // split into three batches of one
  EXPECT_EQ(sizes_, (std::vector<int64_t>{1, 1}));
  // Nothing waits to fill a batch; the only wake-up is c's shed time.
  ASSERT_TRUE(wake_at_.has_value());
  EXPECT_EQ(*wake_at_ - start_, milliseconds(100 - 11) + Clock::Duration(1));
  CompleteAll();
  EXPECT_EQ(sizes_, (std::vector<int64_t>{1, 1, 1, 1, 1}));
  for (const char* name : {"a", "b", "c"}) ExpectServed(name);
}

TEST_F(BatcherTest, RequestsWithDifferentShapesAreNeverMixed) {
  Make({.max_batch_size = 4, .max_latency_ms = 100, .max_inflight_batches = 8});
  Submit("w2_0", TensorMap{{"x", Rows(0, 1, 2)}});
  for (int i = 1; i <= 4; ++i) {
    Submit("w2_" + std::to_string(i), TensorMap{{"x", Rows(10.f * i, 1, 2)}});
    Submit("w3_" + std::to_string(i), TensorMap{{"x", Rows(10.f * i, 1, 3)}});
  }
  for (const auto& [id, batch] : running_) {
    ASSERT_TRUE(batch.inputs.at("x").shape()[1] == 2 || batch.inputs.at("x").shape()[1] == 3);
  }
  EXPECT_EQ(sizes_, (std::vector<int64_t>{1, 4, 4}));
  CompleteAll();
  for (const auto& [name, inputs] : inputs_) ExpectServed(name);
}

TEST_F(BatcherTest, StatsCountBatchSizesWaitsAndTheCostModelLearns) {
  Make({.max_batch_size = 4, .max_latency_ms = 100}, /*prior_weight=*/0.1);
  Submit("r0", 0, 1);
  for (int i = 1; i <= 4; ++i) Submit("r" + std::to_string(i), 10.f * i, 1);
  AdvanceTo(milliseconds(30));  // both batches took 30 ms
  CompleteAll();
  BatcherStats s = batcher_->stats(clock_.Now());
  EXPECT_EQ(s.batches_total, 2u);
  EXPECT_EQ(s.batch_size.count, 2u);
  EXPECT_DOUBLE_EQ(s.batch_size.sum, 5);
  EXPECT_EQ(s.batch_size.bounds, (std::vector<double>{1, 2, 4}));
  EXPECT_EQ(s.batch_size.counts, (std::vector<uint64_t>{1, 0, 1, 0}));
  EXPECT_EQ(s.queue_wait_seconds.count, 5u);
  EXPECT_EQ(s.requests_total, 5u);
  EXPECT_EQ(s.inflight_batches, 0);
  EXPECT_EQ(s.queued_items, 0);
  EXPECT_NEAR(s.cost_a_seconds * 1 + s.cost_b_seconds, 0.030, 0.002);
  EXPECT_NEAR(s.cost_a_seconds * 4 + s.cost_b_seconds, 0.030, 0.002);
}

}  // namespace
}  // namespace bento::batching
