// Signs manifests and root metadata on the host: appends signature entries
// (key id | algorithm | signature) over the signed region. Signing is separate from
// building so that the holders of a root threshold can each add a signature on
// their own machine (`updraft root sign`). Host only.
#pragma once

#include <vector>

#include "core/bytes.h"
#include "core/host/error.h"
#include "crypto/host/signing_key.h"
#include "manifest/envelope.h"

namespace updraft::manifest {

enum class MetadataKind { kManifest, kRoot };

// The kind `bytes` holds, from its magic; kManifestMalformed for neither.
Result<MetadataKind> metadata_kind(ByteView bytes);

// `signed_region` (from encode_manifest() or encode_root()) with a signature by each
// of `keys`, in order.
HostResult<std::vector<std::byte>> sign_metadata(ByteView signed_region,
                                                 const std::vector<const SigningKey*>& keys);

// `metadata` (signed or not yet) with one more signature, by `key`. The existing
// signatures are kept, not checked. kInvalidArgument when `key` signed it already,
// the kind's signature limit is reached, or a manifest would pass kMaxManifestSize;
// kManifestMalformed for bytes that do not parse.
HostResult<std::vector<std::byte>> add_signature(ByteView metadata, const SigningKey& key);

// The signature block as it is stored: count, then the entries. With the signed
// region it gives back the exact bytes a list was parsed from.
std::vector<std::byte> encode_signatures(const SignatureList& signatures);

}  // namespace updraft::manifest
