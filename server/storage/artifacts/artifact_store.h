// Where release images and built patches live: the bytes, beside the records of
// the Store. Services name an artifact by its kind and a name (an image by its
// SHA-256, a patch by its source, target and profile) and never by a path, so a
// store other than a directory (an S3-compatible object store) can be added
// without touching them: implement this interface and choose it in updraftd's
// main. Every server sharing a database must see the same artifacts.
//
// Host only. Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/host/error.h"

namespace updraft::server {

enum class ArtifactKind : std::uint8_t {
  kImage,  // a release image, named by its SHA-256 (hex)
  kPatch,  // a built patch, named "<from>-<to>-<profile>.updp"
};

// How the HTTP layer serves an artifact: a local file, sent with sendfile and
// ranges. (An object store would give a local copy, or a URL to redirect to.)
struct ArtifactLocation {
  std::string path;
  std::uint64_t size = 0;
};

class ArtifactStore {
 public:
  virtual ~ArtifactStore() = default;

  // A local directory for files on their way in, where put() takes them from
  // cheaply (a rename for a directory store).
  virtual std::string staging_dir() const = 0;
  // Takes the finished local file `staged` in as (kind, name), whole or not at
  // all: no reader ever sees a part. The file is consumed on success. An artifact
  // of that name is replaced (the names are content addresses: the same bytes).
  virtual HostResult<void> put(ArtifactKind kind, const std::string& name,
                               const std::string& staged) = 0;
  // The same for bytes in memory.
  virtual HostResult<void> put_bytes(ArtifactKind kind, const std::string& name,
                                     ByteView bytes) = 0;
  virtual HostResult<bool> exists(ArtifactKind kind, const std::string& name) = 0;
  // The whole artifact (a delta build reads both images); kStoreNotFound if absent.
  virtual HostResult<std::vector<std::byte>> read(ArtifactKind kind, const std::string& name) = 0;
  // Where to serve it from; kStoreNotFound if absent.
  virtual HostResult<ArtifactLocation> locate(ArtifactKind kind, const std::string& name) = 0;
  // Removing an absent artifact is not an error.
  virtual HostResult<void> remove(ArtifactKind kind, const std::string& name) = 0;
};

// Artifacts as files: <root>/images/<sha256> and <root>/deltas/<name>, with
// <root>/.staging for incoming files. Several servers share it on a shared file
// system (NFS and the like); each write is a rename, atomic there too.
class DirectoryArtifactStore final : public ArtifactStore {
 public:
  // Creates the directories; kIoError when it cannot.
  static HostResult<std::unique_ptr<DirectoryArtifactStore>> open(const std::string& root);

  std::string staging_dir() const override { return root_ + "/.staging"; }
  HostResult<void> put(ArtifactKind kind, const std::string& name,
                       const std::string& staged) override;
  HostResult<void> put_bytes(ArtifactKind kind, const std::string& name, ByteView bytes) override;
  HostResult<bool> exists(ArtifactKind kind, const std::string& name) override;
  HostResult<std::vector<std::byte>> read(ArtifactKind kind, const std::string& name) override;
  HostResult<ArtifactLocation> locate(ArtifactKind kind, const std::string& name) override;
  HostResult<void> remove(ArtifactKind kind, const std::string& name) override;

 private:
  explicit DirectoryArtifactStore(std::string root) : root_(std::move(root)) {}
  // The file for (kind, name); kInvalidArgument for a name that is not one plain
  // file name (empty, a '/', a leading '.').
  HostResult<std::string> path(ArtifactKind kind, const std::string& name) const;

  std::string root_;
};

}  // namespace updraft::server
