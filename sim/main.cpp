// updraft-sim: a fleet of simulated devices — the real agent, real flash rules,
// real HTTP — against a running updraftd, with faults on demand. Prints a live line
// per round and a final table.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/host/file.h"
#include "net/http/http_client.h"
#include "sim/fleet_simulator.h"

namespace {

using namespace updraft;

std::string read_token(const std::string& path) {
  std::ifstream in(path);
  std::string token;
  in >> token;
  return token;
}

// The campaign's state through the admin API, or "" when it cannot be read.
std::string campaign_state(const sim::FleetOptions& o, int campaign) {
  net::http::HttpClient client(o.host, o.port);
  HostResult<net::http::ClientResponse> r =
      client.request(net::http::Method::kGet, "/api/v1/campaigns/" + std::to_string(campaign),
                     {{"authorization", "Bearer " + o.admin_token}});
  if (!r.ok() || r->status != 200) return "";
  const nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
  return j.is_object() ? j.value("state", std::string()) : std::string();
}

}  // namespace

int main(int argc, char** argv) {
  sim::FleetOptions o;
  std::string server = "127.0.0.1:8080";
  std::string token_file;
  std::string image_path;
  std::string target_version;
  int campaign = 0;
  bool quiet = false;
  std::string json_out;
  CLI::App app{"updraft-sim: simulated devices running the real Updraft agent against updraftd"};
  app.add_option("--server", server, "updraftd address host:port")->capture_default_str();
  app.add_option("--token", o.admin_token, "admin API token (registers the devices)");
  app.add_option("--token-file", token_file,
                 "file holding the admin API token (e.g. <data>/admin.token)");
  app.add_option("--product", o.product, "product the devices belong to")->required();
  app.add_option("--hardware", o.hardware, "hardware id of the devices")->capture_default_str();
  app.add_option("--image", image_path, "the image every device runs at the start")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--version", o.version, "... as this version")->required();
  app.add_option("--security-counter", o.security_counter, "... with this security counter")
      ->capture_default_str();
  app.add_option("--target-version", target_version, "the version that counts as updated")
      ->required();
  app.add_option("--campaign", campaign, "stop once this campaign is completed, paused or aborted");
  app.add_option("--devices,-n", o.devices, "number of devices")->capture_default_str();
  std::string transport = "http";
  app.add_option("--transport", transport,
                 "how devices reach the server: http, or coap (docs/formats/coap.md)")
      ->check(CLI::IsMember({"http", "coap"}))
      ->capture_default_str();
  app.add_option("--coap-port", o.coap_port,
                 "with --transport coap: updraftd's --coap-listen port");
  app.add_option("--coap-block", o.coap_block, "with --transport coap: block size, 64..1024")
      ->check(CLI::IsMember({64, 128, 256, 512, 1024}))
      ->capture_default_str();
  app.add_option("--id-prefix", o.id_prefix, "device ids are <prefix><number>")
      ->capture_default_str();
  app.add_option("--threads", o.threads, "threads stepping devices")->capture_default_str();
  app.add_option("--seed", o.seed, "random seed for faults")->capture_default_str();
  app.add_option("--power-cut-rate", o.power_cut_rate,
                 "per device step: power fails at a random flash operation");
  app.add_option("--drop-rate", o.drop_rate, "per artifact request: the connection drops");
  app.add_option("--corrupt-rate", o.corrupt_rate,
                 "per device: one downloaded byte arrives corrupted");
  app.add_option("--offline-rate", o.offline_rate,
                 "per device step: the device is offline this round");
  app.add_option("--low-battery-rate", o.low_battery_rate,
                 "per device: starts below the battery floor");
  app.add_option("--max-rounds", o.max_rounds, "give up after this many rounds")
      ->capture_default_str();
  app.add_flag("--quiet,-q", quiet, "no live line per round");
  app.add_option("--json", json_out, "write the outcome per device to this file");
  CLI11_PARSE(app, argc, argv);
  if ((transport == "coap") != (o.coap_port != 0)) {
    std::fprintf(stderr, "updraft-sim: --transport coap goes with --coap-port\n");
    return 2;
  }

  const std::size_t colon = server.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "updraft-sim: --server is host:port\n");
    return 2;
  }
  o.host = server.substr(0, colon);
  o.port = static_cast<std::uint16_t>(std::stoi(server.substr(colon + 1)));
  if (o.admin_token.empty() && !token_file.empty()) o.admin_token = read_token(token_file);
  if (o.admin_token.empty()) {
    std::fprintf(stderr, "updraft-sim: an admin token is needed (--token or --token-file)\n");
    return 2;
  }
  HostResult<std::vector<std::byte>> image = read_file(image_path);
  if (!image.ok()) {
    std::fprintf(stderr, "updraft-sim: %s\n", image.error().to_string().c_str());
    return 3;
  }
  o.image = std::move(image).value();

  int rounds_after_end = 0;
  const auto done = [&](const sim::FleetSummary& s) {
    if (s.on_version == s.devices) return true;
    if (campaign == 0) return false;
    const std::string state = campaign_state(o, campaign);
    // One more round after the campaign ends lets in-flight trials settle.
    if (state == "completed" || state == "paused" || state == "aborted")
      return ++rounds_after_end > 3;
    return false;
  };
  const bool tty = ::isatty(2) != 0;
  const auto live = [&](const sim::FleetSummary& s) {
    if (quiet || (!tty && s.rounds % 10 != 0)) return;
    std::size_t failed = 0;
    for (const auto& [e, n] : s.failed_by_error) failed += n;
    std::fprintf(
        stderr,
        "%sround %4d  %6.1f s  updated %zu/%zu  failed %zu  rolled back %zu  %.1f MB downloaded   ",
        tty ? "\r" : "", s.rounds, static_cast<double>(s.elapsed.count()) / 1000.0, s.on_version,
        s.devices, failed, s.rolled_back, static_cast<double>(s.bytes_downloaded) / 1e6);
    if (!tty) std::fprintf(stderr, "\n");
  };
  HostResult<sim::FleetSummary> summary = sim::run_fleet(o, target_version, done, live);
  if (!quiet && tty) std::fprintf(stderr, "\n");
  if (!summary.ok()) {
    std::fprintf(stderr, "updraft-sim: %s\n", summary.error().to_string().c_str());
    return 1;
  }
  std::printf("%s", sim::format_summary(*summary, target_version).c_str());
  if (!json_out.empty()) {
    nlohmann::json j = {{"devices", summary->devices},
                        {"rounds", summary->rounds},
                        {"updated", summary->on_version},
                        {"on_old", summary->on_old},
                        {"rolled_back", summary->rolled_back},
                        {"bricked", summary->bricked},
                        {"bytes_downloaded", summary->bytes_downloaded},
                        {"full_image_bytes", summary->full_image_bytes},
                        {"elapsed_ms", summary->elapsed.count()},
                        {"check_ins", summary->check_ins},
                        {"check_in_p50_us", summary->check_in_p50_us},
                        {"check_in_p99_us", summary->check_in_p99_us}};
    nlohmann::json outcomes = nlohmann::json::array();
    for (const sim::DeviceOutcome& d : summary->outcomes) {
      outcomes.push_back({{"id", d.id},
                          {"version", d.version},
                          {"last_phase", d.last_phase},
                          {"last_error", d.last_error},
                          {"acked_phase", d.acked_phase},
                          {"acked_error", d.acked_error},
                          {"acked_reports", d.acked_reports},
                          {"rolled_back", d.rolled_back},
                          {"bricked", d.bricked},
                          {"bytes", d.bytes}});
    }
    j["outcomes"] = outcomes;
    std::ofstream(json_out) << j.dump(1) << "\n";
  }
  return summary->bricked == 0 ? 0 : 1;
}
