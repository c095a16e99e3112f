// `updraft release upload IMAGE ...`, `list`, `deltas ID` and `delete ID`: firmware
// images on the update server, which signs each one's manifest at upload. A
// Mender artifact (IMAGE ending in .mender) says most of its release itself.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/server_connection.h"
#include "cli/table.h"
#include "core/host/file.h"

namespace updraft::cli {
namespace {

struct ReleaseArgs {
  long long id = 0;
  std::size_t limit = 100, offset = 0;
  std::string image_path, product, version, notes, enos_version;
  std::uint32_t security_counter = 0;
  std::vector<std::string> hardware;
  bool allow_downgrade = false;
  bool json_output = false;
};

// What the server stored: id, product, version (and the Mender artifact's name when
// it is one), hardware, counter, hash and size.
void print_uploaded(const json& release) {
  const std::string artifact = release.value("mender_artifact_name", std::string());
  std::printf("release %lld: %s %s%s for %s, security counter %u\n",
              release.at("id").get<long long>(), release.at("product").get<std::string>().c_str(),
              release.at("version").get<std::string>().c_str(),
              artifact.empty() ? "" : (", Mender artifact " + artifact).c_str(),
              join(release.at("hardware").get<std::vector<std::string>>(), ", ").c_str(),
              release.at("security_counter").get<std::uint32_t>());
  std::printf("  sha256  %s\n  size    %llu bytes\n",
              release.at("sha256").get<std::string>().c_str(),
              release.at("size").get<unsigned long long>());
}

HostResult<void> upload_release(ServerConnection& server, const ReleaseArgs& args,
                                const std::vector<std::byte>& image) {
  std::string target = "/api/v1/releases?product=" + url_encode(args.product) +
                       "&version=" + url_encode(args.version) +
                       "&security_counter=" + std::to_string(args.security_counter) +
                       "&hardware=" + url_encode(join(args.hardware));
  if (args.allow_downgrade) target += "&allow_downgrade=true";
  if (!args.notes.empty()) target += "&notes=" + url_encode(args.notes);
  if (!args.enos_version.empty()) target += "&enos_version=" + url_encode(args.enos_version);
  UPDRAFT_TRY_ASSIGN(const json release, server.upload(target, image));
  print_uploaded(release);
  return {};
}

// A .mender file: its product (by device type), hardware and version (by name) come
// from the artifact unless given (docs/api/mender.md).
HostResult<void> upload_mender(ServerConnection& server, const ReleaseArgs& args,
                               const std::vector<std::byte>& artifact) {
  std::string target =
      "/api/v1/releases/mender?security_counter=" + std::to_string(args.security_counter);
  if (!args.product.empty()) target += "&product=" + url_encode(args.product);
  if (!args.version.empty()) target += "&version=" + url_encode(args.version);
  if (!args.notes.empty()) target += "&notes=" + url_encode(args.notes);
  UPDRAFT_TRY_ASSIGN(const json release, server.upload(target, artifact));
  print_uploaded(release);
  return {};
}

bool is_mender_file(const std::string& path) {
  return path.size() > 7 && path.compare(path.size() - 7, 7, ".mender") == 0;
}

int run_upload(const ServerOptions& server, const ReleaseArgs& args, bool counter_given) {
  const bool mender = is_mender_file(args.image_path);
  if (!mender) {
    // An image says nothing of itself: every field is the operator's.
    const char* missing = args.product.empty()    ? "--product"
                          : args.version.empty()  ? "--version"
                          : !counter_given        ? "--security-counter"
                          : args.hardware.empty() ? "--hardware"
                                                  : nullptr;
    if (missing != nullptr) {
      std::fprintf(stderr,
                   "updraft release upload: %s is required for an image (not for a .mender)\n",
                   missing);
      return 2;
    }
  }
  HostResult<std::vector<std::byte>> image = read_file(args.image_path);
  if (!image.ok()) return report_error(image.error());
  // The whole upload is one request: allow a minute plus a second per 256 KiB, so a
  // slow uplink is not cut short.
  const auto timeout = std::chrono::milliseconds(60'000 + (image->size() >> 18) * 1000);
  return run_with_server(
      server,
      [&](ServerConnection& s) {
        return mender ? upload_mender(s, args, *image) : upload_release(s, args, *image);
      },
      timeout);
}

HostResult<void> list_releases(ServerConnection& server, const ReleaseArgs& args) {
  std::string target = "/api/v1/releases?limit=" + std::to_string(args.limit) +
                       "&offset=" + std::to_string(args.offset);
  if (!args.product.empty()) target += "&product=" + url_encode(args.product);
  UPDRAFT_TRY_ASSIGN(const json answer, server.get(target));
  if (args.json_output) {
    std::printf("%s\n", answer.dump(2).c_str());
    return {};
  }
  std::vector<std::vector<std::string>> rows;
  for (const json& r : answer.at("releases")) {
    rows.push_back(
        {std::to_string(r.at("id").get<long long>()), r.at("product").get<std::string>(),
         r.at("version").get<std::string>(), std::to_string(r.value("security_counter", 0u)),
         join(r.value("hardware", std::vector<std::string>{})),
         std::to_string(r.value("size", 0ULL)), r.value("sha256", std::string()).substr(0, 16),
         time_ago(r.value("created_at", std::int64_t{0}))});
  }
  print_table({"ID", "PRODUCT", "VERSION", "COUNTER", "HARDWARE", "SIZE", "SHA256", "CREATED"},
              rows);
  print_page_note(args.offset, rows.size(), answer.value("total", rows.size()));
  return {};
}

HostResult<void> list_deltas(ServerConnection& server, const ReleaseArgs& args) {
  UPDRAFT_TRY_ASSIGN(const json answer,
                     server.get("/api/v1/releases/" + std::to_string(args.id) + "/deltas"));
  if (args.json_output) {
    std::printf("%s\n", answer.dump(2).c_str());
    return {};
  }
  std::vector<std::vector<std::string>> rows;
  for (const json& d : answer.at("deltas")) {
    const json& from = d.at("from_version");
    char ratio[16] = "-";
    if (d.at("ratio").is_number())
      std::snprintf(ratio, sizeof ratio, "%.4f", d.at("ratio").get<double>());
    rows.push_back({from.is_string() ? from.get<std::string>()
                                     : d.at("from_sha256").get<std::string>().substr(0, 16),
                    d.at("profile").get<std::string>(), d.at("state").get<std::string>(),
                    std::to_string(d.at("size").get<unsigned long long>()), ratio,
                    std::to_string(d.at("build_ms").get<unsigned long long>()),
                    std::to_string(d.at("hits").get<unsigned long long>())});
  }
  print_table({"FROM", "PROFILE", "STATE", "SIZE", "RATIO", "BUILD MS", "SERVED"}, rows);
  return {};
}

HostResult<void> delete_release(ServerConnection& server, const ReleaseArgs& args) {
  UPDRAFT_TRY_ASSIGN(const json gone,
                     server.send(net::http::Method::kDelete,
                                 "/api/v1/releases/" + std::to_string(args.id), nullptr));
  std::printf("release %lld (%s %s) deleted\n", gone.at("id").get<long long>(),
              gone.at("product").get<std::string>().c_str(),
              gone.at("version").get<std::string>().c_str());
  return {};
}

}  // namespace

void add_release_command(CLI::App& app, int& exit_code) {
  CLI::App* group = app.add_subcommand(
      "release", "Upload, list and delete firmware releases on the update server");
  group->require_subcommand(1);
  auto args = std::make_shared<ReleaseArgs>();

  CLI::App* upload = group->add_subcommand(
      "upload",
      "Upload a full image as a release; the server signs its manifest and builds deltas on "
      "demand. A Mender artifact (.mender) is checked whole and kept as it is: its product is "
      "the one named like its device type, its version its name, unless given");
  upload->add_option("IMAGE", args->image_path, "The firmware image file, or a .mender artifact")
      ->required()
      ->check(CLI::ExistingFile);
  upload->add_option("--product", args->product,
                     "Product the image is for (required for an image)");
  upload->add_option("--version", args->version,
                     "Version of the image, e.g. 2.1.0 (required for an image)");
  CLI::Option* counter = upload->add_option(
      "--security-counter", args->security_counter,
      "Anti-rollback counter: devices refuse images with a lower one (required for an image; "
      "default 0 for a .mender)");
  upload
      ->add_option("--hardware", args->hardware,
                   "Hardware revisions the image runs on: H[,H...] or repeated (required for an "
                   "image; a .mender's device types)")
      ->delimiter(',');
  upload->add_flag(
      "--allow-downgrade", args->allow_downgrade,
      "Let devices on a newer version install this one (the security counter still applies)");
  upload->add_option("--notes", args->notes, "Release notes");
  upload->add_option("--enos-version", args->enos_version,
                     "The version EnOS sub-devices report for this image, e.g. v2.0.0.1 "
                     "(docs/api/enos.md); default: --version");
  upload->callback([args, counter, server = add_server_options(*upload), &exit_code] {
    exit_code = run_upload(*server, *args, counter->count() > 0);
  });

  CLI::App* list =
      group->add_subcommand("list", "List releases: id, version, counter, hardware, size, hash");
  list->add_option("--product", args->product, "Only this product's releases");
  list->add_option("--limit", args->limit, "Releases to list, newest first (at most 1000)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  list->add_option("--offset", args->offset, "Skip this many newest releases");
  list->add_flag("--json", args->json_output, "Print the server's JSON instead of a table");
  list->callback([args, server = add_server_options(*list), &exit_code] {
    exit_code =
        run_with_server(*server, [&](ServerConnection& s) { return list_releases(s, *args); });
  });

  CLI::App* deltas = group->add_subcommand(
      "deltas", "List the patches built to a release: from which version, size, ratio, build time");
  deltas->add_option("ID", args->id, "Release id")->required();
  deltas->add_flag("--json", args->json_output, "Print the server's JSON instead of a table");
  deltas->callback([args, server = add_server_options(*deltas), &exit_code] {
    exit_code =
        run_with_server(*server, [&](ServerConnection& s) { return list_deltas(s, *args); });
  });

  CLI::App* remove = group->add_subcommand(
      "delete", "Delete a release no campaign uses; its image and the patches to it go too");
  remove->add_option("ID", args->id, "Release id")->required();
  remove->callback([args, server = add_server_options(*remove), &exit_code] {
    exit_code =
        run_with_server(*server, [&](ServerConnection& s) { return delete_release(s, *args); });
  });
}

}  // namespace updraft::cli
