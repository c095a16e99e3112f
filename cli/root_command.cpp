// `updraft root create|sign`: root metadata, the keys devices trust. Run on the
// offline machine that holds the root keys (docs/design.md, "Keys"); the result is
// imported into updraftd with `updraftd --root FILE`.
//
//   updraft root create --version 1 --root-key A.pub [--root-key B.pub] [--root-threshold 1]
//                       --release-key R.pub [--release-threshold 1] [--revoke ID|KEY.pub]
//                       [--expires T] [--key A.key] -o root.bin
//   updraft root create --previous root-v1.bin --root-key C.pub --release-key R2.pub
//                       --revoke R.pub --key A.key --key C.key -o root-v2.bin
//   updraft root sign root.bin --key B.key [--previous root-v1.bin] [-o signed.bin]
//
// A threshold of root keys must sign; their holders each add a signature with
// `root sign` on their own machine. A new version (rotation) must be signed by a
// threshold of the previous root's keys and by a threshold of its own: with
// --previous, create takes the next version number and both commands say how far
// the rotation is from what devices accept.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/metadata_args.h"
#include "cli/output.h"
#include "core/host/file.h"
#include "crypto/host/key_file.h"
#include "crypto/host/openssl_verifier.h"
#include "manifest/host/key_ids.h"
#include "manifest/host/root_builder.h"
#include "manifest/host/signer.h"
#include "manifest/verifier.h"

namespace updraft::cli {
namespace {

struct RootCreateArgs {
  std::uint32_t version = 0;  // 0: the previous root's + 1 (or 1 without one)
  std::string previous_path;
  std::string expires;
  std::vector<std::string> root_key_paths;
  unsigned root_threshold = 1;
  std::vector<std::string> release_key_paths;
  unsigned release_threshold = 1;
  std::vector<std::string> revoke;
  std::vector<std::string> key_paths;
  std::string out_path;
};

struct RootSignArgs {
  std::string root_path;
  std::string previous_path;
  std::vector<std::string> key_paths;
  std::string out_path;
};

HostResult<std::vector<PublicKey>> load_public_keys(const std::vector<std::string>& paths) {
  std::vector<PublicKey> keys;
  for (const std::string& path : paths) {
    UPDRAFT_TRY_ASSIGN(PublicKey key, load_public_key(path));
    keys.push_back(std::move(key));
  }
  return keys;
}

// A revoked key named by its 16-hex-digit id, or by its key file when that is at hand.
HostResult<manifest::KeyId> revoked_id(const std::string& text) {
  if (HostResult<manifest::KeyId> id = manifest::parse_key_id_hex(text); id.ok()) return id;
  HostResult<PublicKey> key = load_public_key(text);
  if (!key.ok()) {
    return Error(ErrorCode::kInvalidArgument,
                 "--revoke '" + text + "': neither a 16-hex-digit key id nor a key file");
  }
  return manifest::key_id_of(*key);
}

HostResult<manifest::RootMetadata> parsed_root(ByteView bytes, const std::string& path) {
  Result<manifest::RootMetadata> root = manifest::parse_root(bytes);
  if (!root.ok()) return Error(root.error(), path + " is not root metadata");
  return *root;
}

HostResult<manifest::RootSpec> build_spec(const RootCreateArgs& args,
                                          const std::vector<std::byte>* previous) {
  manifest::RootSpec spec;
  spec.version = args.version;
  if (previous != nullptr) {
    UPDRAFT_TRY_ASSIGN(const manifest::RootMetadata old,
                       parsed_root(*previous, args.previous_path));
    if (spec.version == 0) spec.version = old.version + 1;
    if (spec.version != old.version + 1) {
      return Error(ErrorCode::kInvalidArgument, "--version " + std::to_string(spec.version) +
                                                    ": a rotation from " + args.previous_path +
                                                    " (v" + std::to_string(old.version) + ") is v" +
                                                    std::to_string(old.version + 1));
    }
  }
  if (spec.version == 0) spec.version = 1;
  if (!args.expires.empty()) {
    UPDRAFT_TRY_ASSIGN(spec.expires, parse_time(args.expires, unix_now(), "--expires"));
  }
  if (args.root_threshold > 255 || args.release_threshold > 255) {
    return Error(ErrorCode::kInvalidArgument, "thresholds are at most the number of keys (8)");
  }
  spec.root_threshold = static_cast<std::uint8_t>(args.root_threshold);
  spec.release_threshold = static_cast<std::uint8_t>(args.release_threshold);
  UPDRAFT_TRY_ASSIGN(spec.root_keys, load_public_keys(args.root_key_paths));
  UPDRAFT_TRY_ASSIGN(spec.release_keys, load_public_keys(args.release_key_paths));
  for (const std::string& text : args.revoke) {
    UPDRAFT_TRY_ASSIGN(const manifest::KeyId id, revoked_id(text));
    spec.revoked.push_back(id);
  }
  return spec;
}

// How many of `keys`' root keys made a valid signature on `root`.
std::size_t valid_signatures(const manifest::RootMetadata& root,
                             const manifest::RootMetadata& keys) {
  OpenSslVerifier verifier;
  std::size_t valid = 0;
  for (const manifest::SignatureEntry& s : root.signatures.view()) {
    const manifest::KeyEntry* key = keys.root_keys.find(s.key_id);
    if (key != nullptr && !keys.is_revoked(s.key_id) && key->algorithm == s.algorithm &&
        verifier.verify(key->algorithm, key->public_key, root.signed_region, s.signature).ok()) {
      ++valid;
    }
  }
  return valid;
}

// Where a rotation stands: what devices on `previous` make of `bytes`, and what
// signatures it still needs.
void print_rotation(ByteView bytes, const std::vector<std::byte>& previous) {
  Result<manifest::RootMetadata> root = manifest::parse_root(bytes);
  Result<manifest::RootMetadata> old = manifest::parse_root(previous);
  if (!root.ok() || !old.ok()) return;
  OpenSslVerifier verifier;
  const Result<void> verdict = manifest::verify_root_rotation(*old, *root, verifier);
  const std::size_t by_old = valid_signatures(*root, *old);
  const std::size_t by_new = valid_signatures(*root, *root);
  std::printf("rotation v%u -> v%u: %zu of v%u's root threshold %u, %zu of its own threshold %u: ",
              old->version, root->version, by_old, old->version, old->root_keys.threshold, by_new,
              root->root_keys.threshold);
  if (verdict.ok()) {
    std::printf("complete; devices on v%u accept it (import it with `updraftd --root`)\n",
                old->version);
  } else {
    std::printf("not yet: %s (%u)\n", std::string(error_name(verdict.error())).c_str(),
                static_cast<unsigned>(verdict.error()));
  }
}

void print_signatures(const std::string& path, ByteView bytes) {
  Result<manifest::RootMetadata> root = manifest::parse_root(bytes);
  if (!root.ok()) return;
  std::printf("%s: root v%u, %zu bytes, %zu signature(s); root threshold %u of %zu\n", path.c_str(),
              root->version, bytes.size(), root->signatures.count, root->root_keys.threshold,
              root->root_keys.count);
}

int run_create(const RootCreateArgs& args) {
  std::vector<std::byte> previous;
  if (!args.previous_path.empty()) {
    HostResult<std::vector<std::byte>> read = read_file(args.previous_path);
    if (!read.ok()) return report_error(read.error());
    previous = std::move(read).value();
  }
  HostResult<manifest::RootSpec> spec =
      build_spec(args, args.previous_path.empty() ? nullptr : &previous);
  if (!spec.ok()) return report_error(spec.error());
  HostResult<std::vector<SigningKey>> keys = load_signing_keys(args.key_paths);
  if (!keys.ok()) return report_error(keys.error());
  HostResult<std::vector<std::byte>> region = manifest::encode_root(*spec);
  if (!region.ok()) return report_error(region.error());
  HostResult<std::vector<std::byte>> root = manifest::sign_metadata(*region, pointers(*keys));
  if (!root.ok()) return report_error(root.error());
  if (auto written = write_file_atomic(args.out_path, *root); !written.ok())
    return report_error(written.error());
  print_signatures(args.out_path, *root);
  if (!previous.empty()) print_rotation(*root, previous);
  return 0;
}

int run_sign(const RootSignArgs& args) {
  HostResult<std::vector<std::byte>> bytes = read_file(args.root_path);
  if (!bytes.ok()) return report_error(bytes.error());
  Result<manifest::MetadataKind> kind = manifest::metadata_kind(*bytes);
  if (!kind.ok() || *kind != manifest::MetadataKind::kRoot) {
    return report_error(
        Error(ErrorCode::kManifestMalformed, args.root_path + " is not root metadata"));
  }
  HostResult<std::vector<SigningKey>> keys = load_signing_keys(args.key_paths);
  if (!keys.ok()) return report_error(keys.error());
  std::vector<std::byte> out = std::move(bytes).value();
  for (const SigningKey& key : *keys) {
    HostResult<std::vector<std::byte>> more = manifest::add_signature(out, key);
    if (!more.ok()) return report_error(more.error());
    out = std::move(more).value();
  }
  const std::string& out_path = args.out_path.empty() ? args.root_path : args.out_path;
  if (auto written = write_file_atomic(out_path, out); !written.ok())
    return report_error(written.error());
  print_signatures(out_path, out);
  if (!args.previous_path.empty()) {
    HostResult<std::vector<std::byte>> previous = read_file(args.previous_path);
    if (!previous.ok()) return report_error(previous.error());
    print_rotation(out, *previous);
  }
  return 0;
}

}  // namespace

void add_root_command(CLI::App& app, int& exit_code) {
  CLI::App* root =
      app.add_subcommand("root", "Create and sign root metadata: the keys devices trust");
  root->require_subcommand(1);
  root->footer(
      "  updraft root create --version 1 --root-key A.pub --root-key B.pub --root-threshold 2 \\\n"
      "                      --release-key R.pub -o root.bin --key A.key\n"
      "  updraft root sign root.bin --key B.key        (the holder of B, on their machine)\n"
      "A rotation (version N+1) must be signed by a threshold of version N's root keys and by a\n"
      "threshold of its own: --previous OLD says how far it is; `updraft verify NEW --root OLD`\n"
      "checks it as a device does. Import a finished root with `updraftd --root FILE`.");

  auto create = std::make_shared<RootCreateArgs>();
  CLI::App* cmd = root->add_subcommand(
      "create", "Build root metadata; sign it with --key now or with `root sign`");
  cmd->add_option("--version", create->version,
                  "Root version: 1 at first, then exactly one more per rotation (default: 1, "
                  "or the --previous root's + 1)");
  cmd->add_option("--previous", create->previous_path,
                  "The root this one rotates from: sets the version and reports the rotation")
      ->check(CLI::ExistingFile);
  cmd->add_option("--root-key", create->root_key_paths,
                  "Root public key (.pub or .key; repeat, at most 8)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--root-threshold", create->root_threshold, "Root signatures needed (default 1)");
  cmd->add_option("--release-key", create->release_key_paths,
                  "Release public key (repeat, at most 8)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--release-threshold", create->release_threshold,
                  "Release signatures a manifest needs (default 1)");
  cmd->add_option("--revoke", create->revoke,
                  "Revoked release key: 16-hex-digit id or key file (repeat)");
  cmd->add_option("--expires", create->expires,
                  "When devices stop trusting this root (unix seconds, +365d, "
                  "2027-01-01T00:00:00Z); never if absent");
  cmd->add_option("-k,--key", create->key_paths, "Root private key to sign with now (repeat)")
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", create->out_path, "Root metadata file to write")->required();
  cmd->callback([create, &exit_code] { exit_code = run_create(*create); });

  auto sign = std::make_shared<RootSignArgs>();
  CLI::App* sign_cmd = root->add_subcommand("sign", "Add signatures by root keys to root metadata");
  sign_cmd->add_option("ROOT", sign->root_path, "Root metadata file")
      ->required()
      ->check(CLI::ExistingFile);
  sign_cmd->add_option("-k,--key", sign->key_paths, "Root private key (repeat)")
      ->required()
      ->check(CLI::ExistingFile);
  sign_cmd->add_option("-o,--output", sign->out_path, "Where to write (default: replace ROOT)");
  sign_cmd
      ->add_option("--previous", sign->previous_path,
                   "The root ROOT rotates from: report how far the rotation is")
      ->check(CLI::ExistingFile);
  sign_cmd->callback([sign, &exit_code] { exit_code = run_sign(*sign); });
}

}  // namespace updraft::cli
