#include "base/clock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "base/thread_annotations.h"

namespace bento {
namespace {

using std::chrono::milliseconds;

TEST(SimulatedClockTest, MovesOnlyWhenTold) {
  SimulatedClock clock;
  const Clock::TimePoint start = clock.Now();
  EXPECT_EQ(clock.Now(), start);
  clock.Advance(milliseconds(5));
  EXPECT_EQ(clock.Now() - start, milliseconds(5));
  clock.SetTime(start + milliseconds(7));
  EXPECT_EQ(clock.Now() - start, milliseconds(7));
}

TEST(SimulatedClockTest, WaitUntilAPastDeadlineReturnsAtOnce) {
  SimulatedClock clock;
  Mutex mu;
  CondVar cv;
  MutexLock lock(mu);
  const Clock::TimePoint now = clock.Now();
  clock.WaitUntil(mu, cv, now);  // returns at once (no Advance), still holding mu
  EXPECT_EQ(clock.Now(), now);
}

TEST(SimulatedClockTest, AdvanceWakesAWaiter) {
  SimulatedClock clock;
  Mutex mu;
  CondVar cv;
  const Clock::TimePoint deadline = clock.Now() + milliseconds(10);
  std::atomic<bool> woke{false};
  Clock::TimePoint woke_at;
  std::thread waiter([&] {
    MutexLock lock(mu);
    while (clock.Now() < deadline) clock.WaitUntil(mu, cv, deadline);
    woke_at = clock.Now();
    woke = true;
  });
  clock.Advance(milliseconds(3));  // not yet due: the waiter keeps waiting
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_FALSE(woke.load()) << "woke before its deadline";
  clock.Advance(milliseconds(7));  // due: wakes it (the join would hang otherwise)
  waiter.join();
  EXPECT_TRUE(woke.load());
  EXPECT_EQ(woke_at, deadline);  // woke at the simulated time it asked for, not later
}

TEST(ClockTest, FromSecondsCeilNeverRoundsDown) {
  EXPECT_EQ(FromSecondsCeil(-1), Clock::Duration::zero());
  EXPECT_EQ(FromSecondsCeil(0.0015), std::chrono::microseconds(1500));
  EXPECT_GE(ToSeconds(FromSecondsCeil(1.0 / 3)), 1.0 / 3);
}

}  // namespace
}  // namespace bento
