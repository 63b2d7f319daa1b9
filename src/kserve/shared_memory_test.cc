#include "kserve/shared_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace bento::kserve {
namespace {

// A POSIX shared-memory object of `size` bytes, unlinked at the end.
class Object {
 public:
  explicit Object(size_t size) : key_("/bento-unit-" + std::to_string(std::random_device()())) {
    fd_ = ::shm_open(key_.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    EXPECT_GE(fd_, 0);
    EXPECT_EQ(::ftruncate(fd_, static_cast<off_t>(size)), 0);
  }
  ~Object() {
    ::close(fd_);
    ::shm_unlink(key_.c_str());
  }
  const std::string& key() const { return key_; }
  void Truncate(size_t size) { EXPECT_EQ(::ftruncate(fd_, static_cast<off_t>(size)), 0); }
  std::string Bytes(size_t offset, size_t n) {
    std::string out(n, '\0');
    EXPECT_EQ(::pread(fd_, out.data(), n, static_cast<off_t>(offset)), static_cast<ssize_t>(n));
    return out;
  }

 private:
  std::string key_;
  int fd_ = -1;
};

TEST(RegionParametersTest, ReadsAndRejects) {
  EXPECT_FALSE(*RegionParameters("x", nullptr));
  EXPECT_FALSE(*RegionParameters("x", Json{{"binary_data_size", 4}}));
  auto ref = RegionParameters("x", Json{{"shared_memory_region", "r"},
                                        {"shared_memory_byte_size", 8},
                                        {"shared_memory_offset", 16}});
  ASSERT_TRUE(ref.ok() && ref->has_value());
  EXPECT_EQ((*ref)->region, "r");
  EXPECT_EQ((*ref)->byte_size, 8u);
  EXPECT_EQ((*ref)->offset, 16u);
  for (const Json& bad : {Json{{"shared_memory_region", "r"}},
                          Json{{"shared_memory_region", ""}, {"shared_memory_byte_size", 1}},
                          Json{{"shared_memory_region", 3}, {"shared_memory_byte_size", 1}},
                          Json{{"shared_memory_region", "r"}, {"shared_memory_byte_size", -1}},
                          Json{{"shared_memory_byte_size", 8}},
                          Json{{"shared_memory_offset", 8}}}) {
    EXPECT_EQ(RegionParameters("x", bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(SharedMemoryTest, ReadsWritesAndChecksBounds) {
  Object object(4096);
  SharedMemory shm;
  ASSERT_TRUE(shm.Register({"r", object.key(), 100, 64}).ok());
  EXPECT_EQ(shm.Register({"r", object.key(), 0, 8}).code(), StatusCode::kAlreadyExists);
  const float values[4] = {1.5f, -0.0f, 3e38f, -7.25f};
  std::string bytes(reinterpret_cast<const char*>(values), sizeof(values));
  ASSERT_TRUE(shm.Write("output 'y'", {"r", 8, 16}, bytes).ok());
  EXPECT_EQ(object.Bytes(108, 16), bytes);  // the region starts at the object's byte 100
  auto tensor = shm.Read("input 'x'", {"r", 8, 16}, DType::kFloat32, {2, 2});
  ASSERT_TRUE(tensor.ok()) << tensor.status();
  EXPECT_EQ(tensor->bytes(), bytes);
  // Outside the region, by size or by an offset that would wrap: refused.
  EXPECT_EQ(shm.Write("o", {"r", 0, 4}, bytes).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(shm.Check("o", {"r", 60, 8}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(shm.Check("o", {"r", ~uint64_t{0} - 2, 8}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(shm.Read("i", {"r", 0, 12}, DType::kFloat32, {2, 2}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(shm.Check("o", {"nope", 0, 8}).code(), StatusCode::kInvalidArgument);
  // A client that shrinks its object gets an error, not a server killed by SIGBUS.
  object.Truncate(120);
  EXPECT_EQ(shm.Check("o", {"r", 0, 8}).code(), StatusCode::kFailedPrecondition);
  auto regions = shm.Regions("");
  ASSERT_TRUE(regions.ok());
  ASSERT_EQ(regions->size(), 1u);
  EXPECT_EQ((*regions)[0].key, object.key());
  shm.Unregister("unknown");
  shm.Unregister("r");
  EXPECT_EQ(shm.Regions("r").status().code(), StatusCode::kNotFound);
}

TEST(SharedMemoryTest, RefusesKeysAndRangesThatReachElsewhere) {
  Object object(64);
  SharedMemory shm;
  for (std::string key : {"", "/", "noslash", "/a/b", "/../x", "/.", "/.."}) {
    EXPECT_EQ(shm.Register({"r", key, 0, 8}).code(), StatusCode::kInvalidArgument) << key;
  }
  EXPECT_EQ(shm.Register({"r", "/bento-unit-missing", 0, 8}).code(), StatusCode::kNotFound);
  EXPECT_EQ(shm.Register({"r", object.key(), 0, 65}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(shm.Register({"r", object.key(), 60, 8}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(shm.Register({"r", object.key(), ~uint64_t{0}, 2}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(shm.Register({"r", object.key(), 0, 0}).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(shm.Regions("")->empty());
}

}  // namespace
}  // namespace bento::kserve
