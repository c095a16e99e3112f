#include "crypto/host/base64.h"

#include <openssl/evp.h>

namespace updraft {

std::string base64_encode(ByteView bytes) {
  std::string text(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  text.resize(static_cast<std::size_t>(n));
  return text;
}

HostResult<std::vector<std::byte>> base64_decode(std::string_view text) {
  const Error bad(ErrorCode::kInvalidArgument, "not base64");
  if (text.size() % 4 != 0) return bad;
  std::vector<std::byte> bytes(text.size() / 4 * 3);
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return bad;
  // EVP_DecodeBlock counts padding as zero bytes: drop them.
  std::size_t size = static_cast<std::size_t>(n);
  if (!text.empty() && text.back() == '=') --size;
  if (text.size() >= 2 && text[text.size() - 2] == '=') --size;
  bytes.resize(size);
  return bytes;
}

}  // namespace updraft
