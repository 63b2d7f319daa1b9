#include "store/model_store.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "store/model_yaml.h"
#include "store/store_test_util.h"

namespace bento::store {
namespace {

TEST_F(StoreTest, CommitLaysOutTheVersionFolderAndLatest) {
  StoredModel m = Save("abs");
  EXPECT_EQ(m.path, store().models_dir() / "abs" / m.info.tag.version);
  EXPECT_EQ(Names(m.path), (std::vector<std::string>{"model.yaml", "saved_model.onnx"}));
  EXPECT_EQ(Latest("abs"), m.info.tag.version);  // no trailing newline, as BentoML
  EXPECT_EQ(Names(store().models_dir()), (std::vector<std::string>{".lock", "abs"}));
  EXPECT_EQ(Names(store().models_dir() / "abs"),
            (std::vector<std::string>{m.info.tag.version, "latest"}));
  EXPECT_TRUE(Names(home_ / "tmp").empty());
  auto yaml = fs::ReadFile(m.path / kModelYaml);
  ASSERT_TRUE(yaml.ok());
  EXPECT_EQ(*yaml, WriteModelYaml(m.info));
}

TEST_F(StoreTest, UncommittedSaveLeavesNothing) {
  {
    auto pending = store().BeginSave("abs");
    ASSERT_TRUE(pending.ok());
    ASSERT_TRUE(fs::WriteFile(pending->dir() / kModelFile, "x").ok());
    EXPECT_TRUE(stdfs::exists(pending->dir()));
  }
  EXPECT_TRUE(Names(home_ / "tmp").empty());
  EXPECT_EQ(Names(store().models_dir()), std::vector<std::string>{});
  EXPECT_EQ(store().Get("abs").status().code(), StatusCode::kNotFound);
}

TEST_F(StoreTest, BeginSaveRejectsBadNames) {
  EXPECT_EQ(store().BeginSave("../evil").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store().BeginSave("").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, ListIsNewestFirstByCreationTime) {
  StoredModel b = Save("b", 20);
  StoredModel a1 = Save("a", 30);
  StoredModel a0 = Save("a", 10);  // saved last but created first
  auto all = store().List();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].info.tag, a1.info.tag);
  EXPECT_EQ((*all)[1].info.tag, b.info.tag);
  EXPECT_EQ((*all)[2].info.tag, a0.info.tag);
  auto only_a = store().List("a");
  ASSERT_TRUE(only_a.ok());
  ASSERT_EQ(only_a->size(), 2u);
  EXPECT_EQ((*only_a)[0].info.tag, a1.info.tag);
  EXPECT_TRUE(store().List("nothing")->empty());
  EXPECT_EQ(store().List("Bad Name").status().code(), StatusCode::kInvalidArgument);
  // An older save does not take `latest` over, as BentoML.
  EXPECT_EQ(Latest("a"), a1.info.tag.version);
}

TEST_F(StoreTest, ListSkipsBrokenAndForeignFolders) {
  StoredModel good = Save("good");
  ASSERT_TRUE(fs::MakeDirs(store().models_dir() / "good" / "noyaml").ok());
  ASSERT_TRUE(fs::MakeDirs(store().models_dir() / "good" / "badyaml").ok());
  ASSERT_TRUE(fs::WriteFile(store().models_dir() / "good" / "badyaml" / "model.yaml", "[").ok());
  ASSERT_TRUE(fs::MakeDirs(store().models_dir() / ".hidden" / "v1").ok());
  ASSERT_TRUE(fs::MakeDirs(store().models_dir() / "Not Valid" / "v1").ok());
  auto all = store().List();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].info.tag, good.info.tag);
  EXPECT_EQ(store().Get("good:badyaml").status().code(), StatusCode::kDataLoss);
}

TEST_F(StoreTest, GetByNameLatestExactAndPrefix) {
  StoredModel old = Save("abs", 1);
  StoredModel now = Save("abs", 2);
  EXPECT_EQ(store().Get("abs")->info.tag, now.info.tag);
  EXPECT_EQ(store().Get("abs:latest")->info.tag, now.info.tag);
  EXPECT_EQ(store().Get("ABS:latest")->info.tag, now.info.tag);
  EXPECT_EQ(store().Get(old.info.tag)->info.tag, old.info.tag);
  EXPECT_EQ(store().Get(old.info.tag.ToString())->path, old.path);
  // The shortest prefix that tells the two versions apart.
  const std::string& v = old.info.tag.version;
  const std::string& w = now.info.tag.version;
  size_t common = std::mismatch(v.begin(), v.end(), w.begin()).first - v.begin();
  auto found = store().Get("abs:" + v.substr(0, common + 1));
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->info.tag, old.info.tag);
  // Versions begin with their time, so two saved a moment apart share a prefix, which
  // names both and is refused.
  ASSERT_GT(common, 0u) << v << " " << w;
  EXPECT_EQ(store().Get("abs:" + v.substr(0, common)).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, AmbiguousPrefixListsTheMatches) {
  for (const char* version : {"v1aaa", "v1bbb"}) {
    ASSERT_TRUE(fs::MakeDirs(store().models_dir() / "m" / version).ok());
    ModelInfo info;
    info.tag = {"m", version};
    ASSERT_TRUE(
        fs::WriteFile(store().models_dir() / "m" / version / "model.yaml", WriteModelYaml(info))
            .ok());
  }
  auto got = store().Get("m:v1");
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(got.status().message().find("m:v1aaa, m:v1bbb"), std::string::npos) << got.status();
  EXPECT_EQ(store().Get("m:v1b")->info.tag.version, "v1bbb");
}

TEST_F(StoreTest, NotFoundNamesTheTagAndTheStore) {
  Save("abs");
  for (const char* tag : {"nope", "abs:zzzz"}) {
    auto got = store().Get(tag);
    EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
    EXPECT_NE(got.status().message().find(tag), std::string::npos) << got.status();
    EXPECT_NE(got.status().message().find(store().models_dir().string()), std::string::npos);
  }
  EXPECT_EQ(store().Get("a:b:c").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, LatestFallsBackToNewestByCreationTime) {
  StoredModel newest = Save("abs", 5);
  Save("abs", 1);
  ASSERT_TRUE(fs::RemoveAll(store().models_dir() / "abs" / "latest").ok());
  EXPECT_EQ(store().Get("abs")->info.tag, newest.info.tag);
  ASSERT_TRUE(fs::WriteFile(store().models_dir() / "abs" / "latest", "gone").ok());
  EXPECT_EQ(store().Get("abs:latest")->info.tag, newest.info.tag);
  ASSERT_TRUE(fs::WriteFile(store().models_dir() / "abs" / "latest", "../../x").ok());
  EXPECT_EQ(store().Get("abs")->info.tag, newest.info.tag);
}

TEST_F(StoreTest, DeleteRepointsLatestThenRemovesTheName) {
  StoredModel a = Save("abs", 1);
  StoredModel b = Save("abs", 3);
  StoredModel c = Save("abs", 2);
  EXPECT_EQ(Latest("abs"), b.info.tag.version);
  ASSERT_TRUE(store().Delete(b.info.tag.ToString()).ok());
  EXPECT_FALSE(stdfs::exists(b.path));
  EXPECT_EQ(Latest("abs"), c.info.tag.version);
  ASSERT_TRUE(store().Delete("abs:latest").ok());  // deletes c
  EXPECT_EQ(Latest("abs"), a.info.tag.version);
  EXPECT_EQ(store().Delete("abs:nothere").code(), StatusCode::kNotFound);
  ASSERT_TRUE(store().Delete("abs").ok());
  EXPECT_FALSE(stdfs::exists(store().models_dir() / "abs"));
  EXPECT_EQ(Names(store().models_dir()), (std::vector<std::string>{".lock"}));
  EXPECT_TRUE(Names(home_ / "tmp").empty());
}

TEST_F(StoreTest, DeleteWorksOnAnUnreadableVersion) {
  StoredModel a = Save("abs", 1);
  ASSERT_TRUE(fs::MakeDirs(store().models_dir() / "abs" / "broken").ok());
  ASSERT_TRUE(store().Delete("abs:broken").ok());
  EXPECT_EQ(Latest("abs"), a.info.tag.version);
}

TEST_F(StoreTest, CustomObjectsAreJson) {
  Json objects = {{"labels", {"cat", "dog"}}, {"threshold", 0.5}};
  StoredModel with = Save("with", 0, "onnx", objects);
  StoredModel without = Save("without");
  EXPECT_EQ(*ModelStore::ReadCustomObjects(with), objects);
  EXPECT_EQ(*ModelStore::ReadCustomObjects(without), Json::object());
  EXPECT_FALSE(stdfs::exists(without.path / kCustomObjectsJson));
  ASSERT_TRUE(fs::WriteFile(with.path / kCustomObjectsJson, "{broken").ok());
  EXPECT_EQ(ModelStore::ReadCustomObjects(with).status().code(), StatusCode::kDataLoss);
}

TEST_F(StoreTest, CommitReturnsWhatAReaderSees) {
  auto pending = store().BeginSave("abs");
  ASSERT_TRUE(pending.ok());
  ModelInfo info;
  info.creation_time = std::chrono::system_clock::now();  // nanoseconds, trimmed to micros
  info.metadata = {{"k", "v"}};
  auto stored = store().Commit(std::move(*pending), info, nullptr);
  ASSERT_TRUE(stored.ok()) << stored.status();
  auto read = store().Get(stored->info.tag);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->info.creation_time, stored->info.creation_time);
  EXPECT_EQ(read->info.metadata, info.metadata);
}

TEST_F(StoreTest, CommitRefusesMetadataBentoMlCannotLoad) {
  for (const Json& metadata : {Json{{"a", nullptr}}, Json{{"a", {{"b", {1, nullptr}}}}},
                               Json::array({1, 2})}) {
    auto pending = store().BeginSave("abs");
    ASSERT_TRUE(pending.ok());
    ModelInfo info;
    info.metadata = metadata;
    auto stored = store().Commit(std::move(*pending), info, nullptr);
    EXPECT_EQ(stored.status().code(), StatusCode::kInvalidArgument) << metadata;
  }
  EXPECT_TRUE(Names(home_ / "tmp").empty());
  EXPECT_FALSE(stdfs::exists(store().models_dir() / "abs"));
}

TEST_F(StoreTest, ConcurrentSavesAllLand) {
  constexpr int kThreads = 4, kSaves = 5;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < kSaves; ++i) Save("shared", t * kSaves + i);
    });
  }
  for (auto& t : threads) t.join();
  auto all = store().List("shared");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), static_cast<size_t>(kThreads * kSaves));
  EXPECT_EQ(Latest("shared"), all->front().info.tag.version);
  EXPECT_TRUE(Names(home_ / "tmp").empty());
}

TEST(ModelStoreHomeTest, DefaultHomeFollowsBentomlHome) {
  const char* old = std::getenv("BENTOML_HOME");
  std::string saved = old ? old : "";
  ::setenv("BENTOML_HOME", "/some/where", 1);
  EXPECT_EQ(ModelStore::DefaultHome(), stdfs::path("/some/where"));
  if (old) {
    ::setenv("BENTOML_HOME", saved.c_str(), 1);
  } else {
    ::unsetenv("BENTOML_HOME");
  }
}

}  // namespace
}  // namespace bento::store
