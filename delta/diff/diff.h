// The host diff engine: old image + new image -> Updraft patch (docs/formats/patch.md).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/host/error.h"
#include "delta/format/patch_format.h"

namespace updraft::delta {

struct DiffOptions {
  Profile profile = Profile::kLinux;
  // 2 codes with the best of the profile's version 2 shapes; 1 writes a patch a
  // version 1 patcher (agents built before format 2) can apply.
  std::uint8_t format_version = kFormatVersion;
  // Codes with this one shape instead of trying the profile's (tests, experiments).
  std::optional<ModelParams> params;
  // Called with (stage, done, total); stages are "index", "match", "encode".
  std::function<void(const char* stage, std::uint64_t done, std::uint64_t total)> progress;
};

struct DiffStats {
  std::uint32_t covers = 0;
  std::uint32_t ops = 0;
  std::uint64_t copied_bytes = 0;   // new bytes coded as old + diff
  std::uint64_t literal_bytes = 0;  // new bytes coded as literals
  std::uint32_t shapes_tried = 0;   // model shapes coded to find the smallest
};

// The model shapes make_patch() tries for `profile`, each within its workspace limit.
std::vector<ModelParams> candidate_params(Profile profile, std::uint8_t format_version);

// Fails with kPatchInputTooLarge beyond the format's 2 GiB limit.
HostResult<std::vector<std::byte>> make_patch(ByteView old_image, ByteView new_image,
                                              const DiffOptions& options,
                                              DiffStats* stats = nullptr);

}  // namespace updraft::delta
