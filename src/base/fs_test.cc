#include "base/fs.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace bento::fs {
namespace {

class FsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = *MakeTempDir(stdfs::temp_directory_path(), "bento-fs-test-");
  }
  void TearDown() override { (void)RemoveAll(dir_); }
  stdfs::path dir_;
};

TEST_F(FsTest, WriteAtomicReplacesWholeFile) {
  auto path = dir_ / "latest";
  ASSERT_TRUE(WriteFileAtomic(path, "v1").ok());
  ASSERT_TRUE(WriteFileAtomic(path, "version2").ok());
  EXPECT_EQ(*ReadFile(path), "version2");
  // No temporary files are left beside it.
  int files = 0;
  for ([[maybe_unused]] const auto& e : stdfs::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 1);
}

TEST_F(FsTest, ReadMissingFileIsNotFound) {
  EXPECT_EQ(ReadFile(dir_ / "nope").status().code(), StatusCode::kNotFound);
}

TEST_F(FsTest, IsWithinRefusesEscapes) {
  EXPECT_TRUE(IsWithin("/a/b", "/a/b/c"));
  EXPECT_TRUE(IsWithin("/a/b", "c/d.bin"));
  EXPECT_FALSE(IsWithin("/a/b", "../x"));
  EXPECT_FALSE(IsWithin("/a/b", "c/../../x"));
  EXPECT_FALSE(IsWithin("/a/b", "/etc/passwd"));
  EXPECT_FALSE(IsWithin("/a/b", "/a/bc"));
}

TEST_F(FsTest, FileLockExcludesOtherHolders) {
  auto lock_path = dir_ / ".lock";
  // A separate load and store, so an update is lost unless the lock excludes the other
  // thread. Atomic only so that the test has no data race of its own: the kernel's flock
  // is what orders the two threads, and ThreadSanitizer cannot see it.
  std::atomic<int> counter = 0;
  auto work = [&] {
    for (int i = 0; i < 200; ++i) {
      auto lock = FileLock::Acquire(lock_path);
      ASSERT_TRUE(lock.ok());
      int seen = counter.load(std::memory_order_relaxed);
      std::this_thread::yield();
      counter.store(seen + 1, std::memory_order_relaxed);
    }
  };
  std::thread a(work), b(work);
  a.join();
  b.join();
  EXPECT_EQ(counter, 400);
}

}  // namespace
}  // namespace bento::fs
