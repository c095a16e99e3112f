#include "server/services/server_keys.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <utility>

#include "core/host/file.h"
#include "crypto/host/key_file.h"
#include "crypto/host/openssl_verifier.h"
#include "manifest/host/key_ids.h"
#include "manifest/host/root_builder.h"
#include "manifest/host/signer.h"
#include "manifest/verifier.h"

namespace updraft::server {
namespace {

namespace fs = std::filesystem;

using Roots = std::map<std::uint32_t, std::vector<std::byte>>;

std::string roots_dir(const std::string& dir) { return dir + "/roots"; }
std::string root_file(const std::string& dir, std::uint32_t version) {
  return roots_dir(dir) + "/" + std::to_string(version) + ".bin";
}

Error invalid(const std::string& message) { return Error(ErrorCode::kInvalidArgument, message); }

// An exclusive lock on <dir>/.lock for as long as it lives: servers that start
// together on one new (shared) data directory make the keys once, and the
// others load them. flock(2) works across processes and over NFSv4.
class DirLock {
 public:
  static HostResult<DirLock> take(const std::string& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Error(ErrorCode::kIoError, "cannot create " + dir + ": " + ec.message());
    DirLock lock;
    lock.fd_ = ::open((dir + "/.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock.fd_ < 0 || ::flock(lock.fd_, LOCK_EX) != 0) {
      return Error(ErrorCode::kIoError, "cannot lock " + dir + "/.lock: " + std::strerror(errno));
    }
    return lock;
  }
  DirLock() = default;
  DirLock(DirLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  DirLock& operator=(DirLock&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~DirLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }

 private:
  int fd_ = -1;
};

std::string code_text(ErrorCode code) {
  return std::string(error_name(code)) + " (" + std::to_string(error_number(code)) + ")";
}

HostResult<manifest::RootMetadata> parsed(const std::vector<std::byte>& bytes,
                                          const std::string& what) {
  Result<manifest::RootMetadata> root = manifest::parse_root(bytes);
  if (!root.ok()) return invalid(what + " is not root metadata: " + code_text(root.error()));
  return *root;
}

HostResult<void> write_root(const std::string& dir, std::uint32_t version,
                            const std::vector<std::byte>& bytes) {
  std::error_code ec;
  fs::create_directories(roots_dir(dir), ec);
  if (ec)
    return Error(ErrorCode::kIoError, "cannot create " + roots_dir(dir) + ": " + ec.message());
  return write_file_atomic(root_file(dir, version), bytes);
}

HostResult<void> create_keys(const std::string& dir, SignatureAlgorithm algorithm) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error(ErrorCode::kIoError, "cannot create " + dir + ": " + ec.message());
  // Root and release key alike: a device that can check one can check the other.
  UPDRAFT_TRY_ASSIGN(SigningKey root_key, SigningKey::generate(algorithm));
  UPDRAFT_TRY_ASSIGN(SigningKey release_key, SigningKey::generate(algorithm));
  manifest::RootSpec spec;
  spec.version = 1;
  spec.root_keys = {root_key.public_key()};
  spec.release_keys = {release_key.public_key()};
  UPDRAFT_TRY_ASSIGN(std::vector<std::byte> region, manifest::encode_root(spec));
  UPDRAFT_TRY_ASSIGN(std::vector<std::byte> root, manifest::sign_metadata(region, {&root_key}));
  UPDRAFT_TRY(write_key_pair(root_key, dir + "/root"));
  UPDRAFT_TRY(write_key_pair(release_key, dir + "/release"));
  UPDRAFT_TRY(write_root(dir, 1, root));
  return write_file_atomic(dir + "/root.bin", root);
}

// The roots kept in `dir`: roots/<version>.bin and root.bin (the newest; alone in
// a directory made before roots were kept). Each consecutive pair must be a valid
// rotation, as a device would judge it.
HostResult<Roots> load_roots(const std::string& dir) {
  Roots roots;
  std::error_code ec;
  if (fs::is_directory(roots_dir(dir), ec)) {
    for (const fs::directory_entry& entry : fs::directory_iterator(roots_dir(dir), ec)) {
      const std::string path = entry.path().string();
      if (entry.path().extension() != ".bin") continue;
      UPDRAFT_TRY_ASSIGN(std::vector<std::byte> bytes, read_file(path));
      UPDRAFT_TRY_ASSIGN(const manifest::RootMetadata root, parsed(bytes, path));
      if (entry.path().stem().string() != std::to_string(root.version))
        return invalid(path + " holds root v" + std::to_string(root.version));
      roots[root.version] = std::move(bytes);
    }
    if (ec)
      return Error(ErrorCode::kIoError, "cannot list " + roots_dir(dir) + ": " + ec.message());
  }
  if (fs::exists(dir + "/root.bin")) {
    UPDRAFT_TRY_ASSIGN(std::vector<std::byte> newest, read_file(dir + "/root.bin"));
    UPDRAFT_TRY_ASSIGN(const manifest::RootMetadata root, parsed(newest, dir + "/root.bin"));
    const auto same = roots.find(root.version);
    if (same != roots.end() && same->second != newest) {
      return invalid(dir + "/root.bin and " + root_file(dir, root.version) + " differ");
    }
    if (!roots.empty() && roots.rbegin()->first > root.version) {
      return invalid(dir + "/root.bin is v" + std::to_string(root.version) + " but " +
                     roots_dir(dir) + " holds v" + std::to_string(roots.rbegin()->first));
    }
    roots[root.version] = std::move(newest);
  }
  OpenSslVerifier verifier;
  for (auto it = roots.begin(); it != roots.end() && std::next(it) != roots.end(); ++it) {
    const auto next = std::next(it);
    if (next->first != it->first + 1) {
      return invalid(roots_dir(dir) + " has v" + std::to_string(it->first) + " and v" +
                     std::to_string(next->first) + " but nothing between");
    }
    const manifest::RootMetadata a = *manifest::parse_root(it->second);
    const manifest::RootMetadata b = *manifest::parse_root(next->second);
    if (Result<void> r = manifest::verify_root_rotation(a, b, verifier); !r.ok()) {
      return invalid(root_file(dir, next->first) + " is not a valid rotation from v" +
                     std::to_string(it->first) + ": " + code_text(r.error()));
    }
  }
  return roots;
}

// Adds the root in `path` to `roots` (see ServerKeys::Options::import_roots) and
// returns its version, or nothing when `roots` held it already. Writes nothing.
HostResult<std::optional<std::uint32_t>> import_root(const std::string& path, Roots& roots) {
  UPDRAFT_TRY_ASSIGN(std::vector<std::byte> bytes, read_file(path));
  UPDRAFT_TRY_ASSIGN(const manifest::RootMetadata root, parsed(bytes, path));
  const std::string name = path + " (root v" + std::to_string(root.version) + ")";
  OpenSslVerifier verifier;
  if (const auto same = roots.find(root.version); same != roots.end()) {
    // Imported before: a restart with the same flags.
    if (same->second == bytes) return std::optional<std::uint32_t>();
    return invalid(name + " differs from the v" + std::to_string(root.version) +
                   " this server holds: a version, once devices may have it, never changes");
  }
  if (roots.empty()) {
    // The first root: devices will be provisioned with it, so it only has to be
    // signed by a threshold of its own root keys.
    if (Result<void> r = manifest::check_root_signatures(root, root, verifier); !r.ok()) {
      return invalid(name + " is not signed by a threshold of its own root keys: " +
                     code_text(r.error()) + "; sign it with `updraft root sign`");
    }
  } else {
    const std::uint32_t newest = roots.rbegin()->first;
    const std::uint32_t oldest = roots.begin()->first;
    if (root.version == newest + 1) {
      const manifest::RootMetadata trusted = *manifest::parse_root(roots.rbegin()->second);
      if (Result<void> r = manifest::verify_root_rotation(trusted, root, verifier); !r.ok()) {
        return invalid(name + " is not a valid rotation from v" + std::to_string(newest) + ": " +
                       code_text(r.error()) + " (it needs a threshold of v" +
                       std::to_string(newest) + "'s root keys and of its own)");
      }
    } else if (root.version + 1 == oldest) {
      // An older root, so devices still on it can be rotated too.
      const manifest::RootMetadata next = *manifest::parse_root(roots.begin()->second);
      if (Result<void> r = manifest::verify_root_rotation(root, next, verifier); !r.ok()) {
        return invalid("v" + std::to_string(oldest) + " is not a valid rotation from " + name +
                       ": " + code_text(r.error()));
      }
    } else {
      return invalid(name + ": this server holds v" + std::to_string(oldest) + " to v" +
                     std::to_string(newest) + "; import v" + std::to_string(newest + 1) +
                     " next (one version at a time)");
    }
  }
  roots[root.version] = bytes;
  return std::optional<std::uint32_t>(root.version);
}

}  // namespace

HostResult<ServerKeys> ServerKeys::load_or_create(const std::string& dir,
                                                  SignatureAlgorithm algorithm) {
  Options options;
  options.algorithm = algorithm;
  return load_or_create(dir, options);
}

HostResult<ServerKeys> ServerKeys::load_or_create(const std::string& dir, const Options& options) {
  UPDRAFT_TRY_ASSIGN(const DirLock lock, DirLock::take(dir));
  const bool has_release = fs::exists(dir + "/release.key");
  const bool has_root_key = fs::exists(dir + "/root.key");
  if (!options.import_roots.empty()) {
    if (has_root_key) {
      return invalid(
          "--root imports root metadata made offline, but " + dir +
          "/root.key is on this server: the root key must not be. Sign what still needs it "
          "(the rotation to roots whose keys are kept offline), move it off this machine, "
          "then start again");
    }
    if (!has_release) {
      return invalid("no release key in " + dir + ": make one with `updraft keygen -o " + dir +
                     "/release` (it stays on this server), list release.pub in the root "
                     "metadata you make offline, then start with --root");
    }
  } else if (!has_release && !fs::exists(dir + "/root.bin")) {
    UPDRAFT_TRY(create_keys(dir, options.algorithm));
  }

  ServerKeys keys;
  keys.dir_ = dir;
  UPDRAFT_TRY_ASSIGN(keys.release_key_, load_signing_key(dir + "/release.key"));
  UPDRAFT_TRY_ASSIGN(keys.roots_, load_roots(dir));
  std::vector<std::uint32_t> imported;
  for (const std::string& path : options.import_roots) {
    UPDRAFT_TRY_ASSIGN(const std::optional<std::uint32_t> added, import_root(path, keys.roots_));
    if (added) imported.push_back(*added);
  }
  if (keys.roots_.empty()) {
    return invalid("no root metadata in " + dir + ": start with --root FILE (root metadata made " +
                   "with `updraft root create`, listing " + dir + "/release.pub)");
  }
  keys.mode_ = fs::exists(dir + "/root.key") ? RootMode::kOnline : RootMode::kOffline;

  // Refuse to start with a root that would make every device reject our answers.
  const manifest::RootMetadata newest = *manifest::parse_root(keys.root_metadata());
  const manifest::KeyId ours = manifest::key_id_of(keys.release_key_.public_key());
  const manifest::KeyEntry* listed = newest.release_keys.find(ours);
  const std::vector<std::byte>& our_bytes = keys.release_key_.public_key().bytes;
  if (listed == nullptr ||
      !std::equal(listed->public_key.begin(), listed->public_key.end(), our_bytes.begin(),
                  our_bytes.end()) ||
      newest.is_revoked(ours)) {
    return invalid("root metadata v" + std::to_string(newest.version) +
                   " does not list the release key in " + dir + "/release.key (key id " +
                   manifest::key_id_hex(ours) + ")");
  }
  // Kept only once everything checked out: a refused import leaves no trace.
  for (const std::uint32_t version : imported) {
    UPDRAFT_TRY(write_root(dir, version, keys.roots_.at(version)));
  }
  if (!imported.empty()) UPDRAFT_TRY(write_file_atomic(dir + "/root.bin", keys.root_metadata()));
  return keys;
}

std::string ServerKeys::describe() const {
  const manifest::RootMetadata newest = *manifest::parse_root(root_metadata());
  std::string line =
      mode_ == RootMode::kOffline
          ? "offline root: no root key on this server"
          : "online root: " + dir_ +
                "/root.key is on this server (fine for a trial; in production keep root keys "
                "offline and start with --root, see docs/design.md, \"Keys\")";
  line += "; root metadata v" + std::to_string(newest.version);
  if (roots_.size() > 1) {
    line += " (v" + std::to_string(roots_.begin()->first) + " to v" +
            std::to_string(newest.version) + " kept for rotation)";
  }
  line +=
      newest.expires == 0 ? ", never expires" : ", expires at " + std::to_string(newest.expires);
  line += "; release key " + manifest::key_id_hex(manifest::key_id_of(release_key_.public_key())) +
          " (" + std::string(algorithm_name(algorithm())) + ")";
  return line;
}

const std::vector<std::byte>* ServerKeys::next_root(std::uint32_t version) const {
  if (version == 0 || version == 0xFFFFFFFFu) return nullptr;
  const auto it = roots_.find(version + 1);
  // A device on a version this server never knew is not walked anywhere: that
  // root was not made for it.
  if (it == roots_.end() || roots_.find(version) == roots_.end()) return nullptr;
  return &it->second;
}

HostResult<std::vector<std::byte>> ServerKeys::sign_manifest(
    const manifest::ManifestSpec& spec) const {
  UPDRAFT_TRY_ASSIGN(std::vector<std::byte> region, manifest::encode_manifest(spec));
  return manifest::sign_metadata(region, {&release_key_});
}

}  // namespace updraft::server
