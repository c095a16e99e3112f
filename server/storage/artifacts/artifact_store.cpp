#include "server/storage/artifacts/artifact_store.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/host/file.h"

namespace updraft::server {
namespace {

Error io_error(const std::string& what, int error) {
  return Error(ErrorCode::kIoError, what + ": " + std::strerror(error));
}

const char* subdir(ArtifactKind kind) { return kind == ArtifactKind::kImage ? "images" : "deltas"; }

}  // namespace

HostResult<std::unique_ptr<DirectoryArtifactStore>> DirectoryArtifactStore::open(
    const std::string& root) {
  std::unique_ptr<DirectoryArtifactStore> store(new DirectoryArtifactStore(root));
  for (const std::string& dir : {root + "/images", root + "/deltas", store->staging_dir()}) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return io_error("cannot create the artifact directory " + dir, ec.value());
  }
  return store;
}

HostResult<std::string> DirectoryArtifactStore::path(ArtifactKind kind,
                                                     const std::string& name) const {
  if (name.empty() || name.front() == '.' || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos) {
    return Error(ErrorCode::kInvalidArgument, "artifact name \"" + name + "\": not a file name");
  }
  std::string out = root_;
  out.append("/").append(subdir(kind)).append("/").append(name);
  return out;
}

HostResult<void> DirectoryArtifactStore::put(ArtifactKind kind, const std::string& name,
                                             const std::string& staged) {
  UPDRAFT_TRY_ASSIGN(const std::string target, path(kind, name));
  if (std::rename(staged.c_str(), target.c_str()) != 0)
    return io_error("storing artifact " + name, errno);
  return {};
}

HostResult<void> DirectoryArtifactStore::put_bytes(ArtifactKind kind, const std::string& name,
                                                   ByteView bytes) {
  UPDRAFT_TRY_ASSIGN(const std::string target, path(kind, name));
  Result<void, Error> written = write_file_atomic(target, bytes);
  if (!written.ok()) return written.error();
  return {};
}

HostResult<bool> DirectoryArtifactStore::exists(ArtifactKind kind, const std::string& name) {
  UPDRAFT_TRY_ASSIGN(const std::string file, path(kind, name));
  std::error_code ec;
  const bool found = std::filesystem::exists(file, ec);
  if (ec) return io_error("looking for artifact " + name, ec.value());
  return found;
}

HostResult<std::vector<std::byte>> DirectoryArtifactStore::read(ArtifactKind kind,
                                                                const std::string& name) {
  UPDRAFT_TRY_ASSIGN(const std::string file, path(kind, name));
  HostResult<std::vector<std::byte>> bytes = read_file(file);
  if (!bytes.ok() && !std::filesystem::exists(file))
    return Error(ErrorCode::kStoreNotFound, "no artifact " + name);
  return bytes;
}

HostResult<ArtifactLocation> DirectoryArtifactStore::locate(ArtifactKind kind,
                                                            const std::string& name) {
  ArtifactLocation out;
  UPDRAFT_TRY_ASSIGN(out.path, path(kind, name));
  std::error_code ec;
  out.size = std::filesystem::file_size(out.path, ec);
  if (ec == std::errc::no_such_file_or_directory)
    return Error(ErrorCode::kStoreNotFound, "no artifact " + name);
  if (ec) return io_error("looking for artifact " + name, ec.value());
  return out;
}

HostResult<void> DirectoryArtifactStore::remove(ArtifactKind kind, const std::string& name) {
  UPDRAFT_TRY_ASSIGN(const std::string file, path(kind, name));
  std::error_code ec;
  std::filesystem::remove(file, ec);
  if (ec) return io_error("removing artifact " + name, ec.value());
  return {};
}

}  // namespace updraft::server
