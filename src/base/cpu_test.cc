// The cgroup CPU limit, read from fixture trees laid out as cgroup v1 and v2 mount them.
#include "base/cpu.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include "base/fs.h"

namespace bento {
namespace {

namespace stdfs = std::filesystem;

class CgroupTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = *fs::MakeTempDir(stdfs::temp_directory_path(), "cgroup-"); }
  void TearDown() override { (void)fs::RemoveAll(root_); }

  void Write(const stdfs::path& relative, const std::string& text) {
    stdfs::create_directories((root_ / relative).parent_path());
    std::ofstream(root_ / relative) << text;
  }
  std::optional<double> Limit() { return CgroupCpuLimit(root_ / "proc-cgroup", root_ / "sys"); }

  stdfs::path root_;
};

TEST_F(CgroupTest, V2QuotaOverPeriod) {
  Write("proc-cgroup", "0::/kubepods/pod1/c1\n");
  Write("sys/kubepods/pod1/c1/cpu.max", "150000 100000\n");
  EXPECT_EQ(Limit(), 1.5);
}

TEST_F(CgroupTest, V2ParentLimitBoundsTheChild) {
  Write("proc-cgroup", "0::/kubepods/pod1/c1\n");
  Write("sys/kubepods/pod1/c1/cpu.max", "max 100000\n");
  Write("sys/kubepods/pod1/cpu.max", "200000 100000\n");
  Write("sys/kubepods/cpu.max", "800000 100000\n");
  EXPECT_EQ(Limit(), 2.0);
}

TEST_F(CgroupTest, V2InANamespaceReadsTheRoot) {
  Write("proc-cgroup", "0::/\n");
  Write("sys/cpu.max", "50000 100000\n");
  EXPECT_EQ(Limit(), 0.5);
}

TEST_F(CgroupTest, V2MaxIsNoLimit) {
  Write("proc-cgroup", "0::/user.slice\n");
  Write("sys/user.slice/cpu.max", "max 100000\n");
  EXPECT_EQ(Limit(), std::nullopt);
}

TEST_F(CgroupTest, V1QuotaOverPeriod) {
  Write("proc-cgroup",
        "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n");
  Write("sys/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "300000\n");
  Write("sys/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(Limit(), 3.0);
}

TEST_F(CgroupTest, V1MountedAsCpu) {
  Write("proc-cgroup", "4:cpu,cpuacct:/\n");
  Write("sys/cpu/cpu.cfs_quota_us", "25000\n");
  Write("sys/cpu/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(Limit(), 0.25);
}

TEST_F(CgroupTest, V1MinusOneIsNoLimit) {
  Write("proc-cgroup", "4:cpu,cpuacct:/\n");
  Write("sys/cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
  Write("sys/cpu,cpuacct/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(Limit(), std::nullopt);
}

TEST_F(CgroupTest, NoFilesAndGarbageAreNoLimit) {
  EXPECT_EQ(Limit(), std::nullopt);  // no /proc/self/cgroup at all
  Write("proc-cgroup", "garbage\n0::/x\n");
  Write("sys/x/cpu.max", "lots 100000\n");
  EXPECT_EQ(Limit(), std::nullopt);
}

TEST(AvailableCpusTest, AtLeastOneAndAtMostTheCores) {
  EXPECT_GE(AvailableCpus(), 1);
  EXPECT_LE(AvailableCpus(), static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}

}  // namespace
}  // namespace bento
