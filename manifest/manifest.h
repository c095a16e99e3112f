// A release manifest: what an update installs and for whom, signed by release keys
// (docs/formats/manifest.md). Portable: parse_manifest() fills a fixed-size struct
// the caller provides, no heap. The struct points into the bytes it was parsed from
// (text, signatures, signed region), so those bytes must outlive it.
// RAM (Cortex-M4, -Os): sizeof(Manifest) = 424 bytes, most of it the signature and
// hardware tables; parse_manifest() needs < 800 bytes of stack.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/sha256.h"
#include "manifest/envelope.h"
#include "manifest/manifest_format.h"
#include "manifest/semver.h"

namespace updraft::manifest {

// What a device downloads for an update. The numbers are kept in the agent's
// download journal (docs/formats/journal.md): never renumber.
enum class ArtifactKind : std::uint8_t {
  kFullImage = 1,  // the image itself: image size and hash
  kPatch = 2,      // a delta's patch: patch size and hash
};

// For a delta: the exact image it applies to, and the patch a device downloads.
struct DeltaInfo {
  Sha256Digest source_hash{};
  std::uint32_t patch_size = 0;
  Sha256Digest patch_hash{};

  bool operator==(const DeltaInfo&) const = default;
};

// For a check-in answer: when it stops being valid, and the nonce the device sent.
struct Freshness {
  std::uint64_t expires = 0;  // unix seconds; valid while now < expires
  std::uint64_t nonce = 0;

  bool operator==(const Freshness&) const = default;
};

struct Manifest {
  std::string_view product;
  std::array<std::string_view, kMaxHardwareIds> hardware{};
  std::size_t hardware_count = 0;
  std::string_view version_text;
  SemVer version;
  std::uint32_t security_counter = 0;
  bool allow_downgrade = false;
  std::uint32_t image_size = 0;
  Sha256Digest image_hash{};
  bool is_delta = false;
  DeltaInfo delta;  // when is_delta
  bool is_check_in = false;
  Freshness freshness;  // when is_check_in

  ByteView signed_region;
  SignatureList signatures;
};

// Parses and checks the structure of a signed manifest: every length, the limits of
// manifest_format.h, text that is printable ASCII, a semantic version, no duplicate
// hardware id, no unknown flag, nothing after the last signature. kManifestMalformed
// otherwise, and `out` is then unspecified. Signatures are not verified here (see
// manifest/verifier.h). Fills `out` in place rather than returning it, to keep a
// second copy off a small device's stack.
Result<void> parse_manifest(ByteView bytes, Manifest& out);

// True when `text` is a valid product or hardware id of at most `max_size` bytes:
// printable ASCII without spaces.
bool valid_id_text(std::string_view text, std::size_t max_size);

}  // namespace updraft::manifest
