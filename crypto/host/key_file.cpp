#include "crypto/host/key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/host/file.h"

namespace updraft {
namespace {

Error io_error(const std::string& what, const std::string& path) {
  return Error(ErrorCode::kIoError, what + " " + path + ": " + std::strerror(errno));
}

// Creates `path` with `mode` and `text`, failing if it exists. The mode is set at
// creation, so a private key is never readable by others, not even for an instant;
// link() publishes the finished file atomically and refuses to replace one.
Result<void, Error> write_new_file(const std::string& path, const std::string& text, mode_t mode) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return io_error("cannot create", tmp);
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  const bool complete = written == text.size() && ::fsync(fd) == 0;
  ::close(fd);
  if (!complete) {
    Error e = io_error("cannot write", tmp);
    ::unlink(tmp.c_str());
    return e;
  }
  if (::link(tmp.c_str(), path.c_str()) != 0) {
    Error e = io_error("cannot create", path);
    ::unlink(tmp.c_str());
    return e;
  }
  ::unlink(tmp.c_str());
  return {};
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

HostResult<std::string> read_text(const std::string& path) {
  UPDRAFT_TRY_ASSIGN(std::vector<std::byte> bytes, read_file(path));
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace

Result<void, Error> write_key_pair(const SigningKey& key, const std::string& name) {
  const std::string private_path = name + ".key";
  const std::string public_path = name + ".pub";
  for (const std::string& path : {private_path, public_path}) {
    if (exists(path))
      return Error(ErrorCode::kIoError, path + " exists; refusing to replace a key");
  }
  UPDRAFT_TRY_ASSIGN(const std::string private_pem, key.to_pem());
  UPDRAFT_TRY_ASSIGN(const std::string public_pem, public_key_to_pem(key.public_key()));
  UPDRAFT_TRY(write_new_file(private_path, private_pem, 0600));
  if (auto r = write_new_file(public_path, public_pem, 0644); !r.ok()) {
    // A lone private key would block the next attempt with "exists".
    ::unlink(private_path.c_str());
    return r;
  }
  return {};
}

HostResult<SigningKey> load_signing_key(const std::string& path) {
  UPDRAFT_TRY_ASSIGN(const std::string pem, read_text(path));
  HostResult<SigningKey> key = SigningKey::from_pem(pem);
  if (!key.ok()) return Error(key.error().code, path + ": " + key.error().message);
  return key;
}

HostResult<PublicKey> load_public_key(const std::string& path) {
  UPDRAFT_TRY_ASSIGN(const std::string pem, read_text(path));
  HostResult<PublicKey> key = public_key_from_pem(pem);
  if (!key.ok()) return Error(key.error().code, path + ": " + key.error().message);
  return key;
}

}  // namespace updraft
