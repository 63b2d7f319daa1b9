#include "base/clock.h"

#include <gtest/gtest.h>

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
  std::thread waiter([&] {
    MutexLock lock(mu);
    while (clock.Now() < deadline) clock.WaitUntil(mu, cv, deadline);
  });
  clock.Advance(milliseconds(3));  // not yet due: the waiter keeps waiting
  clock.Advance(milliseconds(7));  // due: wakes it (or it never slept)
  waiter.join();
  EXPECT_GE(clock.Now(), deadline);
}

TEST(ClockTest, FromSecondsCeilNeverRoundsDown) {
  EXPECT_EQ(FromSecondsCeil(-1), Clock::Duration::zero());
  EXPECT_EQ(FromSecondsCeil(0.0015), std::chrono::microseconds(1500));
  EXPECT_GE(ToSeconds(FromSecondsCeil(1.0 / 3)), 1.0 / 3);
}

}  // namespace
}  // namespace bento
