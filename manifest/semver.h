// Semantic versions (semver.org 2.0.0) as manifests carry them:
// MAJOR.MINOR.PATCH, an optional -pre.release and an optional +build. Precedence is
// semver's section 11: numbers compare numerically, a pre-release sorts before its
// release, pre-release identifiers compare numerically or in ASCII order, numeric
// ones lower; build metadata takes no part. Portable; views into the parsed text.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/result.h"

namespace updraft::manifest {

struct SemVer {
  std::uint32_t major = 0;
  std::uint32_t minor = 0;
  std::uint32_t patch = 0;
  std::string_view pre_release;  // without the '-'; empty for a release
  std::string_view build;        // without the '+'; ignored by compare()
};

// kManifestMalformed unless `text` is a semantic version whose numbers fit 32 bits.
// The result points into `text`.
Result<SemVer> parse_semver(std::string_view text);

// Negative, zero or positive as `a` has lower, equal or higher precedence than `b`.
int compare(const SemVer& a, const SemVer& b);

}  // namespace updraft::manifest
