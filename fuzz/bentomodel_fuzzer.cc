// Fuzzes .bentomodel import (ModelStore::Import, src/store/model_store.h): the input is the
// archive's bytes, libarchive detects the compression and tar format, and the store checks
// every entry and the model.yaml inside. Imports go into a private store under the system's
// temporary folder. After a failed import the store must hold nothing (no model, no staging);
// a successful one is deleted again.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "fuzz/fuzz_check.h"
#include "store/model_store.h"

namespace {

namespace stdfs = std::filesystem;

struct Fixture {
  stdfs::path root;
  stdfs::path archive;
  bento::store::ModelStore store;
};

Fixture& GetFixture() {
  static Fixture* fixture = [] {
    stdfs::path root = stdfs::temp_directory_path() /
                       ("bento-bentomodel-fuzzer-" + std::to_string(::getpid()));
    stdfs::remove_all(root);
    stdfs::create_directories(root / "home");
    auto store = bento::store::ModelStore::Open(root / "home");
    if (!store.ok()) {
      std::fprintf(stderr, "cannot open the store: %s\n", store.status().ToString().c_str());
      std::abort();
    }
    std::atexit([] { stdfs::remove_all(GetFixture().root); });
    return new Fixture{root, root / "in.bentomodel", std::move(*store)};
  }();
  return *fixture;
}


}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture& f = GetFixture();
  {
    std::ofstream out(f.archive, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  auto tag = f.store.Import(f.archive);
  if (tag.ok()) {
    auto stored = f.store.Get(*tag);
    FUZZ_CHECK(stored.ok(), "imported %s is not in the store: %s", tag->ToString().c_str(),
               stored.status().ToString().c_str());
    bento::Status deleted = f.store.Delete(tag->ToString());
    FUZZ_CHECK(deleted.ok(), "cannot delete %s: %s", tag->ToString().c_str(),
               deleted.ToString().c_str());
  }
  // Whatever happened, nothing may be left behind in the store but empty folders.
  std::error_code ec;
  for (const char* sub : {"models", "tmp"}) {
    stdfs::path dir = f.root / "home" / sub;
    for (auto it = stdfs::recursive_directory_iterator(dir, ec);
         it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
      FUZZ_CHECK(it->is_directory() || it->path().filename() == ".lock",
                 "left behind: %s (import %s)", it->path().c_str(),
                 tag.ok() ? "succeeded" : tag.status().ToString().c_str());
    }
  }
  return 0;
}
