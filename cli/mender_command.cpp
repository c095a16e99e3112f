// `updraft mender list [--status S]`, `accept ID --product P [--hardware H]`,
// `reject ID` and `preauthorize --id-data JSON --pubkey FILE --product P`: the
// authentication sets of Mender clients (docs/api/mender.md). A client waits
// pending until an operator accepts it; a rejected one is refused at once.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/server_connection.h"
#include "cli/table.h"
#include "core/host/file.h"

namespace updraft::cli {
namespace {

using net::http::Method;

struct MenderArgs {
  long long id = 0;
  std::string status, product, hardware, id_data, pubkey_path;
  std::size_t limit = 100, offset = 0;
  bool json_output = false;
};

// One line about a set: its id, status, device and identity.
void print_set(const json& set) {
  const json& device = set.at("device");
  std::printf("auth set %lld: %s, device %s, identity %s\n", set.at("id").get<long long>(),
              set.at("status").get<std::string>().c_str(),
              device.is_string() ? device.get<std::string>().c_str() : "(none yet)",
              set.at("id_data").dump().c_str());
}

HostResult<void> list_sets(ServerConnection& server, const MenderArgs& args) {
  std::string target = "/api/v1/mender/auth_sets?limit=" + std::to_string(args.limit) +
                       "&offset=" + std::to_string(args.offset);
  if (!args.status.empty()) target += "&status=" + url_encode(args.status);
  UPDRAFT_TRY_ASSIGN(const json answer, server.get(target));
  if (args.json_output) {
    std::printf("%s\n", answer.dump(2).c_str());
    return {};
  }
  std::vector<std::vector<std::string>> rows;
  for (const json& s : answer.at("auth_sets")) {
    const json& device = s.at("device");
    rows.push_back({std::to_string(s.at("id").get<long long>()), s.at("status").get<std::string>(),
                    device.is_string() ? device.get<std::string>() : "-", s.at("id_data").dump(),
                    time_ago(s.value("updated_at", std::int64_t{0}))});
  }
  print_table({"ID", "STATUS", "DEVICE", "IDENTITY", "CHANGED"}, rows);
  print_page_note(args.offset, rows.size(), answer.value("total", rows.size()));
  return {};
}

HostResult<void> decide(ServerConnection& server, const MenderArgs& args, const char* verb) {
  json body = json::object();
  if (!args.product.empty()) body["product"] = args.product;
  if (!args.hardware.empty()) body["hardware"] = args.hardware;
  UPDRAFT_TRY_ASSIGN(
      const json set,
      server.send(Method::kPost, "/api/v1/mender/auth_sets/" + std::to_string(args.id) + "/" + verb,
                  body));
  print_set(set);
  return {};
}

HostResult<void> preauthorize(ServerConnection& server, const MenderArgs& args) {
  UPDRAFT_TRY_ASSIGN(const std::vector<std::byte> pem, read_file(args.pubkey_path));
  const json body = {{"id_data", args.id_data},
                     {"pubkey", std::string(reinterpret_cast<const char*>(pem.data()), pem.size())},
                     {"product", args.product},
                     {"hardware", args.hardware}};
  UPDRAFT_TRY_ASSIGN(const json set, server.send(Method::kPost, "/api/v1/mender/auth_sets", body));
  print_set(set);
  return {};
}

}  // namespace

void add_mender_command(CLI::App& app, int& exit_code) {
  CLI::App* group = app.add_subcommand(
      "mender", "Admit Mender clients: list, accept, reject or preauthorize their identities");
  group->require_subcommand(1);
  auto args = std::make_shared<MenderArgs>();

  CLI::App* list = group->add_subcommand("list", "List authentication sets, newest first");
  list->add_option("--status", args->status, "Only sets in this status")
      ->check(CLI::IsMember({"pending", "accepted", "rejected", "preauthorized"}));
  list->add_option("--limit", args->limit, "Sets to list (at most 1000)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  list->add_option("--offset", args->offset, "Skip this many newest sets");
  list->add_flag("--json", args->json_output, "Print the server's JSON instead of a table");
  list->callback([args, server = add_server_options(*list), &exit_code] {
    exit_code = run_with_server(*server, [&](ServerConnection& s) { return list_sets(s, *args); });
  });

  CLI::App* accept = group->add_subcommand(
      "accept", "Accept a set: its client gets tokens; a new identity becomes a device");
  accept->add_option("ID", args->id, "Authentication set id")->required();
  accept->add_option("--product", args->product,
                     "Product of the new device (required the first time an identity is accepted)");
  accept->add_option("--hardware", args->hardware,
                     "Hardware id of the new device; default: the product's name");
  accept->callback([args, server = add_server_options(*accept), &exit_code] {
    exit_code =
        run_with_server(*server, [&](ServerConnection& s) { return decide(s, *args, "accept"); });
  });

  CLI::App* reject =
      group->add_subcommand("reject", "Reject a set: its client's tokens stop working at once");
  reject->add_option("ID", args->id, "Authentication set id")->required();
  reject->callback([args, server = add_server_options(*reject), &exit_code] {
    exit_code =
        run_with_server(*server, [&](ServerConnection& s) { return decide(s, *args, "reject"); });
  });

  CLI::App* pre = group->add_subcommand(
      "preauthorize", "Admit an identity and key before the client asks; its device is made now");
  pre->add_option("--id-data", args->id_data,
                  "The client's identity, JSON, e.g. '{\"mac\":\"...\"}'")
      ->required();
  pre->add_option("--pubkey", args->pubkey_path, "The client's public key (PEM file)")
      ->required()
      ->check(CLI::ExistingFile);
  pre->add_option("--product", args->product, "Product of the device")->required();
  pre->add_option("--hardware", args->hardware, "Hardware id; default: the product's name");
  pre->callback([args, server = add_server_options(*pre), &exit_code] {
    exit_code =
        run_with_server(*server, [&](ServerConnection& s) { return preauthorize(s, *args); });
  });
}

}  // namespace updraft::cli
