// Clock: bento's seam over time, so that time-driven policy (the batcher's dispatch rule,
// the admission deadline) runs on a simulated clock in tests and never sleeps there.
//
// A Clock tells the time (a steady time_point) and waits on a condition variable until a
// deadline on that clock. RealClock does both with std::chrono::steady_clock. SimulatedClock's
// time moves only when a test calls Advance() or SetTime(); a WaitUntil on it returns when the
// simulated deadline passes (Advance wakes the waiter), when the condition variable is
// notified, or spuriously, exactly like std::condition_variable::wait_until.
//
// Ownership: RealClock::Get() is a process-wide instance that lives forever. A SimulatedClock
// is owned by its test and must outlive whatever uses it.
//
// Thread-safety: both clocks are thread-safe. REQUIRES for SimulatedClock: the mutex and the
// condition variable passed to WaitUntil outlive any Advance()/SetTime() running concurrently
// with that wait (true for a Dispatcher that is stopped before its clock dies). Lock order:
// a waiter's mutex before SimulatedClock::mu_; Advance never holds mu_ while it takes a
// waiter's mutex.
#ifndef BENTO_BASE_CLOCK_H_
#define BENTO_BASE_CLOCK_H_

#include <chrono>
#include <vector>

#include "base/thread_annotations.h"

namespace bento {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::steady_clock::duration;

  virtual ~Clock() = default;

  virtual TimePoint Now() const = 0;

  // Blocks on `cv` (with `mu` held on entry and on return, released while blocked) until
  // this clock reaches `deadline`, `cv` is notified, or a spurious wake-up. The caller
  // re-checks its own state afterwards, as with any condition variable.
  virtual void WaitUntil(Mutex& mu, CondVar& cv, TimePoint deadline) REQUIRES(mu) = 0;
};

// std::chrono::steady_clock.
class RealClock final : public Clock {
 public:
  // The shared instance; never destroyed.
  static RealClock* Get();

  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
  void WaitUntil(Mutex& mu, CondVar& cv, TimePoint deadline) REQUIRES(mu) override {
    cv.WaitUntil(mu, deadline);
  }
};

// Time that moves only when told. Starts at an arbitrary fixed epoch (not zero, so that
// "time_point{}" is never mistaken for a real instant).
class SimulatedClock final : public Clock {
 public:
  SimulatedClock();
  SimulatedClock(const SimulatedClock&) = delete;
  SimulatedClock& operator=(const SimulatedClock&) = delete;

  TimePoint Now() const override;
  void WaitUntil(Mutex& mu, CondVar& cv, TimePoint deadline) REQUIRES(mu) override;

  // Moves time forward by `d` (>= 0) and wakes every waiter whose deadline has passed.
  void Advance(Duration d);
  // Moves time to `t`; REQUIRES: t >= Now().
  void SetTime(TimePoint t);

 private:
  struct Waiter {
    Mutex* mu;
    CondVar* cv;
    TimePoint deadline;
  };

  mutable Mutex mu_;
  TimePoint now_ GUARDED_BY(mu_);
  std::vector<Waiter*> waiters_ GUARDED_BY(mu_);  // each lives on its waiter's stack
};

// Seconds as a double, for cost arithmetic.
inline double ToSeconds(Clock::Duration d) { return std::chrono::duration<double>(d).count(); }
// A duration of `seconds`, rounded up to the clock's tick so that a wake-up computed from it
// is never early. Negative values become zero.
Clock::Duration FromSecondsCeil(double seconds);

}  // namespace bento

#endif  // BENTO_BASE_CLOCK_H_
