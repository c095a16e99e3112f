// Writes the seed corpus of manifest_fuzz: manifests and root metadata signed with
// the fixed test keys of manifest_fuzz_trust.h. Seeds named valid_* pass every check
// of the fuzz device; the others each fail one, so the corpus starts out covering
// the acceptance path and the rejections.
//   make_manifest_fuzz_seeds DIR           regenerate the seeds into DIR
//   make_manifest_fuzz_seeds --check DIR   fail unless every seed still parses and
//                                          still passes or fails as its name says
//                                          (regression_* files are left to the replay)
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "core/host/file.h"
#include "crypto/host/openssl_verifier.h"
#include "fuzz/manifest_fuzz_trust.h"
#include "manifest/host/key_ids.h"
#include "manifest/host/manifest_builder.h"

namespace updraft::manifest {
namespace {

using Bytes = std::vector<std::byte>;

struct Seed {
  std::string name;
  Bytes bytes;
};

Bytes must(HostResult<Bytes> bytes) {
  if (!bytes.ok()) {
    std::fprintf(stderr, "make_manifest_fuzz_seeds: %s\n", bytes.error().to_string().c_str());
    std::exit(1);
  }
  return std::move(bytes).value();
}

// A check-in answer the fuzz device accepts: full image, Ed25519 release key.
ManifestSpec answer() {
  ManifestSpec spec;
  spec.product = fuzz::kProduct;
  spec.hardware = {"fuzz-board-a", fuzz::kHardware};
  spec.version = "1.5.0";
  spec.security_counter = fuzz::kCounter;
  spec.image_size = 4096;
  spec.image_hash = Sha256::digest(as_bytes_view("new image", 9));
  spec.check_in = Freshness{fuzz::kNow + 600, fuzz::kNonce};
  return spec;
}

Bytes manifest(const ManifestSpec& spec, const std::vector<const SigningKey*>& keys) {
  return must(sign_metadata(must(encode_manifest(spec)), keys));
}

std::vector<Seed> seeds() {
  const fuzz::Trust& t = fuzz::trust();
  std::vector<Seed> out;

  out.push_back({"valid_full", manifest(answer(), {&t.release})});
  ManifestSpec delta = answer();
  delta.delta =
      DeltaInfo{t.device.running_image_hash, 700, Sha256::digest(as_bytes_view("patch", 5))};
  out.push_back({"valid_delta_p256", manifest(delta, {&t.release_p256})});
  ManifestSpec downgrade = answer();
  downgrade.version = "1.3.9-rc.1+build.5";
  downgrade.allow_downgrade = true;
  out.push_back(
      {"valid_downgrade_two_signatures", manifest(downgrade, {&t.release, &t.release_p256})});
  ManifestSpec widest = delta;
  widest.hardware.clear();
  for (char c = 'a'; c < 'h'; ++c)
    widest.hardware.push_back(std::string("fuzz-board-") + c + "-rev-0123456789");
  widest.hardware.push_back(fuzz::kHardware);
  out.push_back({"valid_widest", manifest(widest, {&t.release_p256, &t.release})});

  out.push_back({"unsigned", manifest(answer(), {})});
  out.push_back({"signed_by_root_key", manifest(answer(), {&t.root})});
  ManifestSpec release = answer();
  release.check_in.reset();
  out.push_back({"release_without_nonce", manifest(release, {&t.release})});
  ManifestSpec expired = answer();
  expired.check_in->expires = fuzz::kNow;
  out.push_back({"expired", manifest(expired, {&t.release})});
  ManifestSpec rollback = answer();
  rollback.security_counter = fuzz::kCounter - 1;
  out.push_back({"rollback", manifest(rollback, {&t.release})});
  ManifestSpec older = answer();
  older.version = "1.3.0";
  out.push_back({"downgrade_without_flag", manifest(older, {&t.release})});
  ManifestSpec mix = delta;
  mix.delta->source_hash[0] ^= std::byte{1};
  out.push_back({"delta_for_other_source", manifest(mix, {&t.release})});

  RootSpec v2;
  v2.version = 2;
  v2.expires = fuzz::kNow + 365 * 86400;
  v2.root_keys = {t.next_root.public_key()};
  v2.release_keys = {t.release.public_key()};
  v2.revoked = {key_id_of(t.release_p256.public_key())};
  const Bytes v2_region = must(encode_root(v2));
  out.push_back({"valid_root_v2", must(sign_metadata(v2_region, {&t.root, &t.next_root}))});
  out.push_back({"root_v2_signed_only_by_new_key", must(sign_metadata(v2_region, {&t.next_root}))});
  out.push_back({"root_v1_again", t.root_v1_bytes});
  return out;
}

// Whether `bytes` parses, and passes every check of the fuzz device.
Result<void> verdict(const Bytes& bytes) {
  const fuzz::Trust& t = fuzz::trust();
  OpenSslVerifier verifier;
  UPDRAFT_TRY_ASSIGN(const MetadataKind kind, metadata_kind(bytes));
  if (kind == MetadataKind::kRoot) {
    RootMetadata root;
    UPDRAFT_TRY(parse_root(bytes, root));
    return verify_root_rotation(t.root_v1, root, verifier);
  }
  Manifest m;
  UPDRAFT_TRY(parse_manifest(bytes, m));
  return verify_manifest(m, t.root_v1, verifier, t.device, t.check_in);
}

int generate(const std::string& dir) {
  for (const Seed& seed : seeds()) {
    const Result<void> v = verdict(seed.bytes);
    if (v.ok() != (seed.name.rfind("valid_", 0) == 0)) {
      std::fprintf(stderr, "%s: unexpected verdict %s\n", seed.name.c_str(),
                   std::string(error_name(v.ok() ? ErrorCode::kOk : v.error())).c_str());
      return 1;
    }
    const Result<void, Error> written = write_file_atomic(dir + "/" + seed.name, seed.bytes);
    if (!written.ok()) {
      std::fprintf(stderr, "%s\n", written.error().to_string().c_str());
      return 1;
    }
    std::printf("%s: %zu bytes, %s\n", seed.name.c_str(), seed.bytes.size(),
                std::string(error_name(v.ok() ? ErrorCode::kOk : v.error())).c_str());
  }
  return 0;
}

int check(const std::string& dir) {
  int stale = 0, count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    // Inputs the fuzzer found are kept as regression_*; the replay checks those.
    if (name.rfind("regression_", 0) == 0) continue;
    ++count;
    HostResult<Bytes> bytes = read_file(entry.path().string());
    Manifest m;
    RootMetadata root;
    const bool parses =
        bytes.ok() && (parse_manifest(*bytes, m).ok() || parse_root(*bytes, root).ok());
    const bool passes = parses && verdict(*bytes).ok();
    if (!parses || passes != (name.rfind("valid_", 0) == 0)) {
      std::fprintf(stderr, "%s: %s\n", name.c_str(),
                   parses ? "verdict changed" : "no longer parses");
      ++stale;
    }
  }
  if (stale > 0 || count == 0) {
    std::fprintf(stderr, "%d of %d seeds are stale: run make_manifest_fuzz_seeds %s\n", stale,
                 count, dir.c_str());
    return 1;
  }
  std::printf("all %d seeds parse and keep their verdict\n", count);
  return 0;
}

}  // namespace
}  // namespace updraft::manifest

int main(int argc, char** argv) {
  try {
    if (argc == 2) return updraft::manifest::generate(argv[1]);
    if (argc == 3 && std::string(argv[1]) == "--check") return updraft::manifest::check(argv[2]);
    std::fprintf(stderr, "usage: %s [--check] DIR\n", argv[0]);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_manifest_fuzz_seeds: %s\n", e.what());
    return 1;
  }
}
