#include "batching/dispatcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/cpu.h"
#include "base/thread_annotations.h"

namespace bento::batching {
namespace {

Tensor BatchRows(float base, int64_t n) {
  std::vector<float> v;
  for (int64_t i = 0; i < n; ++i) v.insert(v.end(), {base + i, -(base + i)});
  return Tensor::Of<float>({n, 2}, v);
}

StatusOr<TensorMap> Double(const TensorMap& inputs) {
  const Tensor& x = inputs.at("x");
  std::vector<float> y(x.values<float>().begin(), x.values<float>().end());
  for (float& v : y) v *= 2;
  return TensorMap{{"y", Tensor::Of<float>(x.shape(), y)}};
}

// Collects answers by name and lets the test block (on a condition variable, not a sleep)
// until a given one has come.
class Answers {
 public:
  DoneCallback For(std::string name) {
    return [this, name](StatusOr<TensorMap> r) {
      MutexLock lock(mu_);
      got_.emplace(name, std::move(r));
      cv_.NotifyAll();
    };
  }
  StatusOr<TensorMap> Wait(const std::string& name) {
    MutexLock lock(mu_);
    while (got_.count(name) == 0) cv_.Wait(mu_);
    return got_.at(name);
  }
  bool Has(const std::string& name) {
    MutexLock lock(mu_);
    return got_.count(name) > 0;
  }

 private:
  Mutex mu_;
  CondVar cv_;
  std::map<std::string, StatusOr<TensorMap>> got_ GUARDED_BY(mu_);
};

TEST(DispatcherTest, EightThreadsGetTheirOwnAnswersOnARealClock) {
  auto dispatcher = Dispatcher::Create(
      {.max_batch_size = 8, .max_latency_ms = 2000, .max_inflight_batches = 2}, Double);
  ASSERT_TRUE(dispatcher.ok()) << dispatcher.status();
  constexpr int kThreads = 8, kPerThread = 25;
  std::mutex mu;
  std::condition_variable all_done;
  int answered = 0;
  int64_t items = 0;
  std::vector<std::string> errors;
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const float base = static_cast<float>(t * 1000 + i * 10);
        const int64_t n = 1 + (t + i) % 3;
        Tensor x = BatchRows(base, n);
        {
          std::lock_guard<std::mutex> lock(mu);
          items += n;
        }
        (*dispatcher)->Submit(Request{{{"x", x}}, [&, x](StatusOr<TensorMap> r) {
          std::string error;
          if (!r.ok()) {
            error = r.status().ToString();
          } else if (auto want = Double({{"x", x}}); r->at("y").shape() != x.shape() ||
                                                     r->at("y").bytes() != want->at("y").bytes()) {
            error = "wrong answer for a request of shape " + ShapeToString(x.shape());
          }
          std::lock_guard<std::mutex> lock(mu);
          if (!error.empty()) errors.push_back(error);
          ++answered;
          all_done.notify_all();
        }});
      }
    });
  }
  for (std::thread& c : clients) c.join();
  {
    std::unique_lock<std::mutex> lock(mu);
    all_done.wait(lock, [&] { return answered == kThreads * kPerThread; });
    EXPECT_TRUE(errors.empty()) << errors.size() << " bad answers, first: " << errors[0];
  }
  BatcherStats stats = (*dispatcher)->stats();
  EXPECT_EQ(stats.requests_total, static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(stats.shed_total, 0u);
  EXPECT_EQ(stats.batch_size.sum, static_cast<double>(items));
  EXPECT_LE(stats.batch_size.counts.back(), 0u);  // never above max_batch_size
}

TEST(DispatcherTest, WakesWhenTheSimulatedClockAdvances) {
  SimulatedClock clock;
  std::mutex mu;
  std::condition_variable cv;
  bool first_entered = false, release_first = false;
  std::atomic<int> calls{0};
  auto executor = [&](const TensorMap& inputs) {
    if (calls++ == 0) {  // the first batch holds its slot until the test lets go
      std::unique_lock<std::mutex> lock(mu);
      first_entered = true;
      cv.notify_all();
      cv.wait(lock, [&] { return release_first; });
    }
    return Double(inputs);
  };
  auto dispatcher = Dispatcher::Create({.max_batch_size = 8, .max_latency_ms = 10000}, executor,
                                       &clock);
  ASSERT_TRUE(dispatcher.ok()) << dispatcher.status();
  Answers answers;
  (*dispatcher)->Submit(Request{{{"x", BatchRows(0, 1)}}, answers.For("r0")});
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return first_entered; });
  }
  // Same instant: traffic looks heavy, so r1 waits for company (simulated time stands still).
  (*dispatcher)->Submit(Request{{{"x", BatchRows(10, 1)}}, answers.For("r1")});
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // real time passes, not simulated
  EXPECT_FALSE(answers.Has("r1")) << "sent without waiting for the simulated clock";
  clock.Advance(std::chrono::seconds(1));  // no company came: the dispatcher wakes and sends
  EXPECT_TRUE(answers.Wait("r1").ok());
  EXPECT_FALSE(answers.Has("r0"));  // r1 ran while r0's batch was still in flight
  {
    std::lock_guard<std::mutex> lock(mu);
    release_first = true;
    cv.notify_all();
  }
  EXPECT_TRUE(answers.Wait("r0").ok());
}

TEST(DispatcherTest, StopSendsWhatIsQueuedThenRefusesNewRequests) {
  SimulatedClock clock;
  // r0's batch fails, so the cost model keeps its prior and r1 (same instant) waits.
  auto executor = [](const TensorMap& inputs) -> StatusOr<TensorMap> {
    if (inputs.at("x").values<float>()[0] < 0) return InternalError("bad batch");
    return Double(inputs);
  };
  auto dispatcher = Dispatcher::Create({.max_batch_size = 8, .max_latency_ms = 10000}, executor,
                                       &clock);
  ASSERT_TRUE(dispatcher.ok()) << dispatcher.status();
  Answers answers;
  (*dispatcher)->Submit(Request{{{"x", BatchRows(-5, 1)}}, answers.For("r0")});
  EXPECT_EQ(answers.Wait("r0").status().code(), StatusCode::kInternal);
  (*dispatcher)->Submit(Request{{{"x", BatchRows(10, 1)}}, answers.For("r1")});
  EXPECT_FALSE(answers.Has("r1"));
  (*dispatcher)->Stop();  // flushes r1 without waiting
  ASSERT_TRUE(answers.Has("r1"));
  EXPECT_TRUE(answers.Wait("r1").ok());
  (*dispatcher)->Submit(Request{{{"x", BatchRows(20, 1)}}, answers.For("r2")});
  ASSERT_TRUE(answers.Has("r2"));
  EXPECT_EQ(answers.Wait("r2").status().code(), StatusCode::kUnavailable);
}

TEST(DispatcherTest, CreateRejectsBadOptions) {
  EXPECT_EQ(Dispatcher::Create({.max_batch_size = 0}, Double).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Dispatcher::Create({.max_inflight_batches = 0}, Double).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Dispatcher::Create({}, nullptr).status().code(), StatusCode::kInvalidArgument);
}

// StartBatching: bad options turn batching off (null) instead of failing the server; good
// ones give a running dispatcher.
TEST(DispatcherTest, StartBatchingGivesARunningDispatcherOrNone) {
  EXPECT_EQ(StartBatching("API bad", {.max_batch_size = 0}, Double), nullptr);
  auto dispatcher = StartBatching("API double", {}, Double);
  ASSERT_NE(dispatcher, nullptr);
  Answers answers;
  dispatcher->Submit(Request{{{"x", BatchRows(1, 2)}}, answers.For("r")});
  auto r = answers.Wait("r");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->at("y").values<float>()[0], 2.0f);
}

// Running batches' intra-op pools never ask for more threads than the CPUs, and at least one
// batch runs.
TEST(DispatcherTest, InflightBatchesFitTheCpus) {
  const int cpus = AvailableCpus();
  EXPECT_EQ(InflightBatchesFor(0), 1);  // each batch's pool already takes every CPU
  EXPECT_EQ(InflightBatchesFor(cpus), 1);
  EXPECT_EQ(InflightBatchesFor(4 * cpus), 1);
  EXPECT_EQ(InflightBatchesFor(1), cpus);
  if (cpus >= 4) {
    EXPECT_EQ(InflightBatchesFor(2), cpus / 2);
  }
}

}  // namespace
}  // namespace bento::batching
