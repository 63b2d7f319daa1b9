# Sanitizer and fuzzing builds, each in its own build folder (see Makefile: test-asan,
# test-tsan, fuzz):
#   -DBENTO_SANITIZE=address   AddressSanitizer with UndefinedBehaviorSanitizer (g++ or clang)
#   -DBENTO_SANITIZE=thread    ThreadSanitizer
#   -DBENTO_FUZZ=ON            libFuzzer targets in fuzz/ (clang only); the libraries get
#                              -fsanitize=fuzzer-no-link, the targets -fsanitize=fuzzer.
# Runtime options and suppressions live in scripts/sanitizers/ and are set by scripts/test-sanitized
# and scripts/fuzz.
set(BENTO_SANITIZE "" CACHE STRING "Sanitizer build: address (with undefined) or thread")
set_property(CACHE BENTO_SANITIZE PROPERTY STRINGS "" address thread)
option(BENTO_FUZZ "Build the libFuzzer targets in fuzz/ (needs clang)" OFF)

if(BENTO_SANITIZE STREQUAL "address")
  # UBSan errors abort like ASan's, so a test or fuzzer cannot pass over one.
  set(bento_sanitize_flags -fsanitize=address,undefined -fno-sanitize-recover=undefined)
elseif(BENTO_SANITIZE STREQUAL "thread")
  set(bento_sanitize_flags -fsanitize=thread)
elseif(NOT BENTO_SANITIZE STREQUAL "")
  message(FATAL_ERROR "BENTO_SANITIZE must be address or thread, not '${BENTO_SANITIZE}'")
endif()
if(bento_sanitize_flags)
  add_compile_options(${bento_sanitize_flags} -fno-omit-frame-pointer)
  # -O1 with line tables only: reports keep file:line frames, and the build takes about
  # 40% less time than -O2 -g on the 2-core CI machine (the sanitizer builds are CI's
  # largest cost). NDEBUG stays, so the code tested is the code shipped.
  if(CMAKE_BUILD_TYPE STREQUAL "RelWithDebInfo")
    set(CMAKE_CXX_FLAGS_RELWITHDEBINFO "-O1 -g1 -DNDEBUG")
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC's sanitizer instrumentation makes -Wmaybe-uninitialized report false positives
    # (in libstdc++'s std::function and std::regex, for one); GCC's manual warns of this.
    add_compile_options(-Wno-maybe-uninitialized)
    # GCC warns that TSan does not model std::atomic_thread_fence (Asio's SSL uses one);
    # any report it causes would show up in the tests, so the warning adds nothing there.
    if(BENTO_SANITIZE STREQUAL "thread")
      add_compile_options(-Wno-tsan)
    endif()
  endif()
  add_link_options(${bento_sanitize_flags})
  # Unity builds: each target's sources compile as a few merged files, so the heavy headers
  # (Boost.Beast and Asio, gRPC, nlohmann-json, GoogleTest) are parsed once per batch instead
  # of once per file. The sanitizer builds are built once, on CI's two cores, and their
  # compile time is CI's largest cost; a release or debug build keeps one object per file.
  # -DCMAKE_UNITY_BUILD=OFF turns it off.
  if(NOT DEFINED CMAKE_UNITY_BUILD)
    set(CMAKE_UNITY_BUILD ON)
  endif()
endif()

if(BENTO_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "BENTO_FUZZ needs clang (CXX=clang++)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
