// `updraft verify FILE --root ROOT [...]`: runs the device's checks on a manifest
// (or on a new root metadata file: the rotation check) and prints what it accepted,
// or the first rejection with its error number. Checks whose device facts are not
// given (--product, --hardware, --counter, ...) are reported as skipped.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/metadata_args.h"
#include "cli/output.h"
#include "core/host/file.h"
#include "crypto/host/openssl_verifier.h"
#include "manifest/artifact_verifier.h"
#include "manifest/host/key_ids.h"
#include "manifest/host/manifest_builder.h"
#include "manifest/host/root_builder.h"
#include "manifest/host/signer.h"
#include "manifest/verifier.h"

namespace updraft::cli {
namespace {

struct VerifyArgs {
  std::string file_path;
  std::string root_path;
  std::string image_path;
  std::string patch_path;
  std::string source_path;
  std::string product;
  std::string hardware;
  std::string counter;
  std::string installed_version;
  std::string now;
  std::string nonce;
};

std::string digest_hex(const Sha256Digest& d) { return hex(d.data(), d.size()); }

// Each check prints one line as it passes; the first failure ends the run.
class Report {
 public:
  void pass(const char* check, const std::string& detail) {
    std::printf("  %-11s %s\n", check, detail.c_str());
  }
  void skip(const char* check, const char* flag) {
    std::printf("  %-11s skipped (no %s)\n", check, flag);
  }
  int fail(ErrorCode code, const std::string& detail) {
    std::fflush(stdout);
    return report_error(Error(code, std::string(describe(code)) + ": " + detail));
  }
};

// Which role each signature's key holds in `root`, for messages.
std::string signers(const manifest::SignatureList& signatures, const manifest::RootMetadata& root) {
  if (signatures.count == 0) return "no signatures";
  std::string out = "signed by";
  for (const manifest::SignatureEntry& s : signatures.view()) {
    const char* role = root.is_revoked(s.key_id)                     ? "revoked"
                       : root.release_keys.find(s.key_id) != nullptr ? "release key"
                       : root.root_keys.find(s.key_id) != nullptr    ? "root key"
                                                                     : "unknown key";
    out += " " + manifest::key_id_hex(s.key_id) + " (" + role + ")";
  }
  return out;
}

int check_artifact(Report& report, const manifest::Manifest& m, manifest::ArtifactKind kind,
                   const std::string& path) {
  const char* check = kind == manifest::ArtifactKind::kPatch ? "patch" : "image";
  HostResult<std::vector<std::byte>> bytes = read_file(path);
  if (!bytes.ok()) return report_error(bytes.error());
  manifest::ArtifactVerifier artifact;
  if (Result<void> r = artifact.start(m, kind); !r.ok()) return report.fail(r.error(), path);
  // Fed the way a download arrives, so the size limit acts before the bytes are hashed.
  constexpr std::size_t kChunk = 64 * 1024;
  for (std::size_t at = 0; at < bytes->size(); at += kChunk) {
    const ByteView chunk = ByteView(*bytes).subspan(at, std::min(kChunk, bytes->size() - at));
    if (Result<void> r = artifact.update(chunk); !r.ok()) {
      return report.fail(r.error(), path + " has " + std::to_string(bytes->size()) +
                                        " bytes; the manifest declares " +
                                        std::to_string(artifact.declared_size()));
    }
  }
  if (Result<void> r = artifact.finish(); !r.ok()) {
    return report.fail(r.error(), path + " (" + std::to_string(bytes->size()) + " bytes, sha256 " +
                                      digest_hex(Sha256::digest(*bytes)) + ")");
  }
  report.pass(check, path + ": " + std::to_string(bytes->size()) + " bytes, SHA-256 matches");
  return 0;
}

int verify_rotation(const manifest::RootMetadata& trusted, ByteView candidate_bytes,
                    std::uint64_t now, const VerifyArgs& args) {
  Report report;
  Result<manifest::RootMetadata> candidate = manifest::parse_root(candidate_bytes);
  if (!candidate.ok()) return report.fail(candidate.error(), args.file_path);
  OpenSslVerifier verifier;
  if (Result<void> r = manifest::verify_root_rotation(trusted, *candidate, verifier); !r.ok()) {
    return report.fail(r.error(), "root v" + std::to_string(candidate->version) +
                                      " over trusted v" + std::to_string(trusted.version) + "; " +
                                      signers(candidate->signatures, trusted));
  }
  if (Result<void> r = manifest::check_root_fresh(*candidate, now); !r.ok()) {
    return report.fail(r.error(), "root v" + std::to_string(candidate->version) + " expired at " +
                                      format_time(candidate->expires));
  }
  std::printf("accepted: root v%u may replace trusted root v%u\n", candidate->version,
              trusted.version);
  report.pass("signatures", "threshold " + std::to_string(trusted.root_keys.threshold) +
                                " of the trusted root and " +
                                std::to_string(candidate->root_keys.threshold) + " of its own");
  report.pass("expiry",
              candidate->expires == 0 ? "never" : "valid until " + format_time(candidate->expires));
  return 0;
}

int verify_manifest_file(const manifest::RootMetadata& root, ByteView bytes, std::uint64_t now,
                         const VerifyArgs& args) {
  Report report;
  Result<manifest::Manifest> parsed = manifest::parse_manifest(bytes);
  if (!parsed.ok()) return report.fail(parsed.error(), args.file_path);
  const manifest::Manifest& m = *parsed;
  std::printf("%s: %.*s %.*s, security counter %u, %s\n", args.file_path.c_str(),
              static_cast<int>(m.product.size()), m.product.data(),
              static_cast<int>(m.version_text.size()), m.version_text.data(), m.security_counter,
              m.is_delta ? "delta" : "full image");

  // The device's order (manifest/verifier.h): nothing unsigned is looked at first.
  if (Result<void> r = manifest::check_root_fresh(root, now); !r.ok()) {
    return report.fail(r.error(), "root v" + std::to_string(root.version) + " expired at " +
                                      format_time(root.expires));
  }
  report.pass("root", "v" + std::to_string(root.version) +
                          (root.expires == 0 ? ", never expires"
                                             : ", valid until " + format_time(root.expires)));
  OpenSslVerifier verifier;
  if (Result<void> r = manifest::check_release_signatures(m, root, verifier); !r.ok()) {
    return report.fail(r.error(), signers(m.signatures, root) + "; release threshold " +
                                      std::to_string(root.release_keys.threshold));
  }
  report.pass("signatures", signers(m.signatures, root) + "; threshold " +
                                std::to_string(root.release_keys.threshold) + " met");

  if (args.product.empty()) {
    report.skip("product", "--product");
  } else if (Result<void> r = manifest::check_product(m, args.product); !r.ok()) {
    return report.fail(
        r.error(), "manifest is for '" + std::string(m.product) + "', not '" + args.product + "'");
  } else {
    report.pass("product", args.product);
  }

  std::string listed;
  for (std::size_t i = 0; i < m.hardware_count; ++i)
    listed += (i ? ", " : "") + std::string(m.hardware[i]);
  if (args.hardware.empty()) {
    report.skip("hardware", "--hardware");
  } else if (Result<void> r = manifest::check_hardware(m, args.hardware); !r.ok()) {
    return report.fail(r.error(), "manifest lists " + listed + "; not " + args.hardware);
  } else {
    report.pass("hardware", args.hardware + " is listed (" + listed + ")");
  }

  if (!m.is_check_in) {
    report.pass("expiry", "none (a release manifest, not a check-in answer)");
  } else if (Result<void> r = manifest::check_expiry(m, now); !r.ok()) {
    return report.fail(r.error(), "expired at " + format_time(m.freshness.expires) + ", now is " +
                                      format_time(now));
  } else {
    report.pass("expiry", "valid until " + format_time(m.freshness.expires) + " (" +
                              std::to_string(m.freshness.expires - now) + " s left)");
  }

  if (args.nonce.empty()) {
    report.skip("nonce", "--nonce");
  } else {
    HostResult<std::uint64_t> nonce = parse_u64(args.nonce, "--nonce");
    if (!nonce.ok()) return report_error(nonce.error());
    if (Result<void> r = manifest::check_nonce(m, *nonce); !r.ok()) {
      return report.fail(r.error(),
                         m.is_check_in ? "answer carries nonce " + std::to_string(m.freshness.nonce)
                                       : std::string("a release manifest carries no nonce"));
    }
    report.pass("nonce", "matches " + std::to_string(*nonce));
  }

  if (args.counter.empty()) {
    report.skip("counter", "--counter");
  } else {
    HostResult<std::uint64_t> counter = parse_u64(args.counter, "--counter");
    if (!counter.ok() || *counter > 0xFFFFFFFFu) {
      return report_error(Error(ErrorCode::kInvalidArgument,
                                "--counter '" + args.counter + "': expected 0..2^32-1"));
    }
    if (Result<void> r = manifest::check_security_counter(m, static_cast<std::uint32_t>(*counter));
        !r.ok()) {
      return report.fail(r.error(), "manifest counter " + std::to_string(m.security_counter) +
                                        " is below the device's " + std::to_string(*counter));
    }
    report.pass("counter",
                std::to_string(m.security_counter) + " >= device's " + std::to_string(*counter));
  }

  if (args.installed_version.empty()) {
    report.skip("version", "--installed-version");
  } else {
    Result<manifest::SemVer> installed = manifest::parse_semver(args.installed_version);
    if (!installed.ok()) {
      return report_error(
          Error(ErrorCode::kInvalidArgument,
                "--installed-version '" + args.installed_version + "' is not a semantic version"));
    }
    if (Result<void> r = manifest::check_version(m, *installed); !r.ok()) {
      return report.fail(r.error(), std::string(m.version_text) + " is older than installed " +
                                        args.installed_version);
    }
    const bool older = manifest::compare(m.version, *installed) < 0;
    report.pass("version", std::string(m.version_text) + (older ? " < " : " >= ") +
                               args.installed_version +
                               (older ? " (operator allowed the downgrade)" : ""));
  }

  if (!m.is_delta) {
    report.pass("source", "any (full image)");
  } else if (args.source_path.empty()) {
    report.skip("source", "--source");
  } else {
    HostResult<std::vector<std::byte>> source = read_file(args.source_path);
    if (!source.ok()) return report_error(source.error());
    if (Result<void> r = manifest::check_source(m, Sha256::digest(*source)); !r.ok()) {
      return report.fail(r.error(), "the delta applies to sha256 " +
                                        digest_hex(m.delta.source_hash) + "; " + args.source_path +
                                        " is " + digest_hex(Sha256::digest(*source)));
    }
    report.pass("source", args.source_path + " is the delta's source image");
  }

  if (!args.patch_path.empty()) {
    if (int rc = check_artifact(report, m, manifest::ArtifactKind::kPatch, args.patch_path);
        rc != 0)
      return rc;
  }
  if (!args.image_path.empty()) {
    if (int rc = check_artifact(report, m, manifest::ArtifactKind::kFullImage, args.image_path);
        rc != 0)
      return rc;
  }
  std::printf("accepted\n");
  return 0;
}

int run_verify(const VerifyArgs& args) {
  std::uint64_t now = unix_now();
  if (!args.now.empty()) {
    HostResult<std::uint64_t> given = parse_time(args.now, now, "--now");
    if (!given.ok()) return report_error(given.error());
    now = *given;
  }
  HostResult<std::vector<std::byte>> root_bytes = read_file(args.root_path);
  if (!root_bytes.ok()) return report_error(root_bytes.error());
  Result<manifest::RootMetadata> root = manifest::parse_root(*root_bytes);
  if (!root.ok())
    return report_error(Error(root.error(), args.root_path + " is not valid root metadata"));
  HostResult<std::vector<std::byte>> bytes = read_file(args.file_path);
  if (!bytes.ok()) return report_error(bytes.error());

  Result<manifest::MetadataKind> kind = manifest::metadata_kind(*bytes);
  if (!kind.ok()) {
    return report_error(
        Error(kind.error(), args.file_path + " is neither a manifest nor root metadata"));
  }
  if (*kind == manifest::MetadataKind::kRoot) return verify_rotation(*root, *bytes, now, args);
  return verify_manifest_file(*root, *bytes, now, args);
}

}  // namespace

void add_verify_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<VerifyArgs>();
  CLI::App* cmd =
      app.add_subcommand("verify", "Check a manifest, or a root rotation, as a device would");
  cmd->footer(
      "Runs the device's checks in its order (docs/formats/manifest.md) and prints each one, then\n"
      "'accepted' or the first rejection with its error number (exit 1). Checks whose device "
      "facts\n"
      "are not given are skipped. When FILE is root metadata, checks it as the next version of "
      "--root.");
  cmd->add_option("FILE", args->file_path, "Manifest, or root metadata of the next version")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--root", args->root_path, "The trusted root metadata")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--image", args->image_path, "Full image to check against the size and SHA-256")
      ->check(CLI::ExistingFile);
  cmd->add_option("--patch", args->patch_path,
                  "Patch to check against the delta's size and SHA-256")
      ->check(CLI::ExistingFile);
  cmd->add_option("--source", args->source_path,
                  "The image the device runs (a delta must start from it)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--product", args->product, "The device's product id");
  cmd->add_option("--hardware", args->hardware, "The device's hardware id");
  cmd->add_option("--counter", args->counter, "The device's stored security counter");
  cmd->add_option("--installed-version", args->installed_version, "The version the device runs");
  cmd->add_option("--now", args->now, "The device's time (default: this machine's clock)");
  cmd->add_option("--nonce", args->nonce, "The nonce the device sent with its check-in");
  cmd->callback([args, &exit_code] { exit_code = run_verify(*args); });
}

}  // namespace updraft::cli
