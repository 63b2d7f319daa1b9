#include "base/thread_annotations.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

namespace bento {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// A counter and a flag behind one Mutex, as product code declares them.
struct Shared {
  Mutex mu;
  CondVar cv;
  int count GUARDED_BY(mu) = 0;
  bool ready GUARDED_BY(mu) = false;
};

TEST(MutexTest, MutexLockExcludesOtherThreads) {
  Shared s;
  constexpr int kThreads = 4, kEach = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&s] {
      for (int i = 0; i < kEach; ++i) {
        MutexLock lock(s.mu);
        ++s.count;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  MutexLock lock(s.mu);
  EXPECT_EQ(s.count, kThreads * kEach);
}

TEST(CondVarTest, WaitReturnsWithTheMutexHeldOnceNotified) {
  Shared s;
  std::thread waiter([&s] {
    MutexLock lock(s.mu);
    while (!s.ready) s.cv.Wait(s.mu);
    ++s.count;  // still under the lock: the notifier's increment below cannot interleave
  });
  {
    MutexLock lock(s.mu);
    s.ready = true;
    s.cv.NotifyAll();
  }
  waiter.join();
  MutexLock lock(s.mu);
  EXPECT_EQ(s.count, 1);
}

TEST(CondVarTest, WaitUntilReturnsFalseAtTheDeadline) {
  Shared s;
  MutexLock lock(s.mu);
  EXPECT_FALSE(s.cv.WaitUntil(s.mu, steady_clock::now() - milliseconds(1)));
  const auto deadline = steady_clock::now() + milliseconds(20);
  while (s.cv.WaitUntil(s.mu, deadline)) {
  }  // a spurious wake-up returns true early; nobody notifies
  EXPECT_GE(steady_clock::now(), deadline);
}

TEST(CondVarTest, WaitUntilReturnsTrueWhenNotifiedBeforeTheDeadline) {
  Shared s;
  std::thread notifier([&s] {
    MutexLock lock(s.mu);
    s.ready = true;
    s.cv.NotifyOne();
  });
  const auto deadline = steady_clock::now() + std::chrono::seconds(30);
  bool woken = true;
  {
    MutexLock lock(s.mu);
    while (!s.ready && woken) woken = s.cv.WaitUntil(s.mu, deadline);
    EXPECT_TRUE(s.ready);
  }
  notifier.join();
  EXPECT_TRUE(woken);
  EXPECT_LT(steady_clock::now(), deadline);
}

}  // namespace
}  // namespace bento
