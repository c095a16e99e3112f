#include "manifest/host/signer.h"

#include <algorithm>

#include "manifest/host/byte_writer.h"
#include "manifest/host/key_ids.h"

namespace updraft::manifest {

Result<MetadataKind> metadata_kind(ByteView bytes) {
  if (bytes.size() >= kManifestMagic.size()) {
    if (std::equal(kManifestMagic.begin(), kManifestMagic.end(), bytes.begin()))
      return MetadataKind::kManifest;
    if (std::equal(kRootMagic.begin(), kRootMagic.end(), bytes.begin())) return MetadataKind::kRoot;
  }
  return ErrorCode::kManifestMalformed;
}

HostResult<std::vector<std::byte>> sign_metadata(ByteView signed_region,
                                                 const std::vector<const SigningKey*>& keys) {
  std::vector<std::byte> out(signed_region.begin(), signed_region.end());
  out.push_back(std::byte{0});  // no signatures yet
  for (const SigningKey* key : keys) {
    UPDRAFT_TRY_ASSIGN(out, add_signature(out, *key));
  }
  return out;
}

HostResult<std::vector<std::byte>> add_signature(ByteView metadata, const SigningKey& key) {
  UPDRAFT_TRY_ASSIGN(const MetadataKind kind, metadata_kind(metadata));
  const bool is_root = kind == MetadataKind::kRoot;
  const std::size_t max_signatures = is_root ? kMaxRootSignatures : kMaxManifestSignatures;
  Envelope envelope;
  if (Result<void> parsed =
          parse_envelope(metadata, is_root ? kRootMagic : kManifestMagic, max_signatures, envelope);
      !parsed.ok()) {
    return Error(parsed.error(), "cannot add a signature: the file does not parse");
  }

  SignatureEntry entry;
  entry.key_id = key_id_of(key.public_key());
  entry.algorithm = key.algorithm();
  for (const SignatureEntry& existing : envelope.signatures.view()) {
    if (existing.key_id == entry.key_id) {
      return Error(ErrorCode::kInvalidArgument,
                   "already signed by key " + key_id_hex(entry.key_id));
    }
  }
  if (envelope.signatures.count >= max_signatures) {
    return Error(ErrorCode::kInvalidArgument, "already carries the most signatures allowed (" +
                                                  std::to_string(max_signatures) + ")");
  }
  UPDRAFT_TRY_ASSIGN(const std::vector<std::byte> signature, key.sign(envelope.signed_region));
  entry.signature = signature;

  SignatureList signatures = envelope.signatures;
  signatures.entries[signatures.count++] = entry;
  std::vector<std::byte> out(envelope.signed_region.begin(), envelope.signed_region.end());
  const std::vector<std::byte> block = encode_signatures(signatures);
  out.insert(out.end(), block.begin(), block.end());
  // Only a manifest can outgrow its limit (roots have room for eight RSA-3072
  // signatures); a device would refuse it as malformed.
  if (!is_root && out.size() > kMaxManifestSize) {
    return Error(ErrorCode::kInvalidArgument,
                 "a manifest is at most " + std::to_string(kMaxManifestSize) +
                     " bytes (a device's check-in buffer); with this " +
                     std::to_string(signature.size()) + "-byte signature it would be " +
                     std::to_string(out.size()));
  }
  return out;
}

std::vector<std::byte> encode_signatures(const SignatureList& signatures) {
  ByteWriter w;
  w.u8(static_cast<std::uint8_t>(signatures.count));
  for (const SignatureEntry& s : signatures.view()) {
    w.bytes(s.key_id);
    w.u8(static_cast<std::uint8_t>(s.algorithm));
    w.bytes(s.signature);
  }
  return w.data();
}

}  // namespace updraft::manifest
