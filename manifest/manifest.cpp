#include "manifest/manifest.h"

#include "manifest/byte_reader.h"

namespace updraft::manifest {
namespace {

std::string_view as_text(ByteView bytes) {
  return std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// A length-prefixed id: 1..max_size printable bytes.
Result<std::string_view> read_id(ByteReader& reader, std::size_t max_size) {
  UPDRAFT_TRY_ASSIGN(const std::uint8_t size, reader.u8());
  UPDRAFT_TRY_ASSIGN(const ByteView bytes, reader.bytes(size));
  const std::string_view text = as_text(bytes);
  if (!valid_id_text(text, max_size)) return ErrorCode::kManifestMalformed;
  return text;
}

Result<void> parse_body(ByteView body, Manifest& m) {
  ByteReader reader(body);
  UPDRAFT_TRY_ASSIGN(m.product, read_id(reader, kMaxProductSize));

  UPDRAFT_TRY_ASSIGN(const std::uint8_t hardware_count, reader.u8());
  if (hardware_count == 0 || hardware_count > kMaxHardwareIds) return ErrorCode::kManifestMalformed;
  for (std::size_t i = 0; i < hardware_count; ++i) {
    UPDRAFT_TRY_ASSIGN(m.hardware[i], read_id(reader, kMaxHardwareIdSize));
    for (std::size_t j = 0; j < i; ++j) {
      if (m.hardware[j] == m.hardware[i]) return ErrorCode::kManifestMalformed;
    }
  }
  m.hardware_count = hardware_count;
  for (std::size_t i = hardware_count; i < kMaxHardwareIds; ++i) m.hardware[i] = {};

  UPDRAFT_TRY_ASSIGN(const std::uint8_t version_size, reader.u8());
  if (version_size > kMaxVersionSize) return ErrorCode::kManifestMalformed;
  UPDRAFT_TRY_ASSIGN(const ByteView version, reader.bytes(version_size));
  m.version_text = as_text(version);
  UPDRAFT_TRY_ASSIGN(m.version, parse_semver(m.version_text));

  UPDRAFT_TRY_ASSIGN(m.security_counter, reader.u32());
  UPDRAFT_TRY_ASSIGN(const std::uint8_t flags, reader.u8());
  if ((flags & ~kKnownFlags) != 0) return ErrorCode::kManifestMalformed;
  m.is_delta = (flags & kFlagDelta) != 0;
  m.is_check_in = (flags & kFlagCheckIn) != 0;
  m.allow_downgrade = (flags & kFlagAllowDowngrade) != 0;

  UPDRAFT_TRY_ASSIGN(m.image_size, reader.u32());
  UPDRAFT_TRY_ASSIGN(m.image_hash, reader.array<32>());
  m.delta = DeltaInfo{};
  if (m.is_delta) {
    UPDRAFT_TRY_ASSIGN(m.delta.source_hash, reader.array<32>());
    UPDRAFT_TRY_ASSIGN(m.delta.patch_size, reader.u32());
    UPDRAFT_TRY_ASSIGN(m.delta.patch_hash, reader.array<32>());
  }
  m.freshness = Freshness{};
  if (m.is_check_in) {
    UPDRAFT_TRY_ASSIGN(m.freshness.expires, reader.u64());
    UPDRAFT_TRY_ASSIGN(m.freshness.nonce, reader.u64());
  }
  // One encoding per manifest: bytes left over would make two different files
  // carry the same meaning, and the signed bytes something nobody reads.
  if (reader.remaining() != 0) return ErrorCode::kManifestMalformed;
  return ok_result();
}

}  // namespace

bool valid_id_text(std::string_view text, std::size_t max_size) {
  if (text.empty() || text.size() > max_size) return false;
  for (char c : text) {
    if (c < 0x21 || c > 0x7E) return false;
  }
  return true;
}

Result<void> parse_manifest(ByteView bytes, Manifest& out) {
  if (bytes.size() > kMaxManifestSize) return ErrorCode::kManifestMalformed;
  Envelope envelope;
  UPDRAFT_TRY(parse_envelope(bytes, kManifestMagic, kMaxManifestSignatures, envelope));
  UPDRAFT_TRY(parse_body(envelope.body, out));
  out.signed_region = envelope.signed_region;
  out.signatures = envelope.signatures;
  return ok_result();
}

}  // namespace updraft::manifest
