// The envelope both metadata kinds share: a header naming the kind, the body, and
// the signatures over header + body (docs/formats/manifest.md, "Envelope").
// Portable; the parsed envelope points into the bytes it came from.
#pragma once

#include <array>
#include <cstddef>
#include <span>

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/signature_verifier.h"
#include "manifest/key_id.h"
#include "manifest/manifest_format.h"

namespace updraft::manifest {

struct SignatureEntry {
  KeyId key_id{};
  SignatureAlgorithm algorithm = SignatureAlgorithm::kEd25519;
  ByteView signature;  // signature_size(algorithm) bytes
};

struct SignatureList {
  std::array<SignatureEntry, kMaxSignatures> entries{};
  std::size_t count = 0;

  std::span<const SignatureEntry> view() const {
    return std::span<const SignatureEntry>(entries.data(), count);
  }
};

struct Envelope {
  ByteView signed_region;  // header + body: what every signature covers
  ByteView body;
  SignatureList signatures;
};

// Splits `bytes` into its parts, in `out`. kManifestMalformed for another magic or
// format version, a nonzero reserved byte, a length that disagrees with the size of
// `bytes`, more than `max_signatures` signatures, an algorithm value that names no
// algorithm, or two signatures with one key id (each key counts once toward a
// threshold); `out` is then unspecified. Signatures are not verified here.
Result<void> parse_envelope(ByteView bytes, const Magic& magic, std::size_t max_signatures,
                            Envelope& out);

}  // namespace updraft::manifest
