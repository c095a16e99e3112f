// The host diff engine: old image + new image -> Updraft patch (docs/formats/patch.md).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/host/error.h"
#include "delta/format/host/firmware_file.h"
#include "delta/format/patch_format.h"
#include "delta/format/reloc.h"

namespace updraft::delta {

struct DiffOptions {
  Profile profile = Profile::kLinux;
  // 2 codes with the best of the profile's version 2 shapes; 1 writes a patch a
  // version 1 patcher (agents built before format 2) can apply.
  std::uint8_t format_version = kFormatVersion;
  // Codes with this one shape instead of trying the profile's (tests, experiments).
  std::optional<ModelParams> params;
  // Relocation prediction (format 2): unset detects Thumb-2 from a Cortex-M vector
  // table at the start of the old image; the encoder keeps it only where it pays.
  std::optional<Arch> arch;
  // Called with (stage, done, total); stages are "index", "match", "encode".
  std::function<void(const char* stage, std::uint64_t done, std::uint64_t total)> progress;
  // When set and it turns true, make_patch() gives up with kCanceled within a
  // slice of work (64 KiB of matching, one frame of coding): a server shutting
  // down never waits for a whole build. The suffix sort is the one stretch it
  // cannot cut short.
  const std::atomic<bool>* cancel = nullptr;
  // Called with stretches of the new image that make_patch() has read and will
  // not read again soon: each pass (hash, match, code) walks it in order. A
  // caller that mapped the file drops those pages (MappedFile::release), so a
  // rootfs diff holds the old image and a window of the new, not both whole.
  std::function<void(ByteView)> release_new;
};

struct DiffStats {
  std::uint32_t covers = 0;
  std::uint32_t ops = 0;
  std::uint64_t copied_bytes = 0;   // new bytes coded as old + diff
  std::uint64_t literal_bytes = 0;  // new bytes coded as literals
  std::uint32_t shapes_tried = 0;   // codings tried to find the smallest (shape, map or none)
  Arch arch = Arch::kNone;          // relocation prediction in the patch kept
  std::uint32_t reloc_base = 0;     // the load address it assumed
  std::uint32_t reloc_entries = 0;  // layout-map entries the patch carries
};

// The model shapes make_patch() tries for `profile`, each within its workspace limit;
// `with_map` adds those only worth trying with a relocation map (small models).
std::vector<ModelParams> candidate_params(Profile profile, std::uint8_t format_version,
                                          bool with_map = true);

// Fails with kPatchInputTooLarge beyond the format's 2 GiB limit.
HostResult<std::vector<std::byte>> make_patch(ByteView old_image, ByteView new_image,
                                              const DiffOptions& options,
                                              DiffStats* stats = nullptr);

// A segmented patch (format 2; docs/formats/patch.md): the layout block naming both
// images' load segments and addresses, then make_patch() of their bytes laid end to
// end. For Intel HEX and ELF inputs, whose flash layout need not be contiguous.
HostResult<std::vector<std::byte>> make_segmented_patch(const FirmwareImage& old_image,
                                                        const FirmwareImage& new_image,
                                                        const DiffOptions& options,
                                                        DiffStats* stats = nullptr);

}  // namespace updraft::delta
