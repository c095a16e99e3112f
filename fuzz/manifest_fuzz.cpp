// Fuzz target for the manifest and root metadata parsers and the verifier behind
// them. Property, checked on every input (abort() otherwise):
//   - each parser either refuses the bytes with a 2xx code, or its result encodes
//     back to exactly the input (one encoding per meaning; nothing unparsed);
//   - no input parses as both a manifest and a root;
//   - a parsed manifest's verification against the fixed trust
//     (manifest_fuzz_trust.h) ends in success or a 2xx code, and success means the
//     manifest is for the fuzz device: product, hardware listed, fresh, its nonce,
//     counter and version not below the device's, the right delta source;
//   - a parsed root either is refused as a rotation of root v1 with a 2xx code, or
//     is version 2.
// Built as a libFuzzer binary with UPDRAFT_FUZZ, else into manifest_fuzz_replay,
// which runs the seed corpus in the normal test run (see README.md).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "crypto/host/openssl_verifier.h"
#include "fuzz/manifest_fuzz_trust.h"
#include "manifest/host/manifest_builder.h"
#include "manifest/host/root_builder.h"
#include "manifest/host/signer.h"
#include "manifest/verifier.h"

namespace updraft::manifest {
namespace {

void check(bool holds, const char* property) {
  if (!holds) {
    std::fprintf(stderr, "manifest_fuzz: property violated: %s\n", property);
    std::abort();
  }
}

bool is_manifest_error(ErrorCode code) {
  return error_number(code) >= 200 && error_number(code) < 300;
}

bool same_bytes(HostResult<std::vector<std::byte>> region, const SignatureList& signatures,
                ByteView input) {
  if (!region.ok()) return false;
  std::vector<std::byte> out = std::move(region).value();
  const std::vector<std::byte> block = encode_signatures(signatures);
  out.insert(out.end(), block.begin(), block.end());
  return out.size() == input.size() && std::equal(out.begin(), out.end(), input.begin());
}

void check_accepted(const Manifest& m, const fuzz::Trust& t) {
  check(m.product == t.device.product, "accepted a manifest for another product");
  check(check_hardware(m, t.device.hardware).ok(), "accepted a manifest for other hardware");
  check(m.is_check_in && m.freshness.nonce == t.check_in.nonce,
        "accepted an answer without this check-in's nonce");
  check(t.check_in.now < m.freshness.expires, "accepted an expired answer");
  check(m.security_counter >= t.device.security_counter, "accepted a lower security counter");
  check(m.allow_downgrade || compare(m.version, t.device.installed_version) >= 0,
        "accepted a downgrade");
  check(!m.is_delta || m.delta.source_hash == t.device.running_image_hash,
        "accepted a delta for another source");
}

}  // namespace
}  // namespace updraft::manifest

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace updraft;
  using namespace updraft::manifest;
  const ByteView input(reinterpret_cast<const std::byte*>(data), size);
  const fuzz::Trust& t = fuzz::trust();
  OpenSslVerifier verifier;

  Manifest m;
  const Result<void> as_manifest = parse_manifest(input, m);
  if (as_manifest.ok()) {
    check(same_bytes(encode_manifest(manifest_spec_of(m)), m.signatures, input),
          "manifest does not re-encode");
    const Result<void> verdict = verify_manifest(m, t.root_v1, verifier, t.device, t.check_in);
    check(verdict.ok() || is_manifest_error(verdict.error()),
          "manifest verification failed with a non-2xx code");
    if (verdict.ok()) check_accepted(m, t);
  } else {
    check(is_manifest_error(as_manifest.error()), "manifest parser failed with a non-2xx code");
  }

  RootMetadata root;
  const Result<void> as_root = parse_root(input, root);
  if (as_root.ok()) {
    check(!as_manifest.ok(), "bytes parse as both a manifest and a root");
    check(same_bytes(encode_root(root_spec_of(root)), root.signatures, input),
          "root does not re-encode");
    const Result<void> verdict = verify_root_rotation(t.root_v1, root, verifier);
    check(verdict.ok() || is_manifest_error(verdict.error()),
          "root rotation failed with a non-2xx code");
    if (verdict.ok()) check(root.version == 2, "accepted a rotation to a version other than 2");
  } else {
    check(is_manifest_error(as_root.error()), "root parser failed with a non-2xx code");
  }
  return 0;
}
