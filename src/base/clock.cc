#include "base/clock.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace bento {

RealClock* RealClock::Get() {
  static RealClock* clock = new RealClock();
  return clock;
}

SimulatedClock::SimulatedClock() : now_(TimePoint(std::chrono::hours(1000))) {}

Clock::TimePoint SimulatedClock::Now() const {
  MutexLock guard(mu_);
  return now_;
}

void SimulatedClock::WaitUntil(Mutex& mu, CondVar& cv, TimePoint deadline) {
  Waiter self{&mu, &cv, deadline};
  {
    MutexLock guard(mu_);
    if (now_ >= deadline) return;
    waiters_.push_back(&self);
  }
  // `mu` stays held from the check above until Wait() releases it, and Advance() takes
  // that same mutex before notifying, so a wake-up cannot fall between the two.
  cv.Wait(mu);
  MutexLock guard(mu_);
  waiters_.erase(std::remove(waiters_.begin(), waiters_.end(), &self), waiters_.end());
}

void SimulatedClock::Advance(Duration d) {
  std::vector<std::pair<Mutex*, CondVar*>> due;
  {
    MutexLock guard(mu_);
    if (d > Duration::zero()) now_ += d;
    for (Waiter* w : waiters_) {
      if (w->deadline <= now_) due.emplace_back(w->mu, w->cv);
    }
  }
  // Never hold mu_ while taking a waiter's mutex: the waiter takes them the other way round.
  for (auto [mu, cv] : due) {
    MutexLock guard(*mu);
    cv->NotifyAll();
  }
}

void SimulatedClock::SetTime(TimePoint t) { Advance(t - Now()); }

Clock::Duration FromSecondsCeil(double seconds) {
  if (!(seconds > 0)) return Clock::Duration::zero();
  constexpr double kMaxSeconds = 1e6;  // far beyond any deadline; keeps the cast finite
  return std::chrono::ceil<Clock::Duration>(
      std::chrono::duration<double>(std::min(seconds, kMaxSeconds)));
}

}  // namespace bento
