// WriteImage's three formats, read back with libarchive and OpenSSL: digests, layer contents,
// reproducibility and the failure modes.
#include "ship/oci_image.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include "bento/json.h"

namespace bento::ship {
namespace {

namespace stdfs = std::filesystem;
using Kind = LayerEntry::Kind;

constexpr char kRef[] = "bento-test:1.0";

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex;
  char byte[3];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(byte, sizeof(byte), "%02x", digest[i]);
    hex += byte;
  }
  return hex;
}

std::string ReadAll(const stdfs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteAll(const stdfs::path& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

// One tar entry as read back.
struct TarEntry {
  std::string path;
  mode_t type = AE_IFREG;
  mode_t perm = 0;
  int64_t uid = 0;
  int64_t gid = 0;
  std::string content;  // files
  std::string link;     // symlinks
  int64_t mtime = 0;
  std::string uname;
  std::string gname;
  bool operator==(const TarEntry&) const = default;
};

std::ostream& operator<<(std::ostream& os, const TarEntry& e) {
  return os << "{" << e.path << " type=" << std::oct << e.type << " perm=" << e.perm << std::dec
            << " uid=" << e.uid << " gid=" << e.gid << " size=" << e.content.size()
            << " link=" << e.link << " mtime=" << e.mtime << " uname='" << e.uname
            << "' gname='" << e.gname << "'}";
}

TarEntry Dir(std::string path, mode_t perm = 0755, int64_t owner = 0) {
  return {.path = std::move(path), .type = AE_IFDIR, .perm = perm, .uid = owner, .gid = owner};
}
TarEntry File(std::string path, std::string content, mode_t perm = 0644, int64_t owner = 0) {
  return {.path = std::move(path), .type = AE_IFREG, .perm = perm, .uid = owner, .gid = owner,
          .content = std::move(content)};
}
TarEntry Link(std::string path, std::string target) {
  return {.path = std::move(path), .type = AE_IFLNK, .perm = 0777, .link = std::move(target)};
}

// Every entry of a tar (plain or gzipped), in archive order. Folder names lose their "/".
std::vector<TarEntry> ReadTar(const std::string& bytes) {
  std::vector<TarEntry> entries;
  struct archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  EXPECT_EQ(archive_read_open_memory(a, bytes.data(), bytes.size()), ARCHIVE_OK);
  archive_entry* e = nullptr;
  int r;
  while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
    TarEntry entry;
    entry.path = archive_entry_pathname(e);
    if (entry.path.ends_with('/')) entry.path.pop_back();
    entry.type = archive_entry_filetype(e);
    entry.perm = archive_entry_perm(e);
    entry.uid = archive_entry_uid(e);
    entry.gid = archive_entry_gid(e);
    entry.mtime = archive_entry_mtime(e);
    if (archive_entry_uname(e) != nullptr) entry.uname = archive_entry_uname(e);
    if (archive_entry_gname(e) != nullptr) entry.gname = archive_entry_gname(e);
    if (archive_entry_symlink(e) != nullptr) entry.link = archive_entry_symlink(e);
    char buffer[8192];
    la_ssize_t n;
    while ((n = archive_read_data(a, buffer, sizeof(buffer))) > 0) entry.content.append(buffer, n);
    EXPECT_EQ(n, 0) << archive_error_string(a);
    entries.push_back(std::move(entry));
  }
  EXPECT_EQ(r, ARCHIVE_EOF) << archive_error_string(a);
  archive_read_free(a);
  return entries;
}

// The decompressed stream of a gzip file, through libarchive's raw format.
std::string Gunzip(const std::string& bytes) {
  struct archive* a = archive_read_new();
  archive_read_support_filter_gzip(a);
  archive_read_support_format_raw(a);
  EXPECT_EQ(archive_read_open_memory(a, bytes.data(), bytes.size()), ARCHIVE_OK);
  std::string out;
  archive_entry* e = nullptr;
  EXPECT_EQ(archive_read_next_header(a, &e), ARCHIVE_OK) << archive_error_string(a);
  EXPECT_EQ(archive_filter_code(a, 0), ARCHIVE_FILTER_GZIP);
  char buffer[8192];
  la_ssize_t n;
  while ((n = archive_read_data(a, buffer, sizeof(buffer))) > 0) out.append(buffer, n);
  EXPECT_EQ(n, 0) << archive_error_string(a);
  archive_read_free(a);
  return out;
}

// A tree as "path" -> content, with "path/" -> "" for folders.
std::map<std::string, std::string> ReadTree(const stdfs::path& root) {
  std::map<std::string, std::string> tree;
  for (const auto& it : stdfs::recursive_directory_iterator(root)) {
    std::string path = it.path().lexically_relative(root).generic_string();
    if (it.is_directory()) {
      tree[path + "/"] = "";
    } else {
      tree[path] = ReadAll(it.path());
    }
  }
  return tree;
}

// The same, from a tar's entries.
std::map<std::string, std::string> TreeOf(const std::vector<TarEntry>& entries) {
  std::map<std::string, std::string> tree;
  for (const TarEntry& e : entries) tree[e.type == AE_IFDIR ? e.path + "/" : e.path] = e.content;
  return tree;
}

std::vector<std::string> Listing(const stdfs::path& dir) {
  std::vector<std::string> names;
  for (const auto& it : stdfs::directory_iterator(dir)) names.push_back(it.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

Json ParseFile(const stdfs::path& path) {
  std::string text = ReadAll(path);
  Json json = Json::parse(text);
  // Compact, with sorted keys: what nlohmann writes back from the parsed value.
  EXPECT_EQ(json.dump(), text) << path;
  return json;
}

class OciImageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (stdfs::temp_directory_path() / "oci_image_test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    stdfs::create_directories(dir_ / "src");
    binary_ = RandomBytes(200'000, 1);  // bigger than a read chunk: streamed in pieces
    weights_ = RandomBytes(300'001, 2);
    WriteAll(dir_ / "src" / "bento", binary_);
    WriteAll(dir_ / "src" / "weights.bin", weights_);
  }
  void TearDown() override { stdfs::remove_all(dir_); }

  static std::string RandomBytes(size_t size, unsigned seed) {
    std::mt19937 rng(seed);
    std::string bytes(size, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    return bytes;
  }

  // Two layers; entries given out of order, with parents left out.
  Image SmallImage() const {
    Image image;
    Layer base{.created_by = "bento runtime"};
    base.entries.push_back({.kind = Kind::kSymlink,
                            .path = "usr/local/bin/bento",
                            .link_target = "/opt/bento/bin/bento",
                            .mode = 0777});
    base.entries.push_back(
        {.kind = Kind::kFile, .path = "etc/bento/bento.yaml", .content = "port: 3000\n"});
    base.entries.push_back({.kind = Kind::kFile,
                            .path = "opt/bento/bin/bento",
                            .source = dir_ / "src" / "bento",
                            .mode = 0755});
    base.entries.push_back({.kind = Kind::kFile,
                            .path = "home/bento/.profile",
                            .content = "export PATH=/opt/bento/bin:$PATH\n",
                            .mode = 0600,
                            .uid = 1000,
                            .gid = 1000});
    base.entries.push_back(
        {.kind = Kind::kDirectory, .path = "home/bento", .mode = 0700, .uid = 1000, .gid = 1000});
    Layer model{.created_by = "model iris:v1"};
    model.entries.push_back({.kind = Kind::kFile,
                             .path = "srv/models/weights.bin",
                             .source = dir_ / "src" / "weights.bin",
                             .uid = 1000,
                             .gid = 1000});
    model.entries.push_back({.kind = Kind::kFile,
                             .path = "srv/models/empty",
                             .content = std::string()});
    model.entries.push_back({.kind = Kind::kFile,
                             .path = "srv/models/model.onnx",
                             .content = std::string("\0\1onnx\n", 7)});
    image.layers = {base, model};
    image.config = {.user = "1000:1000",
                    .entrypoint = {"/opt/bento/bin/bento", "serve"},
                    .cmd = {"--port", "3000"},
                    .env = {"PATH=/opt/bento/bin:/usr/bin", "BENTO_HOME=/srv"},
                    .working_dir = "/srv",
                    .exposed_ports = {"3000/tcp"},
                    .labels = {{"org.opencontainers.image.title", "iris"}, {"a", "b"}},
                    .created = "2024-01-02T03:04:05Z"};
    image.ref_name = kRef;
    return image;
  }

  // What SmallImage's layers hold, parents added, sorted.
  std::vector<std::vector<TarEntry>> ExpectedLayers() const {
    return {
        {Dir("etc"), Dir("etc/bento"), File("etc/bento/bento.yaml", "port: 3000\n"), Dir("home"),
         Dir("home/bento", 0700, 1000),
         File("home/bento/.profile", "export PATH=/opt/bento/bin:$PATH\n", 0600, 1000),
         Dir("opt"), Dir("opt/bento"), Dir("opt/bento/bin"),
         File("opt/bento/bin/bento", binary_, 0755), Dir("usr"), Dir("usr/local"),
         Dir("usr/local/bin"), Link("usr/local/bin/bento", "/opt/bento/bin/bento")},
        {Dir("srv"), Dir("srv/models"), File("srv/models/empty", ""),
         File("srv/models/model.onnx", std::string("\0\1onnx\n", 7)),
         File("srv/models/weights.bin", weights_, 0644, 1000)},
    };
  }

  // Writes SmallImage with `layer0` replacing the first layer's entries.
  StatusOr<std::string> WriteWithEntries(std::vector<LayerEntry> layer0, ImageFormat format,
                                         const stdfs::path& out) const {
    Image image = SmallImage();
    image.layers[0].entries = std::move(layer0);
    return WriteImage(image, format, out);
  }

  // The image failed to write: nothing at `out`, and nothing beside it but `others`.
  void ExpectNothingLeft(const stdfs::path& out, std::vector<std::string> others = {"src"}) {
    EXPECT_FALSE(stdfs::exists(stdfs::symlink_status(out))) << out;
    EXPECT_EQ(Listing(out.parent_path()), others);
  }

  stdfs::path dir_;
  std::string binary_;
  std::string weights_;
};

constexpr ImageFormat kFormats[] = {ImageFormat::kOciLayout, ImageFormat::kOciArchive,
                                    ImageFormat::kDockerArchive};

TEST_F(OciImageTest, SameImageGivesSameBytes) {
  for (ImageFormat format : kFormats) {
    SCOPED_TRACE(static_cast<int>(format));
    stdfs::remove_all(dir_ / "a");
    stdfs::remove_all(dir_ / "b");
    stdfs::create_directories(dir_ / "a");
    stdfs::create_directories(dir_ / "b");
    StatusOr<std::string> first = WriteImage(SmallImage(), format, dir_ / "a" / "img");
    ASSERT_TRUE(first.ok()) << first.status();
    // A source's mtime and the wall clock must not reach the output.
    stdfs::last_write_time(dir_ / "src" / "bento", stdfs::file_time_type::clock::now() -
                                                       std::chrono::hours(100));
    StatusOr<std::string> second = WriteImage(SmallImage(), format, dir_ / "b" / "img");
    ASSERT_TRUE(second.ok()) << second.status();
    EXPECT_EQ(*first, *second);
    EXPECT_TRUE(first->starts_with("sha256:"));
    EXPECT_EQ(first->size(), 7u + 64u);
    std::map<std::string, std::string> a = ReadTree(dir_ / "a");
    EXPECT_EQ(a, ReadTree(dir_ / "b"));
    EXPECT_GE(a.size(), 1u);
  }
}

// A layer cache changes how long an image takes, never what it is: the same digest and
// bytes with an empty cache, a warm one, and one whose entry was replaced by another layer.
TEST_F(OciImageTest, LayerCacheGivesTheSameImage) {
  const stdfs::path cache = dir_ / "cache";
  StatusOr<std::string> plain = WriteImage(SmallImage(), ImageFormat::kOciLayout, dir_ / "plain");
  ASSERT_TRUE(plain.ok()) << plain.status();
  StatusOr<std::string> cold =
      WriteImage(SmallImage(), ImageFormat::kOciLayout, dir_ / "cold", cache);
  ASSERT_TRUE(cold.ok()) << cold.status();
  std::vector<stdfs::path> entries;
  for (const auto& entry : stdfs::directory_iterator(cache)) entries.push_back(entry.path());
  ASSERT_EQ(entries.size(), SmallImage().layers.size());
  StatusOr<std::string> warm =
      WriteImage(SmallImage(), ImageFormat::kOciLayout, dir_ / "warm", cache);
  ASSERT_TRUE(warm.ok()) << warm.status();
  // An entry that does not inflate to its name's diff_id is passed over and replaced.
  std::sort(entries.begin(), entries.end());
  stdfs::copy_file(entries[1], entries[0], stdfs::copy_options::overwrite_existing);
  StatusOr<std::string> mended =
      WriteImage(SmallImage(), ImageFormat::kOciLayout, dir_ / "mended", cache);
  ASSERT_TRUE(mended.ok()) << mended.status();
  for (const auto& digest : {*cold, *warm, *mended}) EXPECT_EQ(digest, *plain);
  std::map<std::string, std::string> want = ReadTree(dir_ / "plain");
  EXPECT_EQ(ReadTree(dir_ / "warm"), want);
  EXPECT_EQ(ReadTree(dir_ / "mended"), want);
  EXPECT_NE(ReadAll(entries[0]), ReadAll(entries[1]));  // the bad entry was rewritten
}

TEST_F(OciImageTest, LayoutReadsBack) {
  const stdfs::path out = dir_ / "layout";
  StatusOr<std::string> digest = WriteImage(SmallImage(), ImageFormat::kOciLayout, out);
  ASSERT_TRUE(digest.ok()) << digest.status();

  EXPECT_EQ(Listing(out), (std::vector<std::string>{"blobs", "index.json", "oci-layout"}));
  EXPECT_EQ(ReadAll(out / "oci-layout"), R"({"imageLayoutVersion":"1.0.0"})");
  const stdfs::path blobs = out / "blobs" / "sha256";
  // Reads a descriptor's blob, checking its digest and size.
  auto blob = [&](const Json& descriptor, std::string_view media_type) {
    EXPECT_EQ(descriptor.at("mediaType"), media_type);
    std::string digest = descriptor.at("digest");
    EXPECT_TRUE(digest.starts_with("sha256:")) << digest;
    std::string data = ReadAll(blobs / digest.substr(7));
    EXPECT_EQ("sha256:" + Sha256Hex(data), digest);
    EXPECT_EQ(descriptor.at("size"), data.size());
    return data;
  };

  Json index = ParseFile(out / "index.json");
  EXPECT_EQ(index.at("schemaVersion"), 2);
  EXPECT_EQ(index.at("mediaType"), "application/vnd.oci.image.index.v1+json");
  ASSERT_EQ(index.at("manifests").size(), 1u);
  const Json& descriptor = index["manifests"][0];
  EXPECT_EQ(descriptor.at("digest"), *digest);
  EXPECT_EQ(descriptor.at("annotations"), Json({{"org.opencontainers.image.ref.name", kRef}}));

  std::string manifest_text = blob(descriptor, "application/vnd.oci.image.manifest.v1+json");
  Json manifest = Json::parse(manifest_text);
  EXPECT_EQ(manifest.dump(), manifest_text);
  EXPECT_EQ(manifest.at("schemaVersion"), 2);
  EXPECT_EQ(manifest.at("mediaType"), "application/vnd.oci.image.manifest.v1+json");
  std::string config_text =
      blob(manifest.at("config"), "application/vnd.oci.image.config.v1+json");
  Json config = Json::parse(config_text);
  EXPECT_EQ(config.dump(), config_text);
  EXPECT_EQ(config.at("architecture"), "amd64");
  EXPECT_EQ(config.at("os"), "linux");
  EXPECT_EQ(config.at("created"), "2024-01-02T03:04:05Z");
  EXPECT_EQ(config.at("config"), Json::parse(R"({
      "User": "1000:1000",
      "Entrypoint": ["/opt/bento/bin/bento", "serve"],
      "Cmd": ["--port", "3000"],
      "Env": ["PATH=/opt/bento/bin:/usr/bin", "BENTO_HOME=/srv"],
      "WorkingDir": "/srv",
      "ExposedPorts": {"3000/tcp": {}},
      "Labels": {"a": "b", "org.opencontainers.image.title": "iris"}})"));
  EXPECT_EQ(config.at("history"), Json::parse(R"([
      {"created": "2024-01-02T03:04:05Z", "created_by": "bento runtime"},
      {"created": "2024-01-02T03:04:05Z", "created_by": "model iris:v1"}])"));
  EXPECT_EQ(config.at("rootfs").at("type"), "layers");
  const Json& diff_ids = config.at("rootfs").at("diff_ids");

  const std::vector<std::vector<TarEntry>> expected = ExpectedLayers();
  const Json& layers = manifest.at("layers");
  ASSERT_EQ(layers.size(), expected.size());
  ASSERT_EQ(diff_ids.size(), expected.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    SCOPED_TRACE(i);
    std::string tar = Gunzip(blob(layers[i], "application/vnd.oci.image.layer.v1.tar+gzip"));
    EXPECT_EQ(diff_ids[i], "sha256:" + Sha256Hex(tar));
    EXPECT_EQ(ReadTar(tar), expected[i]);
  }
  // Two layers, the config and the manifest; no scratch files.
  EXPECT_EQ(Listing(blobs).size(), 4u);
}

TEST_F(OciImageTest, EmptyFolderMayBeTheLayout) {
  stdfs::create_directories(dir_ / "layout");
  StatusOr<std::string> digest = WriteImage(SmallImage(), ImageFormat::kOciLayout, dir_ / "layout");
  ASSERT_TRUE(digest.ok()) << digest.status();
  EXPECT_TRUE(stdfs::exists(dir_ / "layout" / "index.json"));
  EXPECT_EQ(Listing(dir_), (std::vector<std::string>{"layout", "src"}));
}

TEST_F(OciImageTest, OciArchiveHoldsTheLayout) {
  StatusOr<std::string> layout = WriteImage(SmallImage(), ImageFormat::kOciLayout, dir_ / "l");
  ASSERT_TRUE(layout.ok()) << layout.status();
  StatusOr<std::string> archive =
      WriteImage(SmallImage(), ImageFormat::kOciArchive, dir_ / "image.tar");
  ASSERT_TRUE(archive.ok()) << archive.status();
  EXPECT_EQ(*archive, *layout);

  std::vector<TarEntry> entries = ReadTar(ReadAll(dir_ / "image.tar"));
  EXPECT_EQ(TreeOf(entries), ReadTree(dir_ / "l"));
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(entries[i - 1].path, entries[i].path);
    }
    EXPECT_EQ(entries[i].mtime, 0) << entries[i];
    EXPECT_EQ(entries[i].uid, 0) << entries[i];
  }
}

TEST_F(OciImageTest, DockerArchiveReadsBack) {
  const stdfs::path out = dir_ / "docker.tar";
  StatusOr<std::string> digest = WriteImage(SmallImage(), ImageFormat::kDockerArchive, out);
  ASSERT_TRUE(digest.ok()) << digest.status();
  std::map<std::string, std::string> files = TreeOf(ReadTar(ReadAll(out)));

  ASSERT_TRUE(files.contains("manifest.json"));
  Json manifest = Json::parse(files["manifest.json"]);
  EXPECT_EQ(manifest.dump(), files["manifest.json"]);
  ASSERT_EQ(manifest.size(), 1u);
  EXPECT_EQ(manifest[0].at("RepoTags"), Json::array({kRef}));
  std::string config_name = manifest[0].at("Config");
  ASSERT_TRUE(files.contains(config_name)) << config_name;
  const std::string& config_text = files[config_name];
  EXPECT_EQ("sha256:" + Sha256Hex(config_text), *digest);
  EXPECT_EQ(config_name, digest->substr(7) + ".json");

  const Json diff_ids = Json::parse(config_text).at("rootfs").at("diff_ids");
  const Json& layers = manifest[0].at("Layers");
  const std::vector<std::vector<TarEntry>> expected = ExpectedLayers();
  ASSERT_EQ(layers.size(), expected.size());
  ASSERT_EQ(diff_ids.size(), expected.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    SCOPED_TRACE(i);
    std::string name = layers[i];
    ASSERT_TRUE(files.contains(name)) << name;
    EXPECT_EQ(diff_ids[i], "sha256:" + Sha256Hex(files[name]));
    EXPECT_EQ(name, Sha256Hex(files[name]) + "/layer.tar");
    EXPECT_EQ(ReadTar(files[name]), expected[i]);
  }

  // The config is the OCI image's config, byte for byte.
  StatusOr<std::string> layout = WriteImage(SmallImage(), ImageFormat::kOciLayout, dir_ / "l");
  ASSERT_TRUE(layout.ok()) << layout.status();
  Json oci_manifest =
      Json::parse(ReadAll(dir_ / "l" / "blobs" / "sha256" / layout->substr(7)));
  std::string oci_config = oci_manifest.at("config").at("digest");
  EXPECT_EQ(oci_config, *digest);
}

TEST_F(OciImageTest, ExistingOutputIsRefused) {
  stdfs::create_directories(dir_ / "layout");
  WriteAll(dir_ / "layout" / "keep", "x");
  WriteAll(dir_ / "image.tar", "old");
  stdfs::create_directories(dir_ / "empty");
  struct Case {
    ImageFormat format;
    stdfs::path out;
  };
  for (const Case& c : {Case{ImageFormat::kOciLayout, dir_ / "layout"},
                        Case{ImageFormat::kOciArchive, dir_ / "image.tar"},
                        Case{ImageFormat::kDockerArchive, dir_ / "image.tar"},
                        Case{ImageFormat::kOciArchive, dir_ / "empty"}}) {
    SCOPED_TRACE(c.out);
    StatusOr<std::string> digest = WriteImage(SmallImage(), c.format, c.out);
    EXPECT_EQ(digest.status().code(), StatusCode::kAlreadyExists) << digest.status();
    EXPECT_NE(digest.status().message().find(c.out.string()), std::string::npos)
        << digest.status();
  }
  EXPECT_EQ(ReadAll(dir_ / "layout" / "keep"), "x");
  EXPECT_EQ(ReadAll(dir_ / "image.tar"), "old");
  EXPECT_EQ(Listing(dir_), (std::vector<std::string>{"empty", "image.tar", "layout", "src"}));
}

TEST_F(OciImageTest, MissingSourceLeavesNothing) {
  const stdfs::path missing = dir_ / "src" / "no-such-file";
  for (ImageFormat format : kFormats) {
    SCOPED_TRACE(static_cast<int>(format));
    Image image = SmallImage();
    image.layers[1].entries.push_back(
        {.kind = Kind::kFile, .path = "srv/models/missing", .source = missing});
    const stdfs::path out = dir_ / "out";
    StatusOr<std::string> digest = WriteImage(image, format, out);
    EXPECT_EQ(digest.status().code(), StatusCode::kNotFound) << digest.status();
    EXPECT_NE(digest.status().message().find(missing.string()), std::string::npos)
        << digest.status();
    ExpectNothingLeft(out);
  }
}

TEST_F(OciImageTest, BadPathsAreRefused) {
  const stdfs::path out = dir_ / "out";
  const LayerEntry file{.kind = Kind::kFile, .content = "x"};
  for (std::string path : {"opt/../../etc/passwd", "..", "/etc/passwd", "./", ""}) {
    SCOPED_TRACE(path);
    LayerEntry bad = file;
    bad.path = path;
    StatusOr<std::string> digest = WriteWithEntries({bad}, ImageFormat::kOciLayout, out);
    EXPECT_EQ(digest.status().code(), StatusCode::kInvalidArgument) << digest.status();
    EXPECT_NE(digest.status().message().find("'" + path + "'"), std::string::npos)
        << digest.status();
    ExpectNothingLeft(out);
  }
  // The same path twice, spelled differently.
  LayerEntry a = file, b = file;
  a.path = "etc/x";
  b.path = "etc//x/";
  StatusOr<std::string> digest = WriteWithEntries({a, b}, ImageFormat::kOciArchive, out);
  EXPECT_EQ(digest.status().code(), StatusCode::kInvalidArgument) << digest.status();
  EXPECT_NE(digest.status().message().find("'etc/x'"), std::string::npos) << digest.status();
  // An entry under a file.
  b.path = "etc/x/y";
  digest = WriteWithEntries({a, b}, ImageFormat::kDockerArchive, out);
  EXPECT_EQ(digest.status().code(), StatusCode::kInvalidArgument) << digest.status();
  EXPECT_NE(digest.status().message().find("'etc/x/y'"), std::string::npos) << digest.status();
  ExpectNothingLeft(out);
}

TEST_F(OciImageTest, MissingParentFolder) {
  const stdfs::path parent = dir_ / "no" / "such";
  for (ImageFormat format : kFormats) {
    StatusOr<std::string> digest = WriteImage(SmallImage(), format, parent / "img");
    EXPECT_EQ(digest.status().code(), StatusCode::kNotFound) << digest.status();
    EXPECT_NE(digest.status().message().find(parent.string()), std::string::npos)
        << digest.status();
  }
  EXPECT_EQ(Listing(dir_), std::vector<std::string>{"src"});
}

// A parent that is a file cannot hold the output, whoever runs the test (root writes into
// any folder, so a folder without write permission would prove nothing under root).
TEST_F(OciImageTest, ParentThatIsAFileIsRefused) {
  const stdfs::path parent = dir_ / "a-file";
  { std::ofstream(parent) << "x"; }
  for (ImageFormat format :
       {ImageFormat::kOciLayout, ImageFormat::kOciArchive, ImageFormat::kDockerArchive}) {
    StatusOr<std::string> digest = WriteImage(SmallImage(), format, parent / "image");
    ASSERT_FALSE(digest.ok());
    EXPECT_NE(digest.status().message().find(parent.string()), std::string::npos)
        << digest.status();
  }
  std::ifstream in(parent);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "x");
}

}  // namespace
}  // namespace bento::ship
