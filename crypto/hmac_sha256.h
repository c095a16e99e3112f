// HMAC-SHA256 (RFC 2104) over our SHA-256, for messages a device must authenticate
// without a TLS session: the CoAP check-ins and reports over plain UDP
// (docs/formats/coap.md). Portable; no heap. RAM: sizeof(HmacSha256) = 2 Sha256
// (208 bytes) + 64; stack < 500 bytes.
#pragma once

#include "crypto/sha256.h"

namespace updraft {

class HmacSha256 {
 public:
  // Keys longer than a block are hashed first, as RFC 2104 says.
  explicit HmacSha256(ByteView key);

  void update(ByteView data);
  // The MAC of everything passed to update(); the object is spent afterwards.
  Sha256Digest finish();

  static Sha256Digest mac(ByteView key, ByteView data);

 private:
  Sha256 inner_;
  Sha256 outer_;
};

}  // namespace updraft
