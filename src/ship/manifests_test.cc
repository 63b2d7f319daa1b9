#include "ship/manifests.h"

#include <gtest/gtest.h>

namespace bento::ship {
namespace {

ManifestOptions Valid() {
  ManifestOptions o;
  o.name = "adder";
  o.image = "adder:1";
  o.storage_uri = "pvc://models/adder";
  o.service_name = "adder";
  return o;
}

TEST(ManifestsTest, TagNamesBecomeKubernetesNames) {
  EXPECT_EQ(*KubernetesName("adder_bento"), "adder-bento");
  EXPECT_EQ(*KubernetesName("Image.Classifier"), "image-classifier");
  for (std::string bad : {std::string(), std::string("9lives"), std::string("ends-"),
                          std::string("ends_"), std::string(64, 'a'), std::string("a b")}) {
    auto name = KubernetesName(bad);
    ASSERT_FALSE(name.ok()) << bad;
    EXPECT_NE(name.status().message().find("--name"), std::string::npos);
  }
}

TEST(ManifestsTest, OutOfRangeOptionsAreErrors) {
  ASSERT_TRUE(KubernetesManifests(Valid()).ok());
  auto with = [](auto change) {
    ManifestOptions o = Valid();
    change(o);
    return KubernetesManifests(o).status().code();
  };
  EXPECT_EQ(with([](auto& o) { o.name = "Bad_Name"; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(with([](auto& o) { o.image.clear(); }), StatusCode::kInvalidArgument);
  EXPECT_EQ(with([](auto& o) { o.grpc_port = o.http_port; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(with([](auto& o) { o.http_port = 70000; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(with([](auto& o) { o.min_replicas = 0; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(with([](auto& o) { o.max_replicas = 0; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(with([](auto& o) { o.target_requests_per_second = 0; }),
            StatusCode::kInvalidArgument);
}

TEST(ManifestsTest, TheGracePeriodCoversThePauseAndTheDrain) {
  ManifestOptions o = Valid();
  o.pre_stop_seconds = 7;
  o.drain_seconds = 30;
  auto manifests = KubernetesManifests(o);
  ASSERT_TRUE(manifests.ok());
  for (const Manifest& m : *manifests) {
    if (m.file != "deployment.yaml") continue;
    const OrderedJson& pod = m.object["spec"]["template"]["spec"];
    EXPECT_GT(pod["terminationGracePeriodSeconds"].get<int>(), 7 + 30);
    EXPECT_EQ(pod["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"], 7);
    return;
  }
  FAIL() << "no deployment.yaml";
}

TEST(ManifestsTest, QueriesSelectTheService) {
  EXPECT_EQ(RequestRateQuery("m"),
            "sum(rate(bentoml_service_request_total{service_name=\"m\"}[1m])) or vector(0)");
  EXPECT_NE(QueueDepthQuery("m").find("bento_batch_queued_requests{service_name=\"m\"}"),
            std::string::npos);
}

}  // namespace
}  // namespace bento::ship
