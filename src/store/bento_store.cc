#include "store/bento_store.h"

#include "base/fs.h"

namespace bento::store {

StatusOr<BentoStore> BentoStore::Open(const stdfs::path& home) {
  std::error_code ec;
  stdfs::path absolute = stdfs::absolute(home, ec);
  if (ec) return InvalidArgumentError("bad store path " + home.string() + ": " + ec.message());
  BentoStore store(absolute.lexically_normal());
  RETURN_IF_ERROR(fs::MakeDirs(store.bentos_.dir()));
  return store;
}

StatusOr<StoredBento> BentoStore::Get(std::string_view tag) const {
  ASSIGN_OR_RETURN(Tag parsed, Tag::Parse(tag));
  return bentos_.Get(parsed);
}

StatusOr<PendingVersion> BentoStore::BeginBuild(std::string_view name) const {
  RETURN_IF_ERROR(Tag::ValidateName(name));
  ASSIGN_OR_RETURN(stdfs::path dir,
                   bentos_.MakeStaging("build-" + std::string(name) + "-"));
  return PendingVersion(Tag{std::string(name), Tag::NewVersion()}, std::move(dir));
}

StatusOr<StoredBento> BentoStore::Commit(PendingVersion pending, BentoInfo info) const {
  if (pending.dir().empty()) {
    return FailedPreconditionError("bento " + pending.tag().ToString() + " was already committed");
  }
  info.tag = pending.tag();
  if (info.creation_time == std::chrono::system_clock::time_point{}) {
    info.creation_time = std::chrono::system_clock::now();
  }
  info.creation_time = std::chrono::floor<std::chrono::microseconds>(info.creation_time);
  RETURN_IF_ERROR(fs::WriteFile(pending.dir() / kBentoYaml, WriteBentoYaml(info)));
  ASSIGN_OR_RETURN(stdfs::path path, bentos_.Install(pending.dir(), info));
  pending.MarkCommitted();
  return StoredBento{std::move(info), std::move(path)};
}

}  // namespace bento::store
