#include "manifest/envelope.h"

#include <algorithm>

#include "manifest/byte_reader.h"

namespace updraft::manifest {

Result<void> parse_envelope(ByteView bytes, const Magic& magic, std::size_t max_signatures,
                            Envelope& envelope) {
  ByteReader reader(bytes);
  UPDRAFT_TRY_ASSIGN(const ByteView found_magic, reader.bytes(magic.size()));
  if (!std::equal(found_magic.begin(), found_magic.end(), magic.begin()))
    return ErrorCode::kManifestMalformed;
  UPDRAFT_TRY_ASSIGN(const std::uint8_t version, reader.u8());
  UPDRAFT_TRY_ASSIGN(const std::uint8_t reserved, reader.u8());
  if (version != kFormatVersion || reserved != 0) return ErrorCode::kManifestMalformed;
  UPDRAFT_TRY_ASSIGN(const std::uint16_t body_size, reader.u16());

  UPDRAFT_TRY_ASSIGN(envelope.body, reader.bytes(body_size));
  envelope.signed_region = bytes.first(kHeaderSize + body_size);

  UPDRAFT_TRY_ASSIGN(const std::uint8_t count, reader.u8());
  if (count > max_signatures || count > kMaxSignatures) return ErrorCode::kManifestMalformed;
  for (std::size_t i = 0; i < count; ++i) {
    SignatureEntry& entry = envelope.signatures.entries[i];
    UPDRAFT_TRY_ASSIGN(entry.key_id, reader.array<kKeyIdSize>());
    UPDRAFT_TRY_ASSIGN(const std::uint8_t algorithm, reader.u8());
    entry.algorithm = static_cast<SignatureAlgorithm>(algorithm);
    // The algorithm fixes the signature's size; an unknown one has none.
    const std::size_t size = signature_size(entry.algorithm);
    if (size == 0) return ErrorCode::kManifestMalformed;
    UPDRAFT_TRY_ASSIGN(entry.signature, reader.bytes(size));
    for (std::size_t j = 0; j < i; ++j) {
      if (envelope.signatures.entries[j].key_id == entry.key_id)
        return ErrorCode::kManifestMalformed;
    }
  }
  // Exactly the declared signatures and nothing after them: trailing bytes would be
  // unsigned data a careless reader might trust.
  if (reader.remaining() != 0) return ErrorCode::kManifestMalformed;
  envelope.signatures.count = count;
  return ok_result();
}

}  // namespace updraft::manifest
