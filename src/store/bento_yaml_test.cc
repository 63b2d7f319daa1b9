// bento.yaml: what WriteBentoYaml writes, ParseBentoYaml reads back whole.
#include "store/bento_yaml.h"

#include <gtest/gtest.h>

#include "store/model_yaml.h"

namespace bento::store {
namespace {

TEST(BentoYamlTest, RoundTripsEveryField) {
  BentoInfo info;
  info.tag = Tag{"classifier", "v20261128"};
  info.service = "image_classifier";
  info.bento_version = "0.1.0";
  info.creation_time = *ParseCreationTime("2026-11-28T13:20:28.123456+00:00");
  info.labels = {{"owner", "vision"}, {"odd: key", "a \"quoted\" value"}};
  info.models = {{Tag{"mobilenet", "abc"}, *ParseCreationTime("2026-11-01T00:00:00+00:00")}};
  info.apis = {{"classify_image", "/classify_image"}};
  info.envs = {{"OMP_NUM_THREADS", "2"}, {"EMPTY", ""}, {"NUMERIC", "007"}};
  info.docker.base_image = "debian:bookworm";
  info.docker.system_packages = {"curl", "ca-certificates"};

  auto back = ParseBentoYaml(WriteBentoYaml(info));
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << WriteBentoYaml(info);
  EXPECT_EQ(back->tag, info.tag);
  EXPECT_EQ(back->service, info.service);
  EXPECT_EQ(back->bento_version, info.bento_version);
  EXPECT_EQ(back->creation_time, info.creation_time);
  EXPECT_EQ(back->labels, info.labels);
  ASSERT_EQ(back->models.size(), 1u);
  EXPECT_EQ(back->models[0].tag, info.models[0].tag);
  EXPECT_EQ(back->models[0].creation_time, info.models[0].creation_time);
  ASSERT_EQ(back->apis.size(), 1u);
  EXPECT_EQ(back->apis[0].route, "/classify_image");
  EXPECT_EQ(back->envs, info.envs);
  EXPECT_EQ(back->docker.base_image, info.docker.base_image);
  EXPECT_EQ(back->docker.system_packages, info.docker.system_packages);
}

TEST(BentoYamlTest, NoCodeBentosHaveNoService) {
  BentoInfo info;
  info.tag = Tag{"iris", "v1"};
  auto back = ParseBentoYaml(WriteBentoYaml(info));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->service.empty());
}

TEST(BentoYamlTest, RefusesWhatItCannotServe) {
  const std::string head = "name: a\nversion: v\ncreation_time: '2026-11-28T00:00:00+00:00'\n";
  EXPECT_TRUE(ParseBentoYaml(head).ok());
  for (const std::string& bad :
       {std::string("[1, 2]"), std::string("name: a\n"), head + "service: ../../bin/sh\n",
        head + "models:\n  - tag: nover\n", std::string("name: [\n"),
        std::string("name: 'a b'\nversion: v\ncreation_time: '2026-11-28T00:00:00+00:00'\n")}) {
    auto info = ParseBentoYaml(bad);
    EXPECT_FALSE(info.ok()) << bad;
    if (!info.ok()) {
      EXPECT_EQ(info.status().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
}

}  // namespace
}  // namespace bento::store
