// Key ids as people see them: 16 hex digits, printed by `updraft keygen` and taken
// by `updraft root create --revoke`. Host only.
#pragma once

#include <string>

#include "core/host/error.h"
#include "crypto/host/signing_key.h"
#include "manifest/key_id.h"

namespace updraft::manifest {

KeyId key_id_of(const PublicKey& key);

// "0123456789abcdef"
std::string key_id_hex(const KeyId& id);

// kInvalidArgument unless `text` is exactly 16 hex digits (either case).
HostResult<KeyId> parse_key_id_hex(const std::string& text);

}  // namespace updraft::manifest
