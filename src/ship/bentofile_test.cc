// bentofile.yaml: BentoML's keys are read; Python-only and unknown keys are named in errors.
#include "ship/bentofile.h"

#include <gtest/gtest.h>

namespace bento::ship {
namespace {

TEST(BentoFileTest, ReadsBentoMLsKeys) {
  auto file = ParseBentoFile(R"(
service: build/bin/image_classifier
name: classifier
description: |
  Classifies images.
labels: {owner: vision, stage: dev}
models:
  - image_classifier:latest
  - tag: other:v1
include: ["examples/*.md", docs/]
exclude: ["*.tmp"]
envs:
  - name: OMP_NUM_THREADS
    value: "2"
  - name: EMPTY
docker:
  distro: debian
  base_image: debian:bookworm
  system_packages: [curl]
)");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->service, "build/bin/image_classifier");
  EXPECT_EQ(file->name, "classifier");
  EXPECT_EQ(file->description, "Classifies images.\n");
  EXPECT_EQ(file->labels, (std::map<std::string, std::string>{{"owner", "vision"},
                                                               {"stage", "dev"}}));
  EXPECT_EQ(file->models, (std::vector<std::string>{"image_classifier:latest", "other:v1"}));
  EXPECT_EQ(file->include, (std::vector<std::string>{"examples/*.md", "docs/"}));
  EXPECT_EQ(file->exclude, (std::vector<std::string>{"*.tmp"}));
  ASSERT_EQ(file->envs.size(), 2u);
  EXPECT_EQ(file->envs[0], (std::pair<std::string, std::string>{"OMP_NUM_THREADS", "2"}));
  EXPECT_EQ(file->envs[1], (std::pair<std::string, std::string>{"EMPTY", ""}));
  EXPECT_EQ(file->docker.base_image, "debian:bookworm");
  EXPECT_EQ(file->docker.system_packages, (std::vector<std::string>{"curl"}));
}

void ExpectRefused(const std::string& text, const std::string& words) {
  auto file = ParseBentoFile(text);
  ASSERT_FALSE(file.ok()) << text;
  EXPECT_EQ(file.status().code(), StatusCode::kInvalidArgument) << file.status();
  EXPECT_NE(file.status().message().find(words), std::string::npos)
      << file.status().message() << " lacks " << words;
}

TEST(BentoFileTest, PythonOnlyKeysAreNamed) {
  ExpectRefused("models: [a:v]\npython:\n  packages: [torch]\n", "'python' is not supported");
  ExpectRefused("models: [a:v]\nconda: {}\n", "'conda'");
  ExpectRefused("models: [a:v]\ndocker:\n  python_version: '3.11'\n", "'docker.python_version'");
  ExpectRefused("models: [a:v]\ndocker:\n  cuda_version: '12'\n", "'docker.cuda_version'");
  ExpectRefused("service: 'service:svc'\n", "Python import path");
}

TEST(BentoFileTest, UnknownKeysAndBadShapesAreNamed) {
  ExpectRefused("servce: x\n", "unknown bentofile key 'servce'");
  ExpectRefused("models: [a:v]\ndocker:\n  distr: debian\n", "'docker.distr'");
  ExpectRefused("models: [a:v]\ndocker:\n  distro: alpine\n", "alpine");
  ExpectRefused("models: a:v\n", "'models' must be a list");
  ExpectRefused("models: [[a]]\n", "entries must be tags");
  ExpectRefused("labels: [a]\n", "'labels' must be a mapping");
  ExpectRefused("envs: [x]\n", "{name: ..., value: ...}");
  ExpectRefused("- just\n- a list\n", "mapping");
  ExpectRefused("", "empty");
  ExpectRefused("models: [a:v\n", "bentofile");  // YAML syntax error, as a Status
}

}  // namespace
}  // namespace bento::ship
