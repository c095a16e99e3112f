// The signatures Mender clients and tools make, checked with OpenSSL: a device's
// X-MEN-Signature over its authentication request, and mender-artifact's
// manifest.sig. Keys are PEM public keys ("-----BEGIN PUBLIC KEY-----"):
//   RSA (2048 bits or more)  PKCS#1 v1.5 over SHA-256
//   ECDSA P-256/P-384/P-521  over SHA-256; the signature DER or r || s
//   Ed25519                  over the message itself
// Host only.
#pragma once

#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/host/error.h"

namespace updraft::server::mender {

// The key's kind ("rsa", "ecdsa", "ed25519"); kApiBadRequest naming what is wrong
// with a text that is no public key of those kinds.
HostResult<std::string> public_key_kind(std::string_view pem);

// The key as OpenSSL writes it (PEM, one trailing newline): the same key however
// it was wrapped or ended, so that sets compare keys by what they are.
// Errors as public_key_kind.
HostResult<std::string> canonical_public_key(std::string_view pem);

// Ok when `signature` is `pem`'s over `message`; kSignatureInvalid when not;
// kApiBadRequest for a key public_key_kind refuses.
HostResult<void> verify_signature(std::string_view pem, ByteView message, ByteView signature);

}  // namespace updraft::server::mender
