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

TEST_F(FsTest, CopyTreeCopiesFilesAndFoldersButNotWhatItSkips) {
  ASSERT_TRUE(MakeDirs(dir_ / "from/sub/deep").ok());
  ASSERT_TRUE(MakeDirs(dir_ / "from/skipped").ok());
  ASSERT_TRUE(WriteFile(dir_ / "from/a", std::string("a\0b", 3)).ok());
  ASSERT_TRUE(WriteFile(dir_ / "from/sub/deep/c", "c").ok());
  ASSERT_TRUE(WriteFile(dir_ / "from/skipped/d", "d").ok());
  ASSERT_TRUE(WriteFile(dir_ / "from/meta", "m").ok());
  stdfs::create_symlink("a", dir_ / "from/link");
  stdfs::create_directory_symlink("sub", dir_ / "from/folder-link");
  ASSERT_TRUE(CopyTree(dir_ / "from", dir_ / "to/x", {"skipped", "meta"}).ok());
  EXPECT_EQ(*ReadFile(dir_ / "to/x/a"), std::string("a\0b", 3));
  EXPECT_EQ(*ReadFile(dir_ / "to/x/sub/deep/c"), "c");
  EXPECT_FALSE(stdfs::exists(dir_ / "to/x/skipped"));
  EXPECT_FALSE(stdfs::exists(dir_ / "to/x/meta"));
  EXPECT_EQ(*ReadFile(dir_ / "to/x/link"), std::string("a\0b", 3));
  EXPECT_TRUE(stdfs::is_regular_file(stdfs::symlink_status(dir_ / "to/x/link")));
  EXPECT_FALSE(stdfs::exists(stdfs::symlink_status(dir_ / "to/x/folder-link")));
  EXPECT_FALSE(CopyTree(dir_ / "missing", dir_ / "to/y").ok());
}

TEST_F(FsTest, WriteNewFolderIsAllOrNothing) {
  auto fill = [](const stdfs::path& staging) { return WriteFile(staging / "f", "1"); };
  ASSERT_TRUE(WriteNewFolder(dir_ / "out", fill).ok());
  EXPECT_EQ(*ReadFile(dir_ / "out/f"), "1");
  EXPECT_EQ(stdfs::status(dir_ / "out").permissions() & stdfs::perms::all,
            static_cast<stdfs::perms>(0755));
  EXPECT_EQ(WriteNewFolder(dir_ / "out", fill).code(), StatusCode::kAlreadyExists);
  Status failed = WriteNewFolder(dir_ / "broken", [](const stdfs::path& staging) {
    (void)WriteFile(staging / "half", "x");
    return InternalError("disk on fire");
  });
  EXPECT_EQ(failed.message(), "disk on fire");
  int entries = 0;  // "out" alone: no "broken", and no staging folder left beside it
  for ([[maybe_unused]] const auto& e : stdfs::directory_iterator(dir_)) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST_F(FsTest, RemoveOnExitRemovesItsFolder) {
  {
    RemoveOnExit guard(dir_ / "scratch");
    ASSERT_TRUE(MakeDirs(dir_ / "scratch/sub").ok());
    ASSERT_TRUE(WriteFile(dir_ / "scratch/sub/f", "x").ok());
  }
  EXPECT_FALSE(stdfs::exists(dir_ / "scratch"));
  { RemoveOnExit missing(dir_ / "never-made"); }
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
