// SHA-1 and MD5 of a file, for protocols that still name them beside SHA-256
// (hawkBit DDI's artifact hashes and its .MD5SUM file). Never used to trust bytes:
// Updraft verifies images by SHA-256 and signatures. Host only.
#pragma once

#include <string>

#include "core/host/error.h"

namespace updraft {

struct LegacyDigests {
  std::string sha1;  // lowercase hex
  std::string md5;   // lowercase hex
};

// Reads `path` once; kIoError if it cannot be opened or read.
HostResult<LegacyDigests> legacy_digests_of_file(const std::string& path);

}  // namespace updraft
