#include "crypto/hmac_sha256.h"

#include <array>

namespace updraft {

HmacSha256::HmacSha256(ByteView key) {
  std::array<std::byte, Sha256::kBlockSize> block{};
  if (key.size() > block.size()) {
    const Sha256Digest hashed = Sha256::digest(key);
    std::copy(hashed.begin(), hashed.end(), block.begin());
  } else {
    std::copy(key.begin(), key.end(), block.begin());
  }
  std::array<std::byte, Sha256::kBlockSize> pad{};
  for (std::size_t i = 0; i < block.size(); ++i) pad[i] = block[i] ^ std::byte{0x36};
  inner_.update(pad);
  for (std::size_t i = 0; i < block.size(); ++i) pad[i] = block[i] ^ std::byte{0x5c};
  outer_.update(pad);
}

void HmacSha256::update(ByteView data) { inner_.update(data); }

Sha256Digest HmacSha256::finish() {
  const Sha256Digest inner = inner_.finish();
  outer_.update(inner);
  return outer_.finish();
}

Sha256Digest HmacSha256::mac(ByteView key, ByteView data) {
  HmacSha256 h(key);
  h.update(data);
  return h.finish();
}

}  // namespace updraft
