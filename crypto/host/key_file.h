// Key files for the host tools: NAME.key holds the private key (unencrypted PKCS#8
// PEM, mode 0600 from the moment it exists), NAME.pub the public key (PEM). Both are
// what `openssl pkey` reads and writes, so operators can inspect or convert them.
// Host only.
#pragma once

#include <string>

#include "core/host/error.h"
#include "crypto/host/signing_key.h"

namespace updraft {

// Writes `<name>.key` and `<name>.pub`. Never replaces an existing file: kIoError
// if either exists, leaving both untouched.
Result<void, Error> write_key_pair(const SigningKey& key, const std::string& name);

HostResult<SigningKey> load_signing_key(const std::string& path);

// A public key from a .pub file, or the public half of a .key file.
HostResult<PublicKey> load_public_key(const std::string& path);

}  // namespace updraft
