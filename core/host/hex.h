// Lower-case hex text for bytes (hashes, key ids, secrets) and back. Host only.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/host/error.h"

namespace updraft {

std::string to_hex(ByteView bytes);

// kInvalidArgument for an odd length or a character that is not a hex digit
// (either case is accepted).
HostResult<std::vector<std::byte>> from_hex(std::string_view text);

}  // namespace updraft
