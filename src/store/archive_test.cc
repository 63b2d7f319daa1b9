// Export and import of .bentomodel archives through ModelStore.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <random>

#include "store/model_store.h"
#include "store/model_yaml.h"
#include "store/store_test_util.h"

namespace bento::store {
namespace {

struct Entry {
  std::string path;
  std::string content;            // for regular files
  mode_t type = AE_IFREG;
  std::string link;               // for symlinks
};

// Writes a tar archive by hand, to build archives ModelStore::Export never would.
void WriteTar(const stdfs::path& path, const std::vector<Entry>& entries, bool zip = false) {
  struct archive* a = archive_write_new();
  if (zip) {
    archive_write_set_format_zip(a);
  } else {
    archive_write_set_format_pax_restricted(a);
    archive_write_add_filter_gzip(a);
  }
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
  for (const Entry& e : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.path.c_str());
    archive_entry_set_filetype(entry, e.type);
    archive_entry_set_perm(entry, 0644);
    if (e.type == AE_IFLNK) archive_entry_set_symlink(entry, e.link.c_str());
    if (e.type == AE_IFREG) {
      archive_entry_set_size(entry, static_cast<la_int64_t>(e.content.size()));
    }
    ASSERT_EQ(archive_write_header(a, entry), ARCHIVE_OK) << archive_error_string(a);
    if (e.type == AE_IFREG) archive_write_data(a, e.content.data(), e.content.size());
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
}

class ArchiveTest : public StoreTest {
 protected:
  // A valid model.yaml for `tag`.
  static std::string Yaml(const std::string& name, const std::string& version) {
    ModelInfo info;
    info.tag = {name, version};
    return WriteModelYaml(info);
  }

  // Import must fail with one of `codes` and leave the store and tmp/ as they were.
  void ExpectRefused(const stdfs::path& archive, std::initializer_list<StatusCode> codes,
                     const std::string& message_part = "") {
    auto before = store().List();
    ASSERT_TRUE(before.ok());
    auto tag = store().Import(archive);
    ASSERT_FALSE(tag.ok()) << archive;
    EXPECT_NE(std::find(codes.begin(), codes.end(), tag.status().code()), codes.end())
        << tag.status();
    EXPECT_NE(tag.status().message().find(message_part), std::string::npos) << tag.status();
    EXPECT_EQ(store().List()->size(), before->size());
    EXPECT_TRUE(Names(home_ / "tmp").empty());
  }
};

TEST_F(ArchiveTest, ExportDeleteImportRoundTrips) {
  for (const char* file : {"m.bentomodel", "m.tar.gz", "m.xz"}) {
    SCOPED_TRACE(file);
    StoredModel m = Save("abs", 0, std::string(100000, 'w'), Json{{"k", 1}});
    ASSERT_TRUE(fs::MakeDirs(m.path / "weights").ok());
    ASSERT_TRUE(fs::WriteFile(m.path / "weights" / "data.bin", "external").ok());
    stdfs::path archive = home_ / file;
    auto written = store().Export(m.info.tag.ToString(), archive);
    ASSERT_TRUE(written.ok()) << written.status();
    EXPECT_EQ(*written, archive);
    ASSERT_TRUE(store().Delete(m.info.tag.ToString()).ok());
    EXPECT_EQ(store().Get(m.info.tag).status().code(), StatusCode::kNotFound);

    auto tag = store().Import(archive);
    ASSERT_TRUE(tag.ok()) << tag.status();
    EXPECT_EQ(*tag, m.info.tag);
    auto back = store().Get(*tag);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->path, m.path);
    EXPECT_EQ(WriteModelYaml(back->info), WriteModelYaml(m.info));
    EXPECT_EQ(*fs::ReadFile(back->path / kModelFile), std::string(100000, 'w'));
    EXPECT_EQ(*fs::ReadFile(back->path / "weights" / "data.bin"), "external");
    EXPECT_EQ(*ModelStore::ReadCustomObjects(*back), (Json{{"k", 1}}));
    EXPECT_EQ(Latest("abs"), tag->version);
    EXPECT_TRUE(Names(home_ / "tmp").empty());
    ASSERT_TRUE(store().Delete(tag->ToString()).ok());
  }
}

TEST_F(ArchiveTest, ExportCompressionFollowsTheExtension) {
  StoredModel m = Save("abs");
  ASSERT_TRUE(store().Export("abs", home_ / "a.gz").ok());
  ASSERT_TRUE(store().Export("abs", home_ / "a.bentomodel").ok());
  EXPECT_EQ(fs::ReadFile(home_ / "a.gz")->substr(0, 2), "\x1f\x8b");
  EXPECT_EQ(fs::ReadFile(home_ / "a.bentomodel")->substr(0, 5), "\xfd" "7zXZ");
  EXPECT_EQ(store().Export("nope", home_ / "b.gz").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(stdfs::exists(home_ / "b.gz"));
}

TEST_F(ArchiveTest, ImportOfAnExistingTagIsRefused) {
  StoredModel m = Save("abs");
  ASSERT_TRUE(store().Export("abs", home_ / "a.bentomodel").ok());
  ExpectRefused(home_ / "a.bentomodel", {StatusCode::kAlreadyExists}, "already exists");
  EXPECT_TRUE(store().Get(m.info.tag).ok());
}

TEST_F(ArchiveTest, CorruptArchivesAreRefusedAndLeaveNoTrace) {
  StoredModel m = Save("abs", 0, std::string(200000, 'z'));
  for (const char* file : {"a.gz", "a.xz"}) {
    ASSERT_TRUE(store().Export("abs", home_ / file).ok());
  }
  ASSERT_TRUE(store().Delete("abs").ok());
  for (const char* file : {"a.gz", "a.xz"}) {
    SCOPED_TRACE(file);
    std::string bytes = *fs::ReadFile(home_ / file);
    ASSERT_TRUE(fs::WriteFile(home_ / "truncated", bytes.substr(0, bytes.size() / 2)).ok());
    ExpectRefused(home_ / "truncated", {StatusCode::kDataLoss, StatusCode::kInvalidArgument});
  }
  std::mt19937 rng(42);
  std::string noise(4096, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  ASSERT_TRUE(fs::WriteFile(home_ / "noise", noise).ok());
  ExpectRefused(home_ / "noise", {StatusCode::kInvalidArgument});
  ASSERT_TRUE(fs::WriteFile(home_ / "empty", "").ok());
  ExpectRefused(home_ / "empty", {StatusCode::kInvalidArgument});
  EXPECT_EQ(store().Import(home_ / "missing").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(stdfs::exists(store().models_dir() / "abs"));
}

TEST_F(ArchiveTest, EntriesThatEscapeAreRefused) {
  WriteTar(home_ / "evil.tar.gz",
           {{"model.yaml", Yaml("evil", "v1")}, {"../evil", "gotcha"}});
  ExpectRefused(home_ / "evil.tar.gz", {StatusCode::kInvalidArgument}, "../evil");
  EXPECT_FALSE(stdfs::exists(home_ / "evil"));
  EXPECT_FALSE(stdfs::exists(home_ / "tmp" / "evil"));

  WriteTar(home_ / "abs.tar.gz", {{"model.yaml", Yaml("evil", "v1")}, {"/tmp/evil", "x"}});
  ExpectRefused(home_ / "abs.tar.gz", {StatusCode::kInvalidArgument}, "absolute");

  WriteTar(home_ / "link.tar.gz",
           {{"model.yaml", Yaml("evil", "v1")}, {"passwd", "", AE_IFLNK, "/etc/passwd"}});
  ExpectRefused(home_ / "link.tar.gz", {StatusCode::kInvalidArgument}, "symlink");

  WriteTar(home_ / "fifo.tar.gz", {{"model.yaml", Yaml("evil", "v1")}, {"p", "", AE_IFIFO}});
  ExpectRefused(home_ / "fifo.tar.gz", {StatusCode::kInvalidArgument}, "FIFO");
  EXPECT_FALSE(stdfs::exists(store().models_dir() / "evil"));
}

TEST_F(ArchiveTest, OnlyTarArchivesWithModelYamlAreAccepted) {
  WriteTar(home_ / "m.zip", {{"model.yaml", Yaml("zipped", "v1")}}, /*zip=*/true);
  ExpectRefused(home_ / "m.zip", {StatusCode::kInvalidArgument},
                "is not a .bentomodel archive: expected a tar archive");
  WriteTar(home_ / "noyaml.tar.gz", {{"saved_model.onnx", "x"}});
  ExpectRefused(home_ / "noyaml.tar.gz", {StatusCode::kInvalidArgument}, "no model.yaml");
  WriteTar(home_ / "badyaml.tar.gz", {{"model.yaml", "name: x\n"}});
  ExpectRefused(home_ / "badyaml.tar.gz", {StatusCode::kInvalidArgument}, "version");
}

TEST_F(ArchiveTest, ASingleTopLevelFolderIsAccepted) {
  WriteTar(home_ / "nested.tar.gz", {{"abs-v1/", "", AE_IFDIR},
                                      {"abs-v1/model.yaml", Yaml("abs", "v1")},
                                      {"abs-v1/saved_model.onnx", "onnx"}});
  auto tag = store().Import(home_ / "nested.tar.gz");
  ASSERT_TRUE(tag.ok()) << tag.status();
  EXPECT_EQ(tag->ToString(), "abs:v1");
  EXPECT_EQ(Names(store().models_dir() / "abs" / "v1"),
            (std::vector<std::string>{"model.yaml", "saved_model.onnx"}));
  EXPECT_EQ(Latest("abs"), "v1");
  EXPECT_TRUE(Names(home_ / "tmp").empty());
}

TEST_F(ArchiveTest, AnOlderImportDoesNotBecomeLatest) {
  StoredModel newer = Save("abs", 100);
  WriteTar(home_ / "old.tar.gz", {{"./model.yaml", Yaml("abs", "old")}});
  ASSERT_TRUE(store().Import(home_ / "old.tar.gz").ok());
  EXPECT_EQ(Latest("abs"), newer.info.tag.version);
  EXPECT_EQ(store().List("abs")->size(), 2u);
}

}  // namespace
}  // namespace bento::store
