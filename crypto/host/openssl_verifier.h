// The host's SignatureVerifier: Ed25519, ECDSA P-256 and RSA-2048/3072 PSS through
// OpenSSL 3. Host only.
// Stateless: one object serves any number of verifications, from any thread.
#pragma once

#include "crypto/signature_verifier.h"

namespace updraft {

class OpenSslVerifier final : public SignatureVerifier {
 public:
  Result<void> verify(SignatureAlgorithm algorithm, ByteView public_key, ByteView message,
                      ByteView signature) override;
};

}  // namespace updraft
