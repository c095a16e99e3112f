// Base64 (RFC 4648, with padding) through OpenSSL, for binary fields in JSON:
// signed manifests in check-in answers, root metadata. Host only.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/host/error.h"

namespace updraft {

std::string base64_encode(ByteView bytes);

// kInvalidArgument for text that is not padded base64.
HostResult<std::vector<std::byte>> base64_decode(std::string_view text);

}  // namespace updraft
