// `updraft sign`: builds a release manifest from flags and signs it with release
// keys. For a delta it also binds the source image and the patch, after checking
// that the patch's header names exactly those two images.
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/metadata_args.h"
#include "cli/output.h"
#include "core/host/file.h"
#include "delta/format/patch_format.h"
#include "manifest/host/manifest_builder.h"
#include "manifest/host/signer.h"

namespace updraft::cli {
namespace {

struct SignArgs {
  std::string product;
  std::vector<std::string> hardware;
  std::string version;
  std::uint32_t security_counter = 0;
  std::string image_path;
  std::string delta_from_path;
  std::string patch_path;
  std::string expires;
  std::string nonce;
  bool allow_downgrade = false;
  std::vector<std::string> key_paths;
  std::string out_path;
};

HostResult<std::uint32_t> size_of(const std::vector<std::byte>& bytes, const std::string& path) {
  if (bytes.size() > std::numeric_limits<std::uint32_t>::max()) {
    return Error(ErrorCode::kInvalidArgument, path + " is larger than 4 GiB");
  }
  return static_cast<std::uint32_t>(bytes.size());
}

// The patch must turn exactly the source image into exactly the new image: signing
// a mismatched pair would ship an update every device refuses.
Result<void, Error> check_patch_binds(const std::vector<std::byte>& patch,
                                      const Sha256Digest& source, const Sha256Digest& target,
                                      const std::string& path) {
  if (patch.size() < delta::kHeaderSize)
    return Error(ErrorCode::kPatchTruncated, path + " is not a patch");
  Result<delta::PatchHeader> header = delta::decode_header(
      std::span<const std::byte, delta::kHeaderSize>(patch.data(), delta::kHeaderSize));
  if (!header.ok())
    return Error(header.error(), path + ": " + std::string(describe(header.error())));
  if (header->old_hash != source || header->new_hash != target) {
    return Error(ErrorCode::kPatchWrongBase, path + " was not made from --delta-from to --image");
  }
  return {};
}

HostResult<manifest::ManifestSpec> build_spec(const SignArgs& args) {
  manifest::ManifestSpec spec;
  spec.product = args.product;
  spec.hardware = args.hardware;
  spec.version = args.version;
  spec.security_counter = args.security_counter;
  spec.allow_downgrade = args.allow_downgrade;

  UPDRAFT_TRY_ASSIGN(const std::vector<std::byte> image, read_file(args.image_path));
  UPDRAFT_TRY_ASSIGN(spec.image_size, size_of(image, args.image_path));
  spec.image_hash = Sha256::digest(image);

  if (!args.delta_from_path.empty()) {
    UPDRAFT_TRY_ASSIGN(const std::vector<std::byte> source, read_file(args.delta_from_path));
    UPDRAFT_TRY_ASSIGN(const std::vector<std::byte> patch, read_file(args.patch_path));
    manifest::DeltaInfo delta;
    delta.source_hash = Sha256::digest(source);
    UPDRAFT_TRY_ASSIGN(delta.patch_size, size_of(patch, args.patch_path));
    delta.patch_hash = Sha256::digest(patch);
    UPDRAFT_TRY(check_patch_binds(patch, delta.source_hash, spec.image_hash, args.patch_path));
    spec.delta = delta;
  }
  if (!args.expires.empty()) {
    manifest::Freshness freshness;
    UPDRAFT_TRY_ASSIGN(freshness.expires, parse_time(args.expires, unix_now(), "--expires"));
    UPDRAFT_TRY_ASSIGN(freshness.nonce, parse_u64(args.nonce, "--nonce"));
    spec.check_in = freshness;
  }
  return spec;
}

int run_sign(const SignArgs& args) {
  HostResult<manifest::ManifestSpec> spec = build_spec(args);
  if (!spec.ok()) return report_error(spec.error());
  HostResult<std::vector<SigningKey>> keys = load_signing_keys(args.key_paths);
  if (!keys.ok()) return report_error(keys.error());
  HostResult<std::vector<std::byte>> region = manifest::encode_manifest(*spec);
  if (!region.ok()) return report_error(region.error());
  HostResult<std::vector<std::byte>> signed_manifest =
      manifest::sign_metadata(*region, pointers(*keys));
  if (!signed_manifest.ok()) return report_error(signed_manifest.error());
  if (auto written = write_file_atomic(args.out_path, *signed_manifest); !written.ok()) {
    return report_error(written.error());
  }
  std::printf(
      "%s: %zu bytes, %s %s for %zu hardware id(s), security counter %u, %s, %zu signature(s)\n",
      args.out_path.c_str(), signed_manifest->size(), spec->product.c_str(), spec->version.c_str(),
      spec->hardware.size(), spec->security_counter, spec->delta ? "delta" : "full image",
      keys->size());
  return 0;
}

}  // namespace

void add_sign_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<SignArgs>();
  CLI::App* cmd = app.add_subcommand(
      "sign", "Build and sign a release manifest (see docs/formats/manifest.md)");
  cmd->add_option("--product", args->product, "Product id")->required();
  cmd->add_option("--hardware", args->hardware,
                  "Compatible hardware id (repeat for each, at most 8)")
      ->required();
  cmd->add_option("--version", args->version,
                  "Semantic version of the image, e.g. 2.1.0 or 2.1.0-rc.1")
      ->required();
  cmd->add_option("--security-counter", args->security_counter,
                  "Anti-rollback counter; devices refuse anything below the counter they store")
      ->required();
  cmd->add_option("--image", args->image_path, "The new image")
      ->required()
      ->check(CLI::ExistingFile);
  CLI::Option* from = cmd->add_option("--delta-from", args->delta_from_path,
                                      "For a delta: the exact image devices must run to apply it")
                          ->check(CLI::ExistingFile);
  CLI::Option* patch = cmd->add_option("--patch", args->patch_path,
                                       "For a delta: the patch from --delta-from to --image")
                           ->check(CLI::ExistingFile);
  from->needs(patch);
  patch->needs(from);
  CLI::Option* expires =
      cmd->add_option("--expires", args->expires,
                      "For a check-in answer: expiry (unix seconds, +300, +12h, +7d, or "
                      "2026-01-01T00:00:00Z)");
  CLI::Option* nonce =
      cmd->add_option("--nonce", args->nonce, "For a check-in answer: the nonce the device sent");
  expires->needs(nonce);
  nonce->needs(expires);
  cmd->add_flag(
      "--allow-downgrade", args->allow_downgrade,
      "Operator's consent to install over a newer version (never below the security counter)");
  cmd->add_option("-k,--key", args->key_paths,
                  "Release private key (repeat to meet a release threshold)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", args->out_path, "Manifest file to write")->required();
  cmd->callback([args, &exit_code] { exit_code = run_sign(*args); });
}

}  // namespace updraft::cli
