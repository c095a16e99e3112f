// Text the server stores must be UTF-8: every answer is JSON, and nlohmann::json
// refuses to write anything else, so one stored bad byte (a release note sent as
// Latin-1, say) would break every list that includes it. JSON bodies are checked by
// their parser; text from query strings and paths is checked here before storing.
#pragma once

#include <string_view>

#include "core/host/error.h"

namespace updraft::server {

// Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past
// U+10FFFF, no truncated sequence.
bool valid_utf8(std::string_view text);

// kApiBadRequest "<field>: not valid UTF-8" unless `text` is.
HostResult<void> require_utf8(std::string_view field, std::string_view text);

// The longest prefix of well-formed `text` of at most `max_bytes` that does not
// cut a character in two (a cut character would make the stored text invalid).
std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes);

}  // namespace updraft::server
