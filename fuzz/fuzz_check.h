// FUZZ_CHECK: an invariant a fuzz target asserts about the code under test. A failed check
// prints what broke and aborts, which libFuzzer reports as a crash with its input saved.
#ifndef BENTO_FUZZ_FUZZ_CHECK_H_
#define BENTO_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond, ...)                                               \
  do {                                                                      \
    if (!(cond)) {                                                          \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: ", __FILE__,      \
                   __LINE__, #cond);                                        \
      std::fprintf(stderr, __VA_ARGS__);                                    \
      std::fputc('\n', stderr);                                             \
      std::abort();                                                         \
    }                                                                       \
  } while (0)

#endif  // BENTO_FUZZ_FUZZ_CHECK_H_
