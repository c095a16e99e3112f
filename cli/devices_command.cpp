// `updraft devices [filters]`, `updraft devices register ID ...`,
// `updraft devices tag ID TAG...`, `updraft devices serial ID SERIAL`,
// `updraft devices rotate-secret ID`, `updraft devices decommission ID`,
// `updraft devices history ID`, `updraft devices log ID` and the actions on a
// device's deployment (`retry`, `cancel`, `update-now`, `defer`): the fleet as
// the update server sees it, what happened to each device, and their credentials.
#include <charconv>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/server_connection.h"
#include "cli/table.h"

namespace updraft::cli {
namespace {

using net::http::Method;

struct DevicesArgs {
  // List filters.
  std::string product, hardware, version, tag, state, id_prefix;
  std::size_t limit = 100;
  std::size_t offset = 0;
  long long deployment = 0;  // log and actions: this deployment, 0 = the device's latest
  std::string until;         // defer: "YYYY-MM-DD HH:MM" UTC, Unix seconds, or "now"
  bool json_output = false;
  // register and tag.
  std::string id, secret, serial;
  std::vector<std::string> tags;
};

// The deployment a device is in, for a table cell: "downloading 45% (campaign 3)".
std::string deployment_cell(const json& deployment) {
  if (deployment.is_null()) return "-";
  std::string cell = deployment.at("state").get<std::string>();
  const int progress = deployment.value("progress", 0);
  if (progress > 0 && progress < 100) cell += " " + std::to_string(progress) + "%";
  return cell + " (campaign " + std::to_string(deployment.value("campaign", 0LL)) + ")";
}

std::string error_cell(const json& deployment) {
  if (deployment.is_null() || deployment.value("error", 0) == 0) return "-";
  return deployment.value("error_name", std::string()) + " (" +
         std::to_string(deployment.value("error", 0)) + ")";
}

HostResult<void> list_devices(ServerConnection& server, const DevicesArgs& args) {
  std::string target = "/api/v1/devices?limit=" + std::to_string(args.limit);
  const std::pair<const char*, const std::string*> filters[] = {
      {"product", &args.product}, {"hardware", &args.hardware}, {"version", &args.version},
      {"tag", &args.tag},         {"id", &args.id_prefix},      {"state", &args.state}};
  for (const auto& [name, value] : filters) {
    if (!value->empty()) target += std::string("&") + name + "=" + url_encode(*value);
  }
  UPDRAFT_TRY_ASSIGN(const json answer, server.get(target));
  if (args.json_output) {
    std::printf("%s\n", answer.dump(2).c_str());
    return {};
  }
  // Devices name their product by id; the table shows names.
  UPDRAFT_TRY_ASSIGN(const json products, server.get("/api/v1/products"));
  std::map<long long, std::string> product_names;
  for (const json& p : products.at("products")) {
    product_names[p.at("id").get<long long>()] = p.at("name").get<std::string>();
  }

  const json& devices = answer.at("devices");
  std::vector<std::vector<std::string>> rows;
  for (const json& d : devices) {
    const json deployment = d.value("deployment", json());
    const std::string version = d.value("version", std::string());
    rows.push_back({d.at("id").get<std::string>(), product_names[d.at("product").get<long long>()],
                    d.at("hardware").get<std::string>(), version.empty() ? "-" : version,
                    time_ago(d.value("last_seen", std::int64_t{0})), deployment_cell(deployment),
                    error_cell(deployment)});
  }
  print_table({"ID", "PRODUCT", "HARDWARE", "VERSION", "LAST SEEN", "DEPLOYMENT", "ERROR"}, rows);
  const std::size_t total = answer.value("total", devices.size());
  if (total > devices.size()) {
    std::printf("(%zu of %zu devices; raise --limit to see more)\n", devices.size(), total);
  }
  return {};
}

HostResult<void> register_device(ServerConnection& server, const DevicesArgs& args) {
  json body = {
      {"id", args.id}, {"product", args.product}, {"hardware", args.hardware}, {"tags", args.tags}};
  if (!args.secret.empty()) body["secret"] = args.secret;
  if (!args.serial.empty()) body["serial"] = args.serial;
  UPDRAFT_TRY_ASSIGN(const json device, server.send(Method::kPost, "/api/v1/devices", body));
  std::printf("registered device %s: product %s, hardware %s, tags %s%s%s\n",
              device.at("id").get<std::string>().c_str(), args.product.c_str(),
              device.at("hardware").get<std::string>().c_str(),
              join(device.value("tags", std::vector<std::string>{})).c_str(),
              args.serial.empty() ? "" : ", serial ", args.serial.c_str());
  std::printf("secret: %s\n  (shown once: the device authenticates with it)\n",
              device.at("secret").get<std::string>().c_str());
  return {};
}

HostResult<void> tag_device(ServerConnection& server, const DevicesArgs& args) {
  UPDRAFT_TRY_ASSIGN(const json device,
                     server.send(Method::kPut, "/api/v1/devices/" + url_encode(args.id) + "/tags",
                                 {{"tags", args.tags}}));
  std::printf("device %s: tags %s\n", device.at("id").get<std::string>().c_str(),
              join(device.value("tags", std::vector<std::string>{})).c_str());
  return {};
}

HostResult<void> rotate_secret(ServerConnection& server, const DevicesArgs& args) {
  json body = json::object();
  if (!args.secret.empty()) body["secret"] = args.secret;
  UPDRAFT_TRY_ASSIGN(
      const json device,
      server.send(Method::kPost, "/api/v1/devices/" + url_encode(args.id) + "/secret", body));
  std::printf("device %s: new secret; the old one and the tokens issued with it no longer work\n",
              device.at("id").get<std::string>().c_str());
  std::printf("secret: %s\n  (shown once: the device authenticates with it)\n",
              device.at("secret").get<std::string>().c_str());
  return {};
}

HostResult<void> decommission(ServerConnection& server, const DevicesArgs& args) {
  UPDRAFT_TRY_ASSIGN(
      const json device,
      server.send(Method::kPost, "/api/v1/devices/" + url_encode(args.id) + "/decommission",
                  json::object()));
  std::vector<std::string> canceled;
  for (const json& id : device.value("canceled_deployments", json::array()))
    canceled.push_back(std::to_string(id.get<long long>()));
  std::printf("device %s decommissioned: its tokens no longer work; canceled deployments: %s\n",
              device.at("id").get<std::string>().c_str(), join(canceled).c_str());
  return {};
}

HostResult<void> set_serial(ServerConnection& server, const DevicesArgs& args) {
  UPDRAFT_TRY_ASSIGN(const json device,
                     server.send(Method::kPut, "/api/v1/devices/" + url_encode(args.id) + "/serial",
                                 {{"serial", args.serial}}));
  const std::string serial = device.value("serial", std::string());
  std::printf("device %s: serial %s\n", device.at("id").get<std::string>().c_str(),
              serial.empty() ? "(none)" : serial.c_str());
  return {};
}

HostResult<void> device_history(ServerConnection& server, const DevicesArgs& args) {
  UPDRAFT_TRY_ASSIGN(const json answer, server.get("/api/v1/devices/" + url_encode(args.id) +
                                                   "/history?limit=" + std::to_string(args.limit) +
                                                   "&offset=" + std::to_string(args.offset)));
  if (args.json_output) {
    std::printf("%s\n", answer.dump(2).c_str());
    return {};
  }
  std::vector<std::vector<std::string>> rows;
  const json& history = answer.at("history");
  for (const json& e : history) {
    rows.push_back({utc_time(e.value("at", std::int64_t{0})),
                    std::to_string(e.value("campaign", 0LL)),
                    std::to_string(e.value("deployment", 0LL)), e.value("state", std::string()),
                    std::to_string(e.value("progress", 0)) + "%", error_cell(e),
                    std::to_string(e.value("attempt", 0)), e.value("message", std::string())});
  }
  print_table(
      {"AT (UTC)", "CAMPAIGN", "DEPLOYMENT", "STATE", "PROGRESS", "ERROR", "ATTEMPT", "MESSAGE"},
      rows);
  const std::size_t total = answer.value("total", history.size());
  if (args.offset + history.size() < total) {
    std::printf("(%zu of %zu steps, newest first; --offset %zu shows older ones)\n", history.size(),
                total, args.offset + history.size());
  }
  return {};
}

// --deployment, or the device's latest deployment.
HostResult<long long> deployment_of(ServerConnection& server, const DevicesArgs& args) {
  if (args.deployment != 0) return args.deployment;
  UPDRAFT_TRY_ASSIGN(const json device, server.get("/api/v1/devices/" + url_encode(args.id)));
  const json& all = device.at("deployments");
  if (all.empty())
    return Error(ErrorCode::kApiNotFound, "device " + args.id + " has had no deployment");
  return all.back().at("id").get<long long>();
}

HostResult<void> act_on_deployment(ServerConnection& server, const DevicesArgs& args,
                                   const std::string& action) {
  UPDRAFT_TRY_ASSIGN(const long long deployment, deployment_of(server, args));
  json body = json::object();
  if (action == "defer") {
    UPDRAFT_TRY_ASSIGN(const long long until, parse_utc_time(args.until, "--until"));
    body["until"] = until;
  }
  UPDRAFT_TRY_ASSIGN(
      const json dep,
      server.send(Method::kPost, "/api/v1/deployments/" + std::to_string(deployment) + "/" + action,
                  body));
  std::printf("device %s, deployment %lld (campaign %lld): %s", args.id.c_str(), deployment,
              dep.value("campaign", 0LL), dep.value("state", std::string()).c_str());
  const long long not_before = dep.value("not_before", 0LL);
  if (not_before != 0) std::printf(", deferred until %s", utc_time(not_before).c_str());
  if (dep.value("ignore_window", false)) std::printf(", offered outside the window");
  std::printf("\n");
  return {};
}

HostResult<void> deployment_log(ServerConnection& server, const DevicesArgs& args) {
  UPDRAFT_TRY_ASSIGN(const long long deployment, deployment_of(server, args));
  UPDRAFT_TRY_ASSIGN(const json answer,
                     server.get("/api/v1/deployments/" + std::to_string(deployment) + "/log"));
  if (args.json_output) {
    std::printf("%s\n", answer.dump(2).c_str());
    return {};
  }
  for (const json& l : answer.at("lines")) {
    std::printf("%s  %s\n", utc_time(l.value("at", std::int64_t{0})).c_str(),
                l.value("line", std::string()).c_str());
  }
  const std::uint64_t dropped = answer.value("dropped", std::uint64_t{0});
  if (dropped > 0)
    std::printf("(%llu more lines were dropped: a deployment keeps 1000)\n",
                static_cast<unsigned long long>(dropped));
  if (answer.at("lines").empty()) std::printf("(deployment %lld has no log lines)\n", deployment);
  return {};
}

}  // namespace

void add_devices_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<DevicesArgs>();
  CLI::App* cmd = app.add_subcommand("devices",
                                     "List devices with their version, last check-in and current "
                                     "deployment; or register and tag them");
  cmd->require_subcommand(0, 1);
  cmd->add_option("--product", args->product, "Only this product's devices");
  cmd->add_option("--hardware", args->hardware, "Only this hardware revision");
  cmd->add_option("--version", args->version, "Only devices running this version");
  cmd->add_option("--tag", args->tag, "Only devices with this tag");
  cmd->add_option("--id", args->id_prefix, "Only devices whose id starts with this");
  cmd->add_option("--state", args->state, "Only devices whose latest deployment is in this state")
      ->check(CLI::IsMember({"scheduled", "pending", "downloading", "installing", "rebooting",
                             "succeeded", "failed", "rolled_back", "canceled", "deferred"}));
  cmd->add_option("--limit", args->limit, "At most this many devices (server maximum 10000)")
      ->capture_default_str();
  cmd->add_flag("--json", args->json_output, "Print the server's JSON instead of a table");
  cmd->callback([cmd, args, server = add_server_options(*cmd), &exit_code] {
    if (!cmd->get_subcommands().empty()) return;  // `devices register` or `devices tag` ran
    exit_code =
        run_with_server(*server, [&](ServerConnection& s) { return list_devices(s, *args); });
  });

  CLI::App* reg =
      cmd->add_subcommand("register", "Register a device and print its secret (shown once)");
  reg->add_option("ID", args->id, "Device id: 1..64 of [A-Za-z0-9._:-], e.g. a serial number")
      ->required();
  reg->add_option("--product", args->product, "The device's product")->required();
  reg->add_option("--hardware", args->hardware, "The device's hardware revision")->required();
  reg->add_option("--tag", args->tags, "A tag for targeting campaigns; repeat for more");
  reg->add_option("--secret", args->secret,
                  "The device's secret (>= 16 characters); default: a random one is generated");
  reg->add_option("--serial", args->serial,
                  "The device's serial number; EnOS sub-devices prove themselves with it");
  reg->callback([args, server = add_server_options(*reg), &exit_code] {
    exit_code =
        run_with_server(*server, [&](ServerConnection& s) { return register_device(s, *args); });
  });

  CLI::App* tag = cmd->add_subcommand("tag", "Set a device's tags, replacing the ones it has");
  tag->add_option("ID", args->id, "Device id")->required();
  tag->add_option("TAG", args->tags, "The device's tags from now on")->required();
  tag->callback([args, server = add_server_options(*tag), &exit_code] {
    exit_code = run_with_server(*server, [&](ServerConnection& s) { return tag_device(s, *args); });
  });

  CLI::App* serial =
      cmd->add_subcommand("serial", "Set a device's serial number (\"\" removes it)");
  serial->add_option("ID", args->id, "Device id")->required();
  serial->add_option("SERIAL", args->serial, "1..64 printable characters, no spaces")->required();
  serial->callback([args, server = add_server_options(*serial), &exit_code] {
    exit_code = run_with_server(*server, [&](ServerConnection& s) { return set_serial(s, *args); });
  });

  CLI::App* rotate = cmd->add_subcommand(
      "rotate-secret",
      "Give a device a new secret (printed once); the old secret and its tokens stop working");
  rotate->add_option("ID", args->id, "Device id")->required();
  rotate->add_option("--secret", args->secret,
                     "The new secret (>= 16 characters); default: a random one is generated");
  rotate->callback([args, server = add_server_options(*rotate), &exit_code] {
    exit_code =
        run_with_server(*server, [&](ServerConnection& s) { return rotate_secret(s, *args); });
  });

  CLI::App* history = cmd->add_subcommand(
      "history",
      "What happened to a device's deployments, newest first: every state, error and "
      "attempt");
  history->add_option("ID", args->id, "Device id")->required();
  history->add_option("--limit", args->limit, "At most this many steps (server maximum 1000)")
      ->capture_default_str();
  history->add_option("--offset", args->offset, "Skip this many of the newest steps");
  history->add_flag("--json", args->json_output, "Print the server's JSON instead of a table");
  history->callback([args, server = add_server_options(*history), &exit_code] {
    exit_code =
        run_with_server(*server, [&](ServerConnection& s) { return device_history(s, *args); });
  });

  CLI::App* log = cmd->add_subcommand(
      "log", "The log lines a device attached to its reports, for its latest deployment");
  log->add_option("ID", args->id, "Device id")->required();
  log->add_option("--deployment", args->deployment, "This deployment instead of the latest");
  log->add_flag("--json", args->json_output, "Print the server's JSON instead of lines");
  log->callback([args, server = add_server_options(*log), &exit_code] {
    exit_code =
        run_with_server(*server, [&](ServerConnection& s) { return deployment_log(s, *args); });
  });

  const std::pair<const char*, const char*> actions[] = {
      {"retry", "Offer a failed, rolled-back or canceled device the update again, in its campaign"},
      {"cancel", "Cancel a device's unfinished deployment; it keeps the image it runs"},
      {"update-now", "Release a device's deployment now, whatever its phase and the window"},
      {"defer", "Offer a device nothing before --until"}};
  for (const auto& [name, help] : actions) {
    CLI::App* act = cmd->add_subcommand(name, help);
    act->add_option("ID", args->id, "Device id")->required();
    act->add_option("--deployment", args->deployment,
                    "This deployment instead of the device's latest");
    if (std::string(name) == "defer") {
      act->add_option("--until", args->until,
                      "\"YYYY-MM-DD HH:MM\" (UTC), Unix seconds, or \"now\" to lift it")
          ->required();
    }
    act->callback([args, a = std::string(name), server = add_server_options(*act), &exit_code] {
      exit_code = run_with_server(
          *server, [&](ServerConnection& s) { return act_on_deployment(s, *args, a); });
    });
  }

  CLI::App* retire = cmd->add_subcommand(
      "decommission",
      "Take a device out of service: its tokens end, its open deployment is canceled; the "
      "record stays");
  retire->add_option("ID", args->id, "Device id")->required();
  retire->callback([args, server = add_server_options(*retire), &exit_code] {
    exit_code =
        run_with_server(*server, [&](ServerConnection& s) { return decommission(s, *args); });
  });
}

}  // namespace updraft::cli
