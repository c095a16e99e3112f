// Arguments the metadata commands share (sign, root, verify, manifest): times,
// nonces, key files, and the text forms they print. Host only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/host/error.h"
#include "crypto/host/signing_key.h"

namespace updraft::cli {

std::uint64_t unix_now();

// A point in time: unix seconds ("1767225600"), an offset from `now` ("+300",
// "+30m", "+12h", "+7d"), or UTC RFC 3339 ("2026-01-01T00:00:00Z").
// kInvalidArgument, naming `option`, for anything else.
HostResult<std::uint64_t> parse_time(const std::string& text, std::uint64_t now,
                                     const std::string& option);

// "2026-01-01T00:00:00Z"
std::string format_time(std::uint64_t unix_seconds);

// A 64-bit number in decimal or 0x-prefixed hex.
HostResult<std::uint64_t> parse_u64(const std::string& text, const std::string& option);

// Private keys from PEM files, in order.
HostResult<std::vector<SigningKey>> load_signing_keys(const std::vector<std::string>& paths);

// Pointers to `keys`, the form the signer takes.
std::vector<const SigningKey*> pointers(const std::vector<SigningKey>& keys);

}  // namespace updraft::cli
