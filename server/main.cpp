// updraftd: the update server. Wires config -> store -> keys -> services -> routes
// -> listener, runs the campaign scheduler, and stops gracefully on SIGINT/SIGTERM.
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <thread>
#include <tuple>
#include <vector>

#include "crypto/host/signing_key.h"
#include "net/coap/coap_server.h"
#include "net/http/http_server.h"
#include "server/api/coap_routes.h"
#include "server/api/routes.h"
#include "server/services/cluster_events.h"
#include "server/services/mqtt_wake.h"
#include "server/storage/postgres/leader_lock.h"
#include "server/storage/postgres/postgres_store.h"
#include "server/storage/sqlite/sqlite_store.h"

namespace {

using namespace updraft;
using namespace updraft::server;

struct Config {
  std::string data_dir = "updraft-data";
  std::string store;  // empty: SQLite in data_dir
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;
  std::string port_file;
  unsigned threads = 2;
  std::string tls_cert, tls_key;
  std::int64_t poll_seconds = 3600;
  std::int64_t active_poll_seconds = 60;
  std::int64_t answer_ttl_seconds = 300;
  unsigned delta_workers = 1;
  std::uint64_t delta_cache_mb = 1024;
  unsigned tick_ms = 1000;
  std::string mqtt;                       // host:port of a broker for device wake-ups; empty: none
  std::string key_algorithm = "ed25519";  // of the keys made when <data>/keys is new
  std::vector<std::string> roots;         // root metadata made offline, to import (--root)
  std::vector<std::string> enos_listen;   // ADDR:PORT listeners with the EnOS routes only
  std::string coap_listen;                // ADDR:PORT for CoAP over UDP; empty: none
  std::string coaps_listen;               // ADDR:PORT for CoAP over DTLS (PSK); empty: none
  // Limits against hostile clients (docs/operations.md).
  std::size_t max_connections = 0;         // 0: from the open-file limit
  std::size_t max_connections_per_ip = 0;  // 0: a quarter of max_connections
  double header_timeout_seconds = 10;
  double idle_timeout_seconds = 30;
  std::size_t max_json_body = 64 * 1024;
  std::string public_url;                // base of absolute links (DDI); "": from Host
  bool trust_forwarded_headers = false;  // honour X-Forwarded-Proto/-Host (behind a proxy)
  std::uint64_t min_free_disk_mb = 128;  // below it /api/v1/health answers 503
  std::uint64_t max_upload_bytes = ReleaseService::kDefaultMaxImageBytes;
};

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

// Where request bodies stream to (release images): on the data folder's file
// system, so an image moves into place with a rename. What a crash left is stale.
HostResult<std::string> incoming_dir(const std::string& data_dir) {
  namespace fs = std::filesystem;
  const std::string dir = data_dir + "/incoming";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return Error(ErrorCode::kIoError, "cannot create " + dir + ": " + ec.message());
  return dir;
}

// "ADDR:PORT" (ADDR may be empty for 127.0.0.1); false if malformed.
bool parse_listen(const std::string& text, std::string& address, std::uint16_t& port) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  address = colon == 0 ? "127.0.0.1" : text.substr(0, colon);
  unsigned value = 0;
  const std::string digits = text.substr(colon + 1);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size() || value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

UnixTime wall_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int fail(const Error& error) {
  std::fprintf(stderr, "updraftd: %s\n", error.to_string().c_str());
  return 1;
}

// The HMAC key for device tokens: made once, kept in the store, so tokens survive
// restarts and every server on a shared database signs with the same key.
HostResult<std::string> device_token_key(Store& store) {
  UPDRAFT_TRY_ASSIGN(std::string fresh, random_secret());
  return store.setting_or_set("device_token_key", fresh);
}

// With no admin token yet, makes one and writes it to <data>/admin.token (0600).
HostResult<void> bootstrap_admin_token(FleetService& fleet, const std::string& data_dir) {
  UPDRAFT_TRY_ASSIGN(std::optional<std::string> secret, fleet.bootstrap_admin_token(wall_now()));
  if (!secret) return {};
  const std::string path = data_dir + "/admin.token";
  const mode_t old_mask = ::umask(077);
  std::ofstream(path) << *secret << "\n";
  ::umask(old_mask);
  std::printf("updraftd: created the admin API token in %s\n", path.c_str());
  return {};
}

// SQLite in the data directory unless --store names a PostgreSQL database.
HostResult<std::unique_ptr<Store>> open_store(const Config& config) {
  if (PostgresStore::is_uri(config.store)) {
    UPDRAFT_TRY_ASSIGN(auto store, PostgresStore::open(config.store));
    std::printf("updraftd: store: PostgreSQL\n");
    return std::unique_ptr<Store>(std::move(store));
  }
  const std::string path = config.store.empty() ? config.data_dir + "/updraft.db" : config.store;
  UPDRAFT_TRY_ASSIGN(auto store, SqliteStore::open(path));
  std::printf("updraftd: store: SQLite %s\n", path.c_str());
  return std::unique_ptr<Store>(std::move(store));
}

int run(const Config& config) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(config.data_dir, ec);
  if (ec)
    return fail(
        Error(ErrorCode::kIoError, "cannot create " + config.data_dir + ": " + ec.message()));

  HostResult<std::unique_ptr<Store>> opened = open_store(config);
  if (!opened.ok()) return fail(opened.error());
  Store& store = **opened;
  ServerKeys::Options key_options;
  key_options.algorithm = algorithm_from_name(config.key_algorithm).value();  // checked by CLI11
  key_options.import_roots = config.roots;
  HostResult<ServerKeys> keys = ServerKeys::load_or_create(config.data_dir + "/keys", key_options);
  if (!keys.ok()) return fail(keys.error());
  std::printf("updraftd: keys: %s\n", keys->describe().c_str());
  HostResult<std::string> token_key = device_token_key(store);
  if (!token_key.ok()) return fail(token_key.error());
  DeviceTokens device_tokens(*token_key);
  FleetService fleet(store, device_tokens);
  if (auto r = bootstrap_admin_token(fleet, config.data_dir); !r.ok()) return fail(r.error());

  // Release images and patches: files under <data>/artifacts (shared by the nodes
  // of a cluster). Another ArtifactStore (an object store) would be chosen here.
  HostResult<std::unique_ptr<DirectoryArtifactStore>> artifact_dir =
      DirectoryArtifactStore::open(config.data_dir + "/artifacts");
  if (!artifact_dir.ok()) return fail(artifact_dir.error());
  ArtifactStore& artifacts = **artifact_dir;
  DeltaCache deltas(store, artifacts,
                    DeltaCache::Options{config.delta_workers, config.delta_cache_mb << 20});
  EventBus events;
  // On a shared database every node's events reach every node's streams.
  std::unique_ptr<ClusterEvents> cluster_events;
  if (PostgresStore::is_uri(config.store)) {
    HostResult<std::unique_ptr<ClusterEvents>> relay = ClusterEvents::start(config.store, events);
    if (!relay.ok()) return fail(relay.error());
    cluster_events = std::move(*relay);
    events.set_relay(cluster_events.get());
  }
  if (!config.mqtt.empty()) {
    HostResult<std::shared_ptr<MqttWake>> wake = MqttWake::start(config.mqtt);
    if (!wake.ok()) return fail(wake.error());
    events.subscribe(*wake);
  }
  Metrics metrics;
  ReleaseService releases(store, *keys, artifacts, config.max_upload_bytes);
  StatusQueue statuses(store);
  CampaignService campaigns(store, statuses, events, deltas);
  UpdateSettings settings;
  settings.poll_seconds = config.poll_seconds;
  settings.active_poll_seconds = config.active_poll_seconds;
  settings.answer_ttl_seconds = config.answer_ttl_seconds;
  UpdateService updates(store, releases, deltas, campaigns, statuses, events, metrics, settings);
  ArtifactDigests digests(store);
  DdiService ddi(store, fleet, updates, deltas, digests, events);
  EnosService enos(store, fleet, updates, digests, device_tokens);
  MenderService mender(store, fleet, updates, device_tokens);
  HealthProbe health(store, config.data_dir, config.min_free_disk_mb << 20);
  api::ApiContext context{fleet, *keys,  deltas, releases, campaigns, updates, ddi,
                          enos,  mender, events, metrics,  health,    wall_now};
  api::AdminAuth auth(fleet);

  net::http::Router router;
  api::add_device_routes(router, context);
  api::add_enos_routes(router, context);
  api::add_admin_routes(router, context, auth);
  api::add_console_routes(router);
  api::PublicUrl public_url;
  public_url.configured = config.public_url;
  public_url.scheme = config.tls_cert.empty() ? "http" : "https";
  public_url.trust_forwarded = config.trust_forwarded_headers;
  api::add_mender_routes(router, context, auth, public_url);
  api::add_ddi_routes(router, context, auth, public_url);

  // Signals are taken by sigwait below, so block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  net::http::HttpServerOptions options;
  options.address = config.address;
  options.port = config.port;
  options.threads = config.threads;
  options.tls_cert_path = config.tls_cert;
  options.tls_key_path = config.tls_key;
  // Every body but a release image (its route sets its own limit, and streams it
  // to disk) is a small JSON document.
  options.max_body_bytes = config.max_json_body;
  options.max_connections = config.max_connections;
  options.max_connections_per_ip = config.max_connections_per_ip;
  options.header_timeout = to_ms(config.header_timeout_seconds);
  options.idle_timeout = to_ms(config.idle_timeout_seconds);
  HostResult<std::string> incoming = incoming_dir(config.data_dir);
  if (!incoming.ok()) return fail(incoming.error());
  options.body_file_dir = *incoming;
  net::http::HttpServer server(options, router);
  if (auto started = server.start(); !started.ok()) return fail(started.error());
  const std::string scheme = config.tls_cert.empty() ? "http" : "https";
  std::printf("updraftd: listening on %s://%s:%u (data in %s)\n", scheme.c_str(),
              config.address.c_str(), server.port(), config.data_dir.c_str());
  std::printf("updraftd: at most %zu connections, %zu per client address\n",
              server.max_connections(), server.max_connections_per_ip());
  std::fflush(stdout);
  if (!config.port_file.empty()) std::ofstream(config.port_file) << server.port() << "\n";

  // EnOS sub-devices expect the edge's own ports (5055, and 5050 for download
  // results): extra listeners with the EnOS routes only. An unknown path there
  // answers in EnOS's error shape, as the document's example does.
  net::http::Router enos_router;
  api::add_enos_routes(enos_router, context);
  const auto enos_handler = [&enos_router](net::http::Request& request) {
    net::http::Response response = enos_router.dispatch(request);
    if (response.status == 404 || response.status == 405) {
      if (response.body.find("\"httpstatus\"") == std::string::npos) {
        response = net::http::Response::json(response.status == 405 ? 400 : 404,
                                             std::string(R"({"httpstatus":)") +
                                                 (response.status == 405 ? "400" : "404") +
                                                 R"(,"message":"unsupported url"})");
      }
    }
    return response;
  };
  std::vector<std::unique_ptr<net::http::HttpServer>> enos_servers;
  for (const std::string& listen : config.enos_listen) {
    net::http::HttpServerOptions enos_options = options;
    enos_options.threads = 1;
    // The EnOS bodies are a few hundred bytes; server.max_body_bytes holds them.
    if (!parse_listen(listen, enos_options.address, enos_options.port)) {
      return fail(Error(ErrorCode::kInvalidArgument,
                        "--enos-listen: expected ADDR:PORT, got \"" + listen + "\""));
    }
    auto enos_server = std::make_unique<net::http::HttpServer>(
        enos_options, enos_handler,
        [&enos_router](net::http::Request& request) { return enos_router.admit(request); });
    if (auto started = enos_server->start(); !started.ok()) return fail(started.error());
    std::printf("updraftd: EnOS sub-device endpoints on %s://%s:%u\n", scheme.c_str(),
                enos_options.address.c_str(), enos_server->port());
    enos_servers.push_back(std::move(enos_server));
  }
  std::fflush(stdout);

  // The CoAP device API (docs/formats/coap.md) for devices on NB-IoT and the like:
  // one server with a plain UDP endpoint, a DTLS-PSK endpoint, or both.
  std::unique_ptr<net::coap::CoapServer> coap;
  if (!config.coap_listen.empty() || !config.coaps_listen.empty()) {
    net::coap::CoapServerOptions coap_options;
    for (const auto& [flag, text, endpoint] :
         {std::tuple{"--coap-listen", &config.coap_listen, &coap_options.udp},
          std::tuple{"--coaps-listen", &config.coaps_listen, &coap_options.dtls}}) {
      if (text->empty()) continue;
      endpoint->emplace();
      if (!parse_listen(*text, (*endpoint)->address, (*endpoint)->port)) {
        return fail(Error(ErrorCode::kInvalidArgument,
                          std::string(flag) + ": expected ADDR:PORT, got \"" + *text + "\""));
      }
    }
    const std::optional<net::coap::Endpoint> udp = coap_options.udp, dtls = coap_options.dtls;
    coap_options.psk = [&context](std::string_view identity) {
      return api::coap_psk_key(context, identity);
    };
    coap_options.log = [](std::string_view line) {
      std::fprintf(stderr, "updraftd: CoAP: %.*s\n", static_cast<int>(line.size()), line.data());
    };
    coap = std::make_unique<net::coap::CoapServer>(std::move(coap_options));
    api::add_coap_routes(*coap, context, device_tokens);
    if (auto started = coap->start(); !started.ok()) return fail(started.error());
    if (udp)
      std::printf("updraftd: CoAP on coap://%s:%u\n", udp->address.c_str(), coap->udp_port());
    if (dtls) {
      std::printf("updraftd: CoAP on coaps://%s:%u\n", dtls->address.c_str(), coap->dtls_port());
    }
    std::fflush(stdout);
  }

  // The campaign scheduler: releases phases, advances, pauses and completes. On a
  // shared PostgreSQL database only the node holding the scheduler's advisory lock
  // ticks campaigns; every node flushes its own device statuses.
  std::unique_ptr<postgres::LeaderLock> leader;
  if (PostgresStore::is_uri(config.store)) {
    HostResult<std::unique_ptr<postgres::LeaderLock>> lock =
        postgres::LeaderLock::open(config.store, postgres::kSchedulerLeaderKey);
    if (!lock.ok()) return fail(lock.error());
    leader = std::move(*lock);
  }
  std::atomic<bool> running{true};
  std::thread scheduler([&] {
    std::optional<bool> was_leading;  // unknown until the first tick
    while (running.load()) {
      if (auto r = statuses.flush(); !r.ok()) {
        std::fprintf(stderr, "updraftd: device statuses: %s\n", r.error().to_string().c_str());
      }
      if (auto r = campaigns.follow_generation(); !r.ok()) {
        std::fprintf(stderr, "updraftd: campaign changes: %s\n", r.error().to_string().c_str());
      }
      bool leading = true;
      if (leader != nullptr) {
        HostResult<bool> held = leader->try_acquire();
        if (!held.ok()) {
          std::fprintf(stderr, "updraftd: scheduler lock: %s\n", held.error().to_string().c_str());
        }
        leading = held.ok() && *held;
        if (leading != was_leading) {
          std::printf("updraftd: campaign scheduler: %s\n",
                      leading ? "leading" : "standing by (another node leads)");
          std::fflush(stdout);
        }
      }
      was_leading = leading;
      if (leading) {
        if (auto r = campaigns.tick(std::nullopt, wall_now()); !r.ok()) {
          std::fprintf(stderr, "updraftd: campaign tick: %s\n", r.error().to_string().c_str());
        }
      }
      for (unsigned waited = 0; waited < config.tick_ms && running.load(); waited += 50) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  });

  int signal = 0;
  sigwait(&signals, &signal);
  std::printf("updraftd: %s, stopping\n", signal == SIGINT ? "SIGINT" : "SIGTERM");
  server.stop(std::chrono::seconds(5));
  for (auto& s : enos_servers) s->stop(std::chrono::seconds(1));
  if (coap) coap->stop();
  running = false;
  scheduler.join();
  (void)statuses.flush();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Config config;
  CLI::App app{"updraftd: the Updraft update server (devices, releases, deltas, campaigns)"};
  app.set_config("--config", "", "read options from this TOML/INI file");
  app.add_option("--data", config.data_dir, "data directory: database, keys, artifacts")
      ->capture_default_str();
  app.add_option("--store", config.store,
                 "database: a SQLite file (default: DATA/updraft.db) or "
                 "postgresql://user[:password]@host[:port]/database");
  app.add_option("--listen", config.address, "address to listen on")->capture_default_str();
  app.add_option("--port", config.port, "port (0: any free port)")->capture_default_str();
  app.add_option("--port-file", config.port_file, "write the bound port to this file");
  app.add_option("--threads", config.threads, "HTTP threads")->capture_default_str();
  app.add_option("--tls-cert", config.tls_cert, "PEM certificate chain: serve HTTPS");
  app.add_option("--tls-key", config.tls_key, "PEM private key for --tls-cert");
  app.add_option("--poll-seconds", config.poll_seconds, "how often idle devices check in")
      ->capture_default_str();
  app.add_option("--active-poll-seconds", config.active_poll_seconds,
                 "check-in interval during an update")
      ->capture_default_str();
  app.add_option("--answer-ttl", config.answer_ttl_seconds,
                 "seconds a signed check-in answer stays valid")
      ->capture_default_str();
  app.add_option("--delta-workers", config.delta_workers, "threads building deltas")
      ->capture_default_str();
  app.add_option("--delta-cache-mb", config.delta_cache_mb, "disk budget for cached deltas")
      ->capture_default_str();
  app.add_option("--tick-ms", config.tick_ms, "campaign scheduler interval")->capture_default_str();
  app.add_option("--mqtt", config.mqtt,
                 "MQTT broker host:port: wake devices on updraft/devices/<id>/wake");
  app.add_option("--key-algorithm", config.key_algorithm,
                 "algorithm of the root and release keys made on first start: ed25519, "
                 "ecdsa-p256 for devices that verify with mbedTLS, rsa-2048-pss or rsa-3072-pss; "
                 "existing keys are kept")
      ->check(CLI::IsMember({"ed25519", "ecdsa-p256", "rsa-2048-pss", "rsa-3072-pss"}))
      ->capture_default_str();
  app.add_option("--root", config.roots,
                 "offline root (production): import root metadata made with `updraft root "
                 "create|sign` on another machine (repeatable, in version order; a new version "
                 "must be signed by the current root's threshold). updraftd then holds only "
                 "the release key; see docs/design.md, \"Keys\"");
  app.add_option("--enos-listen", config.enos_listen,
                 "ADDR:PORT serving the EnOS sub-device endpoints only, e.g. 0.0.0.0:5055 "
                 "(repeatable; the main port serves them too)");
  app.add_option("--coap-listen", config.coap_listen,
                 "ADDR:PORT for the CoAP device API over UDP, e.g. 0.0.0.0:5683 "
                 "(docs/formats/coap.md; check-ins and reports carry a MAC)");
  app.add_option("--coaps-listen", config.coaps_listen,
                 "ADDR:PORT for the CoAP device API over DTLS with pre-shared keys, e.g. "
                 "0.0.0.0:5684 (identity: the device id)");
  app.add_option("--max-connections", config.max_connections,
                 "most open HTTP connections; 0: half the open-file limit minus 32. When "
                 "full, the longest-idle connection is closed for a new one")
      ->capture_default_str();
  app.add_option("--max-connections-per-ip", config.max_connections_per_ip,
                 "most open connections from one client address; 0: a quarter of "
                 "--max-connections (behind a reverse proxy, set it to --max-connections)")
      ->capture_default_str();
  app.add_option("--header-timeout", config.header_timeout_seconds,
                 "seconds a request's header may take to arrive")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--idle-timeout", config.idle_timeout_seconds,
                 "seconds a keep-alive connection may wait for a request, and a body or an "
                 "answer may make no progress (an upload that keeps moving is never cut)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-json-body", config.max_json_body,
                 "largest request body in bytes, release uploads excepted")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-upload-bytes", config.max_upload_bytes,
                 "largest release image in bytes (a product's slot size bounds it too)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--public-url", config.public_url,
                 "the URL devices reach this server at, e.g. https://ota.example.com; "
                 "absolute links in answers (DDI) start with it. Without it they are built "
                 "from the request's Host header, which must then be a valid host name")
      ->check([](const std::string& url) {
        const HostResult<void> valid = api::validate_public_url(url);
        return valid.ok() ? std::string() : valid.error().message;
      });
  app.add_flag("--trust-forwarded-headers", config.trust_forwarded_headers,
               "build links from X-Forwarded-Proto / X-Forwarded-Host: only behind a reverse "
               "proxy that sets them (any client could otherwise)");
  app.add_option("--min-free-disk-mb", config.min_free_disk_mb,
                 "free space on the data folder's file system below which /api/v1/health "
                 "answers 503 (degraded)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (config.tls_cert.empty() != config.tls_key.empty()) {
    std::fprintf(stderr, "updraftd: --tls-cert and --tls-key go together\n");
    return 2;
  }
  try {
    return run(config);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "updraftd: internal error: %s\n", e.what());
    return 1;
  }
}
