#include "manifest/host/manifest_builder.h"

#include "manifest/host/byte_writer.h"

namespace updraft::manifest {
namespace {

Result<void, Error> check_id(const std::string& field, const std::string& text,
                             std::size_t max_size) {
  if (!valid_id_text(text, max_size)) {
    return Error(ErrorCode::kInvalidArgument, field + " \"" + text + "\" must be 1 to " +
                                                  std::to_string(max_size) +
                                                  " printable ASCII characters without spaces");
  }
  return {};
}

Result<void, Error> check_spec(const ManifestSpec& spec) {
  UPDRAFT_TRY(check_id("product", spec.product, kMaxProductSize));
  if (spec.hardware.empty() || spec.hardware.size() > kMaxHardwareIds) {
    return Error(ErrorCode::kInvalidArgument,
                 "a manifest lists 1 to " + std::to_string(kMaxHardwareIds) + " hardware ids");
  }
  for (std::size_t i = 0; i < spec.hardware.size(); ++i) {
    UPDRAFT_TRY(check_id("hardware id", spec.hardware[i], kMaxHardwareIdSize));
    for (std::size_t j = 0; j < i; ++j) {
      if (spec.hardware[i] == spec.hardware[j]) {
        return Error(ErrorCode::kInvalidArgument,
                     "hardware id \"" + spec.hardware[i] + "\" is listed twice");
      }
    }
  }
  if (spec.version.size() > kMaxVersionSize || !parse_semver(spec.version).ok()) {
    return Error(ErrorCode::kInvalidArgument,
                 "version \"" + spec.version + "\" must be a semantic version (1.2.3, " +
                     "1.2.3-rc.1) of at most " + std::to_string(kMaxVersionSize) + " characters");
  }
  return {};
}

}  // namespace

HostResult<std::vector<std::byte>> encode_manifest(const ManifestSpec& spec) {
  UPDRAFT_TRY(check_spec(spec));
  ByteWriter body;
  body.text(spec.product);
  body.u8(static_cast<std::uint8_t>(spec.hardware.size()));
  for (const std::string& id : spec.hardware) body.text(id);
  body.text(spec.version);
  body.u32(spec.security_counter);
  std::uint8_t flags = 0;
  if (spec.delta) flags |= kFlagDelta;
  if (spec.check_in) flags |= kFlagCheckIn;
  if (spec.allow_downgrade) flags |= kFlagAllowDowngrade;
  body.u8(flags);
  body.u32(spec.image_size);
  body.bytes(spec.image_hash);
  if (spec.delta) {
    body.bytes(spec.delta->source_hash);
    body.u32(spec.delta->patch_size);
    body.bytes(spec.delta->patch_hash);
  }
  if (spec.check_in) {
    body.u64(spec.check_in->expires);
    body.u64(spec.check_in->nonce);
  }
  std::vector<std::byte> out = envelope_header(kManifestMagic, body.size());
  out.insert(out.end(), body.data().begin(), body.data().end());

  // The device's parser has the last word: what it would refuse is never signed.
  std::vector<std::byte> unsigned_manifest = out;
  unsigned_manifest.push_back(std::byte{0});
  if (!parse_manifest(unsigned_manifest).ok()) {
    return Error(ErrorCode::kInternal, "built a manifest the parser refuses");
  }
  return out;
}

ManifestSpec manifest_spec_of(const Manifest& m) {
  ManifestSpec spec;
  spec.product = std::string(m.product);
  for (std::size_t i = 0; i < m.hardware_count; ++i) spec.hardware.emplace_back(m.hardware[i]);
  spec.version = std::string(m.version_text);
  spec.security_counter = m.security_counter;
  spec.allow_downgrade = m.allow_downgrade;
  spec.image_size = m.image_size;
  spec.image_hash = m.image_hash;
  if (m.is_delta) spec.delta = m.delta;
  if (m.is_check_in) spec.check_in = m.freshness;
  return spec;
}

}  // namespace updraft::manifest
