// Builds release manifests on the host: a ManifestSpec (owned strings, the fields of
// docs/formats/manifest.md) becomes the signed region that release keys sign
// (manifest/host/signer.h). The inverse, manifest_spec_of(), turns a parsed
// manifest back into a spec, so build -> parse -> spec is a round trip. Host only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/host/error.h"
#include "crypto/sha256.h"
#include "manifest/manifest.h"

namespace updraft::manifest {

struct ManifestSpec {
  std::string product;
  std::vector<std::string> hardware;
  std::string version;
  std::uint32_t security_counter = 0;
  bool allow_downgrade = false;
  std::uint32_t image_size = 0;
  Sha256Digest image_hash{};
  std::optional<DeltaInfo> delta;
  std::optional<Freshness> check_in;

  bool operator==(const ManifestSpec&) const = default;
};

// Header + body, ready to sign. kInvalidArgument, naming the field, for anything a
// device would refuse as malformed (empty or overlong ids, too many hardware ids,
// a version that is not semver, ...).
HostResult<std::vector<std::byte>> encode_manifest(const ManifestSpec& spec);

ManifestSpec manifest_spec_of(const Manifest& manifest);

// Host convenience: the parsed manifest by value (a device fills its own struct).
inline Result<Manifest> parse_manifest(ByteView bytes) {
  Manifest m;
  UPDRAFT_TRY(parse_manifest(bytes, m));
  return m;
}

}  // namespace updraft::manifest
