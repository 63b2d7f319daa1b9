// Clang's thread-safety annotations, and the lock types that carry them.
//
// The macros let the compiler check which lock guards which data: a member declared
//   int count_ GUARDED_BY(mu_);
// may be read or written only with mu_ held, and a function declared REQUIRES(mu_) may be
// called only with mu_ held. clang checks this at compile time with -Wthread-safety
// (`make check-thread-safety` builds with it and makes every such warning an error); under
// other compilers the macros expand to nothing. The analysis: https://clang.llvm.org/docs/
// ThreadSafetyAnalysis.html.
//
// libstdc++'s std::mutex carries no annotations, so the analysis cannot see it. Use instead:
//   Mutex       a std::mutex that is a capability: Lock(), Unlock().
//   MutexLock   holds a Mutex for its scope (like std::lock_guard).
//   CondVar     a std::condition_variable that waits with a Mutex held. A wait is written as
//               a loop, `while (!ready_) cv_.Wait(mu_);`, so the condition's reads are
//               checked in the caller (a predicate lambda would be analysed on its own,
//               without the lock).
// Where a pattern cannot be expressed, mark the smallest function NO_THREAD_SAFETY_ANALYSIS
// and say why in a comment.
//
// Thread-safety: Mutex and CondVar are thread-safe, as their std counterparts; a MutexLock
// belongs to one thread.
#ifndef BENTO_BASE_THREAD_ANNOTATIONS_H_
#define BENTO_BASE_THREAD_ANNOTATIONS_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define BENTO_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define BENTO_THREAD_ANNOTATION(x)
#endif

// On a class: its objects are capabilities (locks); `name` appears in the warnings.
#define CAPABILITY(name) BENTO_THREAD_ANNOTATION(capability(name))
// On a class: an RAII object that holds the capabilities its constructor acquires.
#define SCOPED_CAPABILITY BENTO_THREAD_ANNOTATION(scoped_lockable)

// On a data member or global: read or written only with `mu` held.
#define GUARDED_BY(mu) BENTO_THREAD_ANNOTATION(guarded_by(mu))
// On a pointer: the data it points to is read or written only with `mu` held.
#define PT_GUARDED_BY(mu) BENTO_THREAD_ANNOTATION(pt_guarded_by(mu))
// On a Mutex member: the lock order (checked only with -Wthread-safety-beta).
#define ACQUIRED_BEFORE(...) BENTO_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) BENTO_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))

// On a function: the caller must hold the capabilities (exclusively / shared).
#define REQUIRES(...) BENTO_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) BENTO_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
// On a function: it acquires / releases the capabilities (`this` when none are named).
#define ACQUIRE(...) BENTO_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) BENTO_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) BENTO_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) BENTO_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
// On a function: it acquires the capabilities when it returns `result` (a try-lock).
#define TRY_ACQUIRE(...) BENTO_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
// On a function: the caller must not hold the capabilities (the function takes them).
#define EXCLUDES(...) BENTO_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
// On a function: asserts at run time that the capability is held; the analysis trusts it.
#define ASSERT_CAPABILITY(x) BENTO_THREAD_ANNOTATION(assert_capability(x))
// On a function: it returns a reference to the capability `x` (a lock accessor).
#define RETURN_CAPABILITY(x) BENTO_THREAD_ANNOTATION(lock_returned(x))
// On a function: not analysed. Say why next to it.
#define NO_THREAD_SAFETY_ANALYSIS BENTO_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace bento {

// A std::mutex the analysis can see. Not recursive; not movable.
class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds `mu` from construction to destruction.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() RELEASE() { mu_.Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

// A std::condition_variable whose waits name the Mutex they release and retake. The caller
// holds `mu` on entry and holds it again on return; in between it is released. A wait may
// return spuriously, so callers loop on their condition.
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  void Wait(Mutex& mu) REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();  // the caller still holds mu
  }

  // False when `deadline` passed (as std::cv_status::timeout), true when woken earlier.
  bool WaitUntil(Mutex& mu, std::chrono::steady_clock::time_point deadline) REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.mu_, std::adopt_lock);
    const bool woken = cv_.wait_until(lock, deadline) == std::cv_status::no_timeout;
    lock.release();  // the caller still holds mu
    return woken;
  }

  void NotifyOne() { cv_.notify_one(); }
  void NotifyAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace bento

#endif  // BENTO_BASE_THREAD_ANNOTATIONS_H_
