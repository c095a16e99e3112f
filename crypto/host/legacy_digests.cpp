#include "crypto/host/legacy_digests.h"

#include <fstream>
#include <span>
#include <vector>

#include "core/host/hex.h"
#include "crypto/host/openssl.h"

namespace updraft {
namespace {

HostResult<std::string> finish(EVP_MD_CTX* ctx) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(ctx, digest, &size) != 1)
    return openssl::error(ErrorCode::kIoError, "digest");
  return to_hex(std::span(reinterpret_cast<const std::byte*>(digest), size));
}

}  // namespace

HostResult<LegacyDigests> legacy_digests_of_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kIoError, "cannot open " + path);
  openssl::MdCtx sha1(EVP_MD_CTX_new());
  openssl::MdCtx md5(EVP_MD_CTX_new());
  if (!sha1 || !md5 || EVP_DigestInit_ex(sha1.get(), EVP_sha1(), nullptr) != 1 ||
      EVP_DigestInit_ex(md5.get(), EVP_md5(), nullptr) != 1) {
    return openssl::error(ErrorCode::kIoError, "digest init");
  }
  std::vector<char> buffer(1 << 16);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = static_cast<std::size_t>(in.gcount());
    EVP_DigestUpdate(sha1.get(), buffer.data(), n);
    EVP_DigestUpdate(md5.get(), buffer.data(), n);
  }
  if (in.bad()) return Error(ErrorCode::kIoError, "cannot read " + path);
  LegacyDigests out;
  UPDRAFT_TRY_ASSIGN(out.sha1, finish(sha1.get()));
  UPDRAFT_TRY_ASSIGN(out.md5, finish(md5.get()));
  return out;
}

}  // namespace updraft
