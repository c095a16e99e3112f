// `updraft manifest show FILE [--json]`: what a manifest or root metadata file says.
// Shows the content only; `updraft verify` decides whether to trust it.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "cli/metadata_args.h"
#include "cli/output.h"
#include "core/host/file.h"
#include "manifest/host/key_ids.h"
#include "manifest/host/manifest_builder.h"
#include "manifest/host/root_builder.h"
#include "manifest/host/signer.h"

namespace updraft::cli {
namespace {

struct ShowArgs {
  std::string path;
  bool json = false;
};

std::string digest_hex(const Sha256Digest& d) { return hex(d.data(), d.size()); }

nlohmann::json signatures_json(const manifest::SignatureList& signatures) {
  nlohmann::json out = nlohmann::json::array();
  for (const manifest::SignatureEntry& s : signatures.view()) {
    out.push_back({{"key_id", manifest::key_id_hex(s.key_id)},
                   {"algorithm", std::string(algorithm_name(s.algorithm))}});
  }
  return out;
}

nlohmann::json manifest_json(const manifest::Manifest& m, std::size_t size) {
  nlohmann::json hardware = nlohmann::json::array();
  for (std::size_t i = 0; i < m.hardware_count; ++i) hardware.push_back(std::string(m.hardware[i]));
  nlohmann::json j = {
      {"kind", "manifest"},
      {"size", size},
      {"signed_bytes", m.signed_region.size()},
      {"product", std::string(m.product)},
      {"hardware", hardware},
      {"version", std::string(m.version_text)},
      {"security_counter", m.security_counter},
      {"allow_downgrade", m.allow_downgrade},
      {"image", {{"size", m.image_size}, {"sha256", digest_hex(m.image_hash)}}},
      {"delta", nullptr},
      {"check_in", nullptr},
      {"signatures", signatures_json(m.signatures)},
  };
  if (m.is_delta) {
    j["delta"] = {{"source_sha256", digest_hex(m.delta.source_hash)},
                  {"patch_size", m.delta.patch_size},
                  {"patch_sha256", digest_hex(m.delta.patch_hash)}};
  }
  if (m.is_check_in)
    j["check_in"] = {{"expires", m.freshness.expires}, {"nonce", m.freshness.nonce}};
  return j;
}

nlohmann::json keys_json(const manifest::KeySet& set) {
  nlohmann::json out = nlohmann::json::array();
  for (std::size_t i = 0; i < set.count; ++i) {
    const manifest::KeyEntry& k = set.keys[i];
    out.push_back({{"key_id", manifest::key_id_hex(k.id)},
                   {"algorithm", std::string(algorithm_name(k.algorithm))},
                   {"public_key", hex(k.public_key.data(), k.public_key.size())}});
  }
  return out;
}

nlohmann::json root_json(const manifest::RootMetadata& root, std::size_t size) {
  nlohmann::json revoked = nlohmann::json::array();
  for (std::size_t i = 0; i < root.revoked_count; ++i)
    revoked.push_back(manifest::key_id_hex(root.revoked[i]));
  return {
      {"kind", "root"},
      {"size", size},
      {"signed_bytes", root.signed_region.size()},
      {"version", root.version},
      {"expires", root.expires},
      {"root_threshold", root.root_keys.threshold},
      {"root_keys", keys_json(root.root_keys)},
      {"release_threshold", root.release_keys.threshold},
      {"release_keys", keys_json(root.release_keys)},
      {"revoked", revoked},
      {"signatures", signatures_json(root.signatures)},
  };
}

void print_signatures(const nlohmann::json& j) {
  std::printf("  signatures   %zu (not verified; use `updraft verify`)\n", j["signatures"].size());
  for (const auto& s : j["signatures"]) {
    std::printf("    %s %s\n", s["key_id"].get<std::string>().c_str(),
                s["algorithm"].get<std::string>().c_str());
  }
}

void print_manifest(const nlohmann::json& j) {
  std::printf("Updraft manifest, %zu bytes\n", j["size"].get<std::size_t>());
  std::printf("  product      %s\n", j["product"].get<std::string>().c_str());
  std::string hardware;
  for (const auto& h : j["hardware"])
    hardware += (hardware.empty() ? "" : ", ") + h.get<std::string>();
  std::printf("  hardware     %s\n", hardware.c_str());
  std::printf("  version      %s%s\n", j["version"].get<std::string>().c_str(),
              j["allow_downgrade"].get<bool>() ? "  (operator allows downgrade)" : "");
  std::printf("  counter      %u\n", j["security_counter"].get<unsigned>());
  std::printf("  image        %u bytes  sha256 %s\n", j["image"]["size"].get<unsigned>(),
              j["image"]["sha256"].get<std::string>().c_str());
  if (!j["delta"].is_null()) {
    std::printf("  delta from   sha256 %s\n",
                j["delta"]["source_sha256"].get<std::string>().c_str());
    std::printf("  patch        %u bytes  sha256 %s\n", j["delta"]["patch_size"].get<unsigned>(),
                j["delta"]["patch_sha256"].get<std::string>().c_str());
  }
  if (!j["check_in"].is_null()) {
    const auto expires = j["check_in"]["expires"].get<std::uint64_t>();
    std::printf("  check-in     expires %s (%llu), nonce %llu\n", format_time(expires).c_str(),
                static_cast<unsigned long long>(expires),
                static_cast<unsigned long long>(j["check_in"]["nonce"].get<std::uint64_t>()));
  }
  print_signatures(j);
}

void print_keys(const char* role, const nlohmann::json& keys, unsigned threshold) {
  std::printf("  %-12s threshold %u of %zu\n", role, threshold, keys.size());
  for (const auto& k : keys) {
    std::printf("    %s %s\n", k["key_id"].get<std::string>().c_str(),
                k["algorithm"].get<std::string>().c_str());
  }
}

void print_root(const nlohmann::json& j) {
  std::printf("Updraft root metadata v%u, %zu bytes\n", j["version"].get<unsigned>(),
              j["size"].get<std::size_t>());
  const auto expires = j["expires"].get<std::uint64_t>();
  std::printf("  expires      %s\n", expires == 0 ? "never" : format_time(expires).c_str());
  print_keys("root keys", j["root_keys"], j["root_threshold"].get<unsigned>());
  print_keys("release keys", j["release_keys"], j["release_threshold"].get<unsigned>());
  for (const auto& id : j["revoked"])
    std::printf("  revoked      %s\n", id.get<std::string>().c_str());
  print_signatures(j);
}

int run_show(const ShowArgs& args) {
  HostResult<std::vector<std::byte>> bytes = read_file(args.path);
  if (!bytes.ok()) return report_error(bytes.error());
  Result<manifest::MetadataKind> kind = manifest::metadata_kind(*bytes);
  if (!kind.ok())
    return report_error(
        Error(kind.error(), args.path + " is neither a manifest nor root metadata"));

  nlohmann::json j;
  if (*kind == manifest::MetadataKind::kManifest) {
    Result<manifest::Manifest> m = manifest::parse_manifest(*bytes);
    if (!m.ok())
      return report_error(Error(m.error(), args.path + ": " + std::string(describe(m.error()))));
    j = manifest_json(*m, bytes->size());
  } else {
    Result<manifest::RootMetadata> root = manifest::parse_root(*bytes);
    if (!root.ok())
      return report_error(
          Error(root.error(), args.path + ": " + std::string(describe(root.error()))));
    j = root_json(*root, bytes->size());
  }
  if (args.json) {
    std::printf("%s\n", j.dump(2).c_str());
  } else if (*kind == manifest::MetadataKind::kManifest) {
    print_manifest(j);
  } else {
    print_root(j);
  }
  return 0;
}

}  // namespace

void add_manifest_command(CLI::App& app, int& exit_code) {
  CLI::App* manifest = app.add_subcommand("manifest", "Inspect manifests and root metadata");
  manifest->require_subcommand(1);
  auto args = std::make_shared<ShowArgs>();
  CLI::App* show = manifest->add_subcommand(
      "show", "Show what a manifest or root metadata file says (unverified)");
  show->add_option("FILE", args->path, "Manifest or root metadata")
      ->required()
      ->check(CLI::ExistingFile);
  show->add_flag("--json", args->json, "Print JSON");
  show->callback([args, &exit_code] { exit_code = run_show(*args); });
}

}  // namespace updraft::cli
