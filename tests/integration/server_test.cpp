// updraftd end to end on loopback: a real server process on a fresh store, SQLite
// and PostgreSQL (a private server the test starts; skipped, never passed, when
// PostgreSQL is not installed), driven over HTTP the way devices and operators drive it. Devices
// here are scripted (check in, download, report); the real agent against the server is the fleet
// simulator's job.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/host/hex.h"
#include "crypto/host/base64.h"
#include "crypto/host/openssl_verifier.h"
#include "crypto/sha256.h"
#include "delta/patch/host/apply.h"
#include "delta/testing/test_images.h"
#include "manifest/host/manifest_builder.h"
#include "manifest/host/root_builder.h"
#include "manifest/verifier.h"
#include "net/http/http_client.h"
#include "server/storage/postgres/testing/temp_postgres.h"
#include "tests/integration/updraftd_process.h"

namespace updraft {
namespace {

using net::http::ClientResponse;
using net::http::HttpClient;
using net::http::Method;
using nlohmann::json;
using Bytes = std::vector<std::byte>;

const Bytes& image_v1() {
  static const Bytes image = test_images::firmware_like(60'000, 7);
  return image;
}
const Bytes& image_v2() {
  static const Bytes image =
      test_images::insert_blocks(test_images::spread_changes(image_v1(), 400, 900, 8), 3, 500, 9);
  return image;
}
const Bytes& image_v0() {
  static const Bytes image = test_images::delete_blocks(image_v1(), 3, 700, 10);
  return image;
}

std::string sha_hex(const Bytes& bytes) { return to_hex(Sha256::digest(bytes)); }

std::string fresh_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "updraftd-test-XXXXXX").string();
  return ::mkdtemp(pattern.data());
}

using testing::eventually;

struct Device {
  std::string id;
  std::string secret;
  std::string token;
  std::string version = "1.0.0";
  std::string image_sha = sha_hex(image_v1());
};

// The store each test runs on: "sqlite" (in the data directory) or "postgres".
class ServerTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = fresh_dir();
    if (GetParam() == "postgres") {
      if (!server::postgres::TempPostgres::available()) {
        GTEST_SKIP() << "PostgreSQL is not installed (scripts/setup.sh installs it)";
      }
      // One server for the test process; each test gets its own database.
      HostResult<server::postgres::TempPostgres*> postgres =
          server::postgres::TempPostgres::shared();
      ASSERT_TRUE(postgres.ok()) << postgres.error().to_string();
      HostResult<std::string> uri =
          (*postgres)->create_database(std::filesystem::path(dir_).filename().string());
      ASSERT_TRUE(uri.ok()) << uri.error().to_string();
      store_args_ = {"--store", *uri};
    }
    start();
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  void start() {
    server_ = std::make_unique<testing::UpdraftdProcess>(dir_, store_args_);
    ASSERT_TRUE(server_->started()) << "updraftd did not start; see " << dir_ << "/updraftd.log";
    admin_token_ = server_->admin_token();
    ASSERT_FALSE(admin_token_.empty());
  }

  ClientResponse call(Method method, const std::string& target, const std::string& token = "",
                      const std::string& body = "", net::http::Headers headers = {}) {
    HttpClient client("127.0.0.1", server_->port());
    if (!token.empty()) headers["authorization"] = "Bearer " + token;
    HostResult<ClientResponse> r = client.request(method, target, headers, body);
    EXPECT_TRUE(r.ok()) << target << ": " << (r.ok() ? "" : r.error().to_string());
    return r.ok() ? *r : ClientResponse{};
  }

  // An admin API call that must answer `status`; returns the JSON body.
  json admin(Method method, const std::string& target, const json& body = nullptr,
             int status = 200) {
    const ClientResponse r = call(method, target, admin_token_, body.is_null() ? "" : body.dump());
    EXPECT_EQ(r.status, status) << target << ": " << r.body;
    return r.body.empty() ? json() : json::parse(r.body, nullptr, false);
  }

  int upload(const std::string& version, std::uint32_t counter, const Bytes& image) {
    const ClientResponse r =
        call(Method::kPost,
             "/api/v1/releases?product=meter&version=" + version +
                 "&security_counter=" + std::to_string(counter) + "&hardware=rev-b",
             admin_token_, std::string(reinterpret_cast<const char*>(image.data()), image.size()));
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body).value("id", 0);
  }

  // Product "meter", releases 1.0.0 (v1) and 2.0.0 (v2), and `count` devices that
  // have checked in once running v1.
  std::vector<Device> fleet(int count) {
    admin(Method::kPost, "/api/v1/products",
          {{"name", "meter"}, {"profile", "mcu-tiny"}, {"slot_size", 1 << 20}}, 201);
    release_v1_ = upload("1.0.0", 1, image_v1());
    release_v2_ = upload("2.0.0", 2, image_v2());
    std::vector<Device> devices;
    for (int i = 0; i < count; ++i) {
      Device d;
      char id[16];
      std::snprintf(id, sizeof id, "dev-%02d", i);
      d.id = id;
      d.secret = "secret-of-" + d.id + "-0123456789";
      admin(Method::kPost, "/api/v1/devices",
            {{"id", d.id},
             {"product", "meter"},
             {"hardware", "rev-b"},
             {"secret", d.secret},
             {"tags", i % 2 == 0 ? json::array({"even"}) : json::array({"odd"})}},
            201);
      const ClientResponse t = call(Method::kPost, "/api/v1/device/token", "",
                                    json{{"device_id", d.id}, {"secret", d.secret}}.dump());
      EXPECT_EQ(t.status, 200) << t.body;
      d.token = json::parse(t.body).value("token", "");
      EXPECT_FALSE(check_in(d).value("update", true));
      devices.push_back(d);
    }
    return devices;
  }

  json check_in(const Device& d, std::uint64_t nonce = 0x1234) {
    char nonce_hex[17];
    std::snprintf(nonce_hex, sizeof nonce_hex, "%016llx", static_cast<unsigned long long>(nonce));
    const ClientResponse r = call(Method::kPost, "/api/v1/device/checkin", d.token,
                                  json{{"version", d.version},
                                       {"image_sha256", d.image_sha},
                                       {"nonce", nonce_hex},
                                       {"battery", 80},
                                       {"network", "nbiot"}}
                                      .dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  Bytes download(const Device& d, const std::string& artifact, int* status = nullptr) {
    const ClientResponse r = call(Method::kGet, artifact, d.token);
    if (status != nullptr) *status = r.status;
    return Bytes(reinterpret_cast<const std::byte*>(r.body.data()),
                 reinterpret_cast<const std::byte*>(r.body.data()) + r.body.size());
  }

  int report(const Device& d, std::int64_t deployment, const std::string& phase, int progress = 0,
             int error = 0) {
    return call(Method::kPost,
                "/api/v1/device/deployments/" + std::to_string(deployment) + "/report", d.token,
                json{{"phase", phase},
                     {"progress", progress},
                     {"error", error},
                     {"running_version", d.version}}
                    .dump())
        .status;
  }

  // Everything a device does with an offer: download, check, rebuild, report, reboot.
  void install(Device& d, const json& offer) {
    const Bytes artifact = download(d, offer.at("artifact").get<std::string>());
    ASSERT_EQ(artifact.size(), offer.at("artifact_size").get<std::size_t>());
    ASSERT_EQ(sha_hex(artifact), offer.at("artifact_sha256").get<std::string>());
    const Bytes image =
        offer.at("kind") == "delta" ? delta::apply_patch(image_v1(), artifact).value() : artifact;
    ASSERT_EQ(image, image_v2());
    const std::int64_t dep = offer.at("deployment");
    EXPECT_EQ(report(d, dep, "downloading", 100), 204);
    EXPECT_EQ(report(d, dep, "installing", 100), 204);
    EXPECT_EQ(report(d, dep, "rebooting", 100), 204);
    d.version = "2.0.0";
    d.image_sha = sha_hex(image_v2());
    EXPECT_EQ(report(d, dep, "success", 100), 204);
  }

  json campaign(int id) { return admin(Method::kGet, "/api/v1/campaigns/" + std::to_string(id)); }

  std::string dir_;
  std::vector<std::string> store_args_;
  std::unique_ptr<testing::UpdraftdProcess> server_;
  std::string admin_token_;
  int release_v1_ = 0;
  int release_v2_ = 0;
};

TEST_P(ServerTest, PhasedCampaignReleasesPhaseByPhaseAndCompletes) {
  std::vector<Device> devices = fleet(10);
  const json created = admin(Method::kPost, "/api/v1/campaigns",
                             {{"name", "v2"},
                              {"release", release_v2_},
                              {"phases", {{{"count", 2}}, {{"percent", 100}}}},
                              {"success_threshold", 1.0}},
                             201);
  const int id = created.at("id");
  EXPECT_EQ(created.at("deployments").at("total"), 10);
  EXPECT_EQ(created.at("state"), "draft");
  EXPECT_EQ(admin(Method::kPost, "/api/v1/campaigns/" + std::to_string(id) + "/start").at("state"),
            "running");

  // Only the first phase (the first two devices by id) is offered.
  std::vector<json> offers(devices.size());
  for (std::size_t i = 0; i < devices.size(); ++i) offers[i] = check_in(devices[i], 100 + i);
  for (std::size_t i = 0; i < devices.size(); ++i)
    EXPECT_EQ(offers[i].value("update", false), i < 2) << i;

  // What a device checks before it installs: the answer verifies against the root
  // it was provisioned with, for its product, hardware, nonce and running image.
  const ClientResponse root = call(Method::kGet, "/api/v1/trust/root");
  ASSERT_EQ(root.status, 200);
  const Bytes root_bytes(reinterpret_cast<const std::byte*>(root.body.data()),
                         reinterpret_cast<const std::byte*>(root.body.data()) + root.body.size());
  const Bytes manifest_bytes = base64_decode(offers[0].at("manifest").get<std::string>()).value();
  manifest::RootMetadata trusted = manifest::parse_root(root_bytes).value();
  manifest::Manifest m = manifest::parse_manifest(manifest_bytes).value();
  manifest::DeviceState state;
  state.product = "meter";
  state.hardware = "rev-b";
  state.security_counter = 1;
  state.installed_version = manifest::parse_semver("1.0.0").value();
  state.running_image_hash = Sha256::digest(image_v1());
  OpenSslVerifier verifier;
  const auto now = static_cast<std::uint64_t>(std::time(nullptr));
  EXPECT_TRUE(manifest::verify_manifest(m, trusted, verifier, state, {now, 100}).ok());
  EXPECT_EQ(manifest::verify_manifest(m, trusted, verifier, state, {now, 101}).error(),
            ErrorCode::kManifestNonceMismatch);
  EXPECT_EQ(offers[0].at("kind"), "delta");
  EXPECT_LT(offers[0].at("artifact_size").get<std::size_t>(), image_v2().size() / 4);

  for (int i = 0; i < 2; ++i) ASSERT_NO_FATAL_FAILURE(install(devices[i], offers[i]));
  ASSERT_TRUE(eventually([&] { return campaign(id).at("current_phase") == 1; }));
  for (std::size_t i = 2; i < devices.size(); ++i) {
    const json offer = check_in(devices[i], 200 + i);
    ASSERT_TRUE(offer.value("update", false)) << devices[i].id << ": " << offer.dump();
    ASSERT_NO_FATAL_FAILURE(install(devices[i], offer));
  }
  ASSERT_TRUE(eventually([&] { return campaign(id).at("state") == "completed"; }));
  const json done = campaign(id);
  EXPECT_EQ(done.at("deployments").at("by_state").at("succeeded"), 10);
  // The success reports alone move the devices to the new version: most of them
  // have not checked in since.
  ASSERT_TRUE(eventually(
      [&] { return admin(Method::kGet, "/api/v1/devices?version=2.0.0").at("total") == 10; }));
  EXPECT_FALSE(check_in(devices[0]).value("update", true));

  std::vector<std::string> actions;
  const json audit = admin(Method::kGet, "/api/v1/audit?limit=100");
  for (const json& e : audit.at("events")) actions.push_back(e.at("action"));
  for (const char* expected :
       {"campaign.create", "campaign.start", "campaign.advance", "campaign.complete"}) {
    EXPECT_NE(std::find(actions.begin(), actions.end(), expected), actions.end()) << expected;
  }
  const std::string metrics = call(Method::kGet, "/metrics").body;
  EXPECT_NE(metrics.find("updraft_offers_total{kind=\"delta\"} 10"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("updraft_deployments{state=\"succeeded\"} 10"), std::string::npos)
      << metrics;
}

// Through the admin API: a device's history across its deployment's steps,
// newest first, and the log lines it attached to its reports.
TEST_P(ServerTest, ADevicesHistoryAndLogAreKeptAndPaged) {
  std::vector<Device> devices = fleet(1);
  const int id =
      admin(Method::kPost, "/api/v1/campaigns", {{"name", "v2"}, {"release", release_v2_}}, 201)
          .at("id");
  admin(Method::kPost, "/api/v1/campaigns/" + std::to_string(id) + "/start");
  json offer = check_in(devices[0], 1);
  for (int retry = 0; retry < 50 && !offer.value("update", false); ++retry) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    offer = check_in(devices[0], 2 + retry);
  }
  ASSERT_TRUE(offer.value("update", false)) << offer.dump();
  const std::int64_t dep = offer.at("deployment");
  const std::string report_path = "/api/v1/device/deployments/" + std::to_string(dep) + "/report";
  const ClientResponse with_log =
      call(Method::kPost, report_path, devices[0].token,
           json{{"phase", "downloading"}, {"progress", 10}, {"log", {"dns ok", "resumed at 4096"}}}
               .dump());
  EXPECT_EQ(with_log.status, 204) << with_log.body;
  const ClientResponse bad_log = call(Method::kPost, report_path, devices[0].token,
                                      json{{"phase", "downloading"}, {"log", "one line"}}.dump());
  EXPECT_EQ(bad_log.status, 400);
  EXPECT_NE(bad_log.body.find("log: must be an array"), std::string::npos) << bad_log.body;
  ASSERT_NO_FATAL_FAILURE(install(devices[0], offer));

  const std::string history_path = "/api/v1/devices/" + devices[0].id + "/history";
  const json history = admin(Method::kGet, history_path);
  std::vector<std::string> states;
  for (const json& e : history.at("history")) {
    states.push_back(e.at("state"));
    EXPECT_EQ(e.at("deployment"), dep);
    EXPECT_EQ(e.at("campaign"), id);
  }
  // Scheduled at creation, released by the start, offered (its first attempt),
  // then each report's state.
  EXPECT_EQ(states, (std::vector<std::string>{"succeeded", "rebooting", "installing", "downloading",
                                              "pending", "pending", "scheduled"}))
      << history.dump();
  EXPECT_EQ(history.at("history")[4].at("attempt"), 1);
  EXPECT_EQ(history.at("history")[5].at("attempt"), 0);
  EXPECT_EQ(history.at("total"), states.size());
  const json page = admin(Method::kGet, history_path + "?limit=2&offset=1");
  ASSERT_EQ(page.at("history").size(), 2u);
  EXPECT_EQ(page.at("history")[0].at("state"), "rebooting");
  EXPECT_EQ(page.at("total"), states.size());
  admin(Method::kGet, "/api/v1/devices/nobody/history", nullptr, 404);

  const json log = admin(Method::kGet, "/api/v1/deployments/" + std::to_string(dep) + "/log");
  ASSERT_EQ(log.at("lines").size(), 2u);
  EXPECT_EQ(log.at("lines")[1].at("line"), "resumed at 4096");
  EXPECT_EQ(log.at("dropped"), 0);
  admin(Method::kGet, "/api/v1/deployments/999999/log", nullptr, 404);

  // The list's search, counted in the store.
  EXPECT_EQ(admin(Method::kGet, "/api/v1/devices?state=succeeded&id=dev-").at("total"), 1);
  EXPECT_EQ(admin(Method::kGet, "/api/v1/devices?state=failed").at("total"), 0);
  EXPECT_EQ(admin(Method::kGet, "/api/v1/devices?id=other").at("total"), 0);
  admin(Method::kGet, "/api/v1/devices?state=bogus", nullptr, 400);
  admin(Method::kGet, "/api/v1/devices?seen_after=yesterday", nullptr, 400);
  admin(Method::kGet, "/api/v1/devices?id=a%20b", nullptr, 400);
}

// An operator's actions on single devices: a failed device retried within its
// campaign succeeds and its history shows both attempts; a device deferred gets
// nothing until the deferral is lifted; a device of a later phase updated now is
// offered at once; a finished deployment cannot be canceled. Each is audited.
TEST_P(ServerTest, PerDeviceActionsRetryDeferUpdateNowAndCancel) {
  std::vector<Device> devices = fleet(3);
  const int id = admin(Method::kPost, "/api/v1/campaigns",
                       {{"name", "v2"},
                        {"release", release_v2_},
                        {"phases", {{{"count", 2}}, {{"percent", 100}}}},
                        {"failure_threshold", 1.0}},
                       201)
                     .at("id");
  admin(Method::kPost, "/api/v1/campaigns/" + std::to_string(id) + "/start");
  const auto offer_for = [&](Device& d, std::uint64_t nonce) {
    json offer = check_in(d, nonce);
    for (int retry = 0; retry < 50 && offer.value("reason", "") == "preparing the delta"; ++retry) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      offer = check_in(d, nonce + 1000 + retry);
    }
    return offer;
  };
  const auto action = [&](std::int64_t dep, const std::string& what, const json& body = nullptr,
                          int status = 200) {
    return admin(Method::kPost, "/api/v1/deployments/" + std::to_string(dep) + "/" + what,
                 body.is_null() ? json::object() : body, status);
  };

  // dev-00 fails, is retried, and succeeds.
  json offer = offer_for(devices[0], 10);
  ASSERT_TRUE(offer.value("update", false)) << offer.dump();
  const std::int64_t dep0 = offer.at("deployment");
  EXPECT_EQ(report(devices[0], dep0, "failure", 0, 210), 204);
  action(dep0, "cancel", nullptr, 409);
  EXPECT_EQ(action(dep0, "retry").at("state"), "pending");
  action(dep0, "retry", nullptr, 409);  // pending now: nothing to retry
  offer = offer_for(devices[0], 20);
  ASSERT_TRUE(offer.value("update", false)) << offer.dump();
  EXPECT_EQ(offer.at("deployment"), dep0);
  ASSERT_NO_FATAL_FAILURE(install(devices[0], offer));
  const json history = admin(Method::kGet, "/api/v1/devices/" + devices[0].id + "/history");
  std::map<std::string, int> attempt_of;
  for (const json& e : history.at("history")) attempt_of.emplace(e.at("state"), e.at("attempt"));
  EXPECT_EQ(attempt_of["failed"], 1) << history.dump();
  EXPECT_EQ(attempt_of["succeeded"], 2) << history.dump();

  // dev-01 (first phase) deferred: no offer until lifted.
  const std::int64_t dep1 =
      admin(Method::kGet, "/api/v1/devices/" + devices[1].id).at("deployments").back().at("id");
  const auto until = static_cast<std::int64_t>(std::time(nullptr)) + 3600;
  EXPECT_EQ(action(dep1, "defer", {{"until", until}}).at("not_before"), until);
  offer = offer_for(devices[1], 30);
  EXPECT_FALSE(offer.value("update", true));
  EXPECT_EQ(offer.value("reason", ""), "deferred by an operator") << offer.dump();
  action(dep1, "defer", {{"until", "tomorrow"}}, 400);
  action(dep1, "defer", {{"until", 0}});
  EXPECT_TRUE(offer_for(devices[1], 40).value("update", false));

  // dev-02 is in the second phase: waiting, until updated now.
  const std::int64_t dep2 =
      admin(Method::kGet, "/api/v1/devices/" + devices[2].id).at("deployments").back().at("id");
  EXPECT_EQ(offer_for(devices[2], 50).value("reason", ""), "waiting for its phase");
  const json now = action(dep2, "update-now");
  EXPECT_EQ(now.at("state"), "pending");
  EXPECT_EQ(now.at("ignore_window"), true);
  EXPECT_TRUE(offer_for(devices[2], 60).value("update", false));
  action(999999, "retry", nullptr, 404);

  std::vector<std::string> actions;
  const json audit = admin(Method::kGet, "/api/v1/audit?limit=100");
  for (const json& e : audit.at("events")) actions.push_back(e.at("action"));
  for (const char* expected : {"deployment.retry", "deployment.defer", "deployment.update_now"})
    EXPECT_NE(std::find(actions.begin(), actions.end(), expected), actions.end()) << expected;
}

TEST_P(ServerTest, DeletesDraftCampaignsUnusedReleasesAndEmptyProductsAndListsDeltas) {
  std::vector<Device> devices = fleet(2);
  const auto campaign_for = [&](int release) -> int {
    return admin(Method::kPost, "/api/v1/campaigns", {{"name", "c"}, {"release", release}}, 201)
        .at("id");
  };
  const std::string v2 = "/api/v1/releases/" + std::to_string(release_v2_);

  // A draft is deleted with its deployments; the release it used is then free.
  const int draft = campaign_for(release_v2_);
  admin(Method::kDelete, v2, nullptr, 409);
  EXPECT_EQ(admin(Method::kDelete, "/api/v1/campaigns/" + std::to_string(draft)).at("id"), draft);
  admin(Method::kGet, "/api/v1/campaigns/" + std::to_string(draft), nullptr, 404);
  admin(Method::kDelete, "/api/v1/campaigns/" + std::to_string(draft), nullptr, 404);
  EXPECT_TRUE(admin(Method::kGet, "/api/v1/devices/" + devices[0].id).at("deployments").empty());

  // A started campaign stays; the delta it had built is listed on its release.
  const int running = campaign_for(release_v2_);
  admin(Method::kPost, "/api/v1/campaigns/" + std::to_string(running) + "/start");
  json offer = check_in(devices[0]);
  for (int retry = 0; retry < 50 && offer.value("reason", "") == "preparing the delta"; ++retry) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    offer = check_in(devices[0], 100 + retry);
  }
  ASSERT_EQ(offer.value("kind", ""), "delta") << offer.dump();
  admin(Method::kDelete, "/api/v1/campaigns/" + std::to_string(running), nullptr, 409);
  const json deltas = admin(Method::kGet, v2 + "/deltas");
  ASSERT_EQ(deltas.at("deltas").size(), 1u) << deltas.dump();
  const json& d = deltas.at("deltas")[0];
  EXPECT_EQ(d.at("from_version"), "1.0.0");
  EXPECT_EQ(d.at("state"), "ready");
  EXPECT_EQ(d.at("profile"), "mcu-tiny");
  EXPECT_GT(d.at("size").get<double>(), 0);
  EXPECT_NEAR(d.at("ratio").get<double>(),
              d.at("size").get<double>() / deltas.at("size").get<double>(), 1e-9);
  EXPECT_LT(d.at("ratio").get<double>(), 1.0);
  EXPECT_TRUE(d.at("build_ms").is_number_unsigned());
  admin(Method::kGet, "/api/v1/releases/999/deltas", nullptr, 404);

  // An unused release goes with its image file; the one a campaign used stays.
  Bytes v3 = image_v2();
  v3[100] ^= std::byte{0xff};
  const int release_v3 = upload("3.0.0", 3, v3);
  const std::string v3_sha =
      admin(Method::kGet, "/api/v1/releases/" + std::to_string(release_v3)).at("sha256");
  const std::string v3_file = dir_ + "/artifacts/images/" + v3_sha;
  ASSERT_TRUE(std::filesystem::exists(v3_file));
  EXPECT_EQ(admin(Method::kDelete, "/api/v1/releases/" + std::to_string(release_v3)).at("version"),
            "3.0.0");
  EXPECT_FALSE(std::filesystem::exists(v3_file));
  admin(Method::kGet, "/api/v1/releases/" + std::to_string(release_v3), nullptr, 404);
  const json conflict = admin(Method::kDelete, v2, nullptr, 409);
  EXPECT_NE(conflict.dump().find("campaign " + std::to_string(running)), std::string::npos)
      << conflict.dump();

  // A product goes only when empty.
  admin(Method::kDelete, "/api/v1/products/meter", nullptr, 409);
  admin(Method::kPost, "/api/v1/products", {{"name", "spare"}, {"profile", "mcu"}}, 201);
  EXPECT_EQ(admin(Method::kDelete, "/api/v1/products/spare").at("name"), "spare");
  admin(Method::kDelete, "/api/v1/products/spare", nullptr, 404);

  std::vector<std::string> actions;
  const json audit = admin(Method::kGet, "/api/v1/audit?limit=100");
  for (const json& e : audit.at("events")) actions.push_back(e.at("action"));
  for (const char* expected : {"campaign.delete", "release.delete", "product.delete"})
    EXPECT_NE(std::find(actions.begin(), actions.end(), expected), actions.end()) << expected;
}

TEST_P(ServerTest, PausesItselfWhenFailuresPassTheThresholdAndResumesOnlyWhenRaised) {
  std::vector<Device> devices = fleet(10);
  const int id = admin(Method::kPost, "/api/v1/campaigns",
                       {{"name", "risky"},
                        {"release", release_v2_},
                        {"phases", {{{"percent", 50}}, {{"percent", 100}}}},
                        {"failure_threshold", 0.2}},
                       201)
                     .at("id");
  admin(Method::kPost, "/api/v1/campaigns/" + std::to_string(id) + "/start");
  std::vector<json> offers;
  for (int i = 0; i < 5; ++i) offers.push_back(check_in(devices[i]));
  for (const json& o : offers) ASSERT_TRUE(o.value("update", false)) << o.dump();
  // Two of five released devices fail: 40% > 20%.
  EXPECT_EQ(report(devices[0], offers[0].at("deployment"), "failure", 0, 103), 204);
  EXPECT_EQ(report(devices[1], offers[1].at("deployment"), "failure", 0, 211), 204);
  ASSERT_TRUE(eventually([&] { return campaign(id).at("state") == "paused"; }));
  const json paused = campaign(id);
  EXPECT_NE(paused.at("pause_reason").get<std::string>().find("failure share"), std::string::npos)
      << paused.dump();
  EXPECT_EQ(paused.at("phase_progress").at(1).at("released"), 0)
      << "the second phase never started";

  // Paused: a released device that checks in is not handed its artifact.
  EXPECT_FALSE(check_in(devices[2]).value("update", true));
  const json failed =
      admin(Method::kGet, "/api/v1/campaigns/" + std::to_string(id) + "/deployments?state=failed");
  ASSERT_EQ(failed.at("deployments").size(), 2u);
  EXPECT_EQ(failed.at("deployments").at(0).at("error_name"), "PATCH_WRONG_BASE");
  EXPECT_EQ(failed.at("deployments").at(1).at("error"), 211);

  const json refused =
      admin(Method::kPost, "/api/v1/campaigns/" + std::to_string(id) + "/resume", nullptr, 409);
  EXPECT_EQ(refused.at("error").at("code"), "CONFLICT");
  EXPECT_EQ(admin(Method::kPost, "/api/v1/campaigns/" + std::to_string(id) + "/resume",
                  {{"failure_threshold", 0.5}})
                .at("state"),
            "running");
  EXPECT_TRUE(check_in(devices[2]).value("update", false));
}

TEST_P(ServerTest, BuildsEachDeltaOnceHoweverManyDevicesAskAtOnce) {
  std::vector<Device> devices = fleet(16);
  upload("0.9.0", 1, image_v0());
  // A quarter of the fleet runs 0.9.0: two source images, so two deltas.
  for (std::size_t i = 0; i < devices.size(); i += 4) {
    devices[i].version = "0.9.0";
    devices[i].image_sha = sha_hex(image_v0());
    check_in(devices[i]);
  }
  const int id =
      admin(Method::kPost, "/api/v1/campaigns", {{"name", "all"}, {"release", release_v2_}}, 201)
          .at("id");
  admin(Method::kPost, "/api/v1/campaigns/" + std::to_string(id) + "/start");

  std::vector<json> answers(devices.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < devices.size(); ++i) {
    threads.emplace_back([&, i] { answers[i] = check_in(devices[i], i); });
  }
  for (std::thread& t : threads) t.join();
  std::map<std::string, std::set<std::string>> patches_by_source;
  for (std::size_t i = 0; i < devices.size(); ++i) {
    ASSERT_TRUE(answers[i].value("update", false)) << answers[i].dump();
    EXPECT_EQ(answers[i].at("kind"), "delta");
    patches_by_source[devices[i].image_sha].insert(
        answers[i].at("artifact_sha256").get<std::string>());
  }
  ASSERT_EQ(patches_by_source.size(), 2u);
  for (const auto& [source, patches] : patches_by_source) EXPECT_EQ(patches.size(), 1u) << source;
  const std::string metrics = call(Method::kGet, "/metrics").body;
  EXPECT_NE(metrics.find("updraft_delta_builds_total 2\n"), std::string::npos) << metrics;
}

// A product's wait for deltas can change once its fleet shows how long builds
// take; what releases and devices were made for (name, profile, slot size) cannot.
TEST_P(ServerTest, AProductsDeltaPolicyChangesAndItsLayoutStays) {
  admin(Method::kPost, "/api/v1/products", {{"name", "gateway"}, {"profile", "linux"}}, 201);
  const json changed = admin(Method::kPatch, "/api/v1/products/gateway",
                             {{"delta_budget_seconds", 120}, {"while_delta_builds", "full-image"}});
  EXPECT_EQ(changed.value("delta_budget_seconds", 0), 120);
  EXPECT_EQ(changed.value("while_delta_builds", ""), "full-image");
  const json listed = admin(Method::kGet, "/api/v1/products");
  ASSERT_EQ(listed.at("products").size(), 1u);
  EXPECT_EQ(listed["products"][0].value("delta_budget_seconds", 0), 120);
  EXPECT_EQ(listed["products"][0].value("profile", ""), "linux");

  // Only what is given changes.
  EXPECT_EQ(admin(Method::kPatch, "/api/v1/products/gateway", {{"delta_budget_seconds", 0}})
                .value("while_delta_builds", ""),
            "full-image");
  admin(Method::kPatch, "/api/v1/products/gateway", {{"profile", "mcu"}}, 400);
  admin(Method::kPatch, "/api/v1/products/gateway", {{"slot_size", 1}}, 400);
  admin(Method::kPatch, "/api/v1/products/gateway", {{"while_delta_builds", "later"}}, 400);
  admin(Method::kPatch, "/api/v1/products/gateway", {{"delta_budget_seconds", -1}}, 400);
  admin(Method::kPatch, "/api/v1/products/nobody", {{"delta_budget_seconds", 5}}, 404);
  EXPECT_EQ(admin(Method::kGet, "/api/v1/products")["products"][0].value("profile", ""), "linux");

  const json audit = admin(Method::kGet, "/api/v1/audit?limit=100");
  int updates = 0;
  for (const json& e : audit.at("events")) updates += e.value("action", "") == "product.update";
  EXPECT_EQ(updates, 2) << audit.dump();
}

// A gateway's rootfs delta can take minutes to build. Past the product's budget
// its device takes the full image instead of hearing "come back" for as long as
// the build runs, and SIGTERM stops the server mid-build without waiting for it.
TEST_P(ServerTest, ADeltaBuildOverItsBudgetGivesTheFullImageAndNeverHoldsShutdown) {
  admin(Method::kPost, "/api/v1/products",
        {{"name", "gateway"}, {"profile", "linux"}, {"delta_budget_seconds", 1}}, 201);
  // Incompressible 64 MiB images, 56 MiB of them new: coding those takes far
  // longer than the budget (about 5.7 s in a release build, at some 10 MiB/s of
  // new data; smaller pairs became too quick for the margin as the diff sped up).
  const Bytes v1 = test_images::random_bytes(64 << 20, 61);
  Bytes v2 = v1;
  const Bytes fresh = test_images::random_bytes(56 << 20, 62);
  std::copy(fresh.begin(), fresh.end(), v2.begin() + (4 << 20));
  int release = 0;
  using Upload = std::pair<const char*, const Bytes*>;
  for (const auto& [version, image] : {Upload{"1.0.0", &v1}, Upload{"2.0.0", &v2}}) {
    const ClientResponse r = call(
        Method::kPost,
        std::string("/api/v1/releases?product=gateway&version=") + version +
            "&security_counter=1&hardware=gw-1",
        admin_token_, std::string(reinterpret_cast<const char*>(image->data()), image->size()));
    ASSERT_EQ(r.status, 201) << r.body;
    release = json::parse(r.body).value("id", 0);
  }
  Device d;
  d.id = "gw-0";
  d.secret = "secret-of-gw-0-0123456789";
  d.version = "1.0.0";
  d.image_sha = sha_hex(v1);
  admin(Method::kPost, "/api/v1/devices",
        {{"id", d.id}, {"product", "gateway"}, {"hardware", "gw-1"}, {"secret", d.secret}}, 201);
  const ClientResponse t = call(Method::kPost, "/api/v1/device/token", "",
                                json{{"device_id", d.id}, {"secret", d.secret}}.dump());
  ASSERT_EQ(t.status, 200) << t.body;
  d.token = json::parse(t.body).value("token", "");
  const int id =
      admin(Method::kPost, "/api/v1/campaigns", {{"name", "gw"}, {"release", release}}, 201)
          .at("id");
  admin(Method::kPost, "/api/v1/campaigns/" + std::to_string(id) + "/start");  // queues the build

  json offer = check_in(d);
  for (int i = 0; i < 20 && !offer.value("update", false); ++i) {
    EXPECT_EQ(offer.value("reason", ""), "preparing the delta") << offer.dump();
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    offer = check_in(d);
  }
  ASSERT_TRUE(offer.value("update", false)) << offer.dump();
  EXPECT_EQ(offer.at("kind"), "full");
  EXPECT_EQ(download(d, offer.at("artifact")), v2);
  const std::string metrics = call(Method::kGet, "/metrics").body;
  EXPECT_NE(metrics.find("updraft_delta_builds_total 0\n"), std::string::npos)
      << "the build was to be still under way: " << metrics;

  EXPECT_EQ(server_->stop(), 0) << "SIGTERM mid-build: a clean exit within 5 s";
  EXPECT_NE(server_->log().find("canceled: the server is stopping"), std::string::npos)
      << server_->log();
}

TEST_P(ServerTest, ArtifactDownloadResumesWithRangeRequests) {
  std::vector<Device> devices = fleet(1);
  const int id =
      admin(Method::kPost, "/api/v1/campaigns", {{"name", "r"}, {"release", release_v2_}}, 201)
          .at("id");
  admin(Method::kPost, "/api/v1/campaigns/" + std::to_string(id) + "/start");
  const json offer = check_in(devices[0]);
  const std::string path = offer.at("artifact");
  const std::size_t size = offer.at("artifact_size");

  // The link drops part-way through a streamed download.
  std::string first;
  {
    HttpClient client("127.0.0.1", server_->port());
    HostResult<ClientResponse> r = client.get_stream(
        path, {{"authorization", "Bearer " + devices[0].token}}, [&](std::string_view chunk) {
          first.append(chunk);
          return first.size() < size / 3;
        });
    ASSERT_TRUE(r.ok());
  }
  ASSERT_GT(first.size(), 0u);
  ASSERT_LT(first.size(), size);
  const ClientResponse rest = call(Method::kGet, path, devices[0].token, "",
                                   {{"range", "bytes=" + std::to_string(first.size()) + "-"}});
  ASSERT_EQ(rest.status, 206);
  EXPECT_EQ(rest.header("content-range"), "bytes " + std::to_string(first.size()) + "-" +
                                              std::to_string(size - 1) + "/" +
                                              std::to_string(size));
  const std::string whole = first + rest.body;
  EXPECT_EQ(to_hex(Sha256::digest(as_bytes_view(whole.data(), whole.size()))),
            offer.at("artifact_sha256"));

  const ClientResponse head = call(Method::kHead, path, devices[0].token);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-length"), std::to_string(size));
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(call(Method::kGet, path, devices[0].token, "",
                 {{"range", "bytes=" + std::to_string(size) + "-"}})
                .status,
            416);
}

// Found from outside (findings 2026-12-01): every range request counted the
// whole artifact in updraft_download_bytes_total.
TEST_P(ServerTest, DownloadBytesCountWhatEachAnswerCarries) {
  std::vector<Device> devices = fleet(1);
  const int id =
      admin(Method::kPost, "/api/v1/campaigns", {{"name", "r"}, {"release", release_v2_}}, 201)
          .at("id");
  admin(Method::kPost, "/api/v1/campaigns/" + std::to_string(id) + "/start");
  const json offer = check_in(devices[0]);
  const std::string path = offer.at("artifact");
  const std::uint64_t size = offer.at("artifact_size");
  ASSERT_GT(size, 100u);
  const auto sent = [&] {
    const std::string metrics = call(Method::kGet, "/metrics").body;
    const std::string name = "\nupdraft_download_bytes_total ";
    const std::size_t at = metrics.find(name);
    return at == std::string::npos ? ~std::uint64_t{0}
                                   : std::stoull(metrics.substr(at + name.size()));
  };
  const std::uint64_t before = sent();
  EXPECT_EQ(call(Method::kGet, path, devices[0].token, "", {{"range", "bytes=0-99"}}).status, 206);
  EXPECT_EQ(sent() - before, 100u);
  EXPECT_EQ(call(Method::kHead, path, devices[0].token).status, 200);
  EXPECT_EQ(call(Method::kGet, path, devices[0].token, "",
                 {{"range", "bytes=" + std::to_string(size) + "-"}})
                .status,
            416);
  EXPECT_EQ(sent() - before, 100u) << "HEAD and 416 carry no artifact bytes";
  EXPECT_EQ(call(Method::kGet, path, devices[0].token).status, 200);
  EXPECT_EQ(sent() - before, 100u + size);
}

TEST_P(ServerTest, DevicesSeeOnlyTheirOwnDeploymentsAndRolesLimitOperators) {
  std::vector<Device> devices = fleet(2);
  const int id =
      admin(Method::kPost, "/api/v1/campaigns", {{"name", "a"}, {"release", release_v2_}}, 201)
          .at("id");
  admin(Method::kPost, "/api/v1/campaigns/" + std::to_string(id) + "/start");
  const json offer = check_in(devices[0]);
  const std::string artifact = offer.at("artifact");
  const std::string report_path =
      "/api/v1/device/deployments/" + std::to_string(offer.at("deployment").get<int>()) + "/report";

  // Device 1 cannot read or report on device 0's deployment.
  int status = 0;
  download(devices[1], artifact, &status);
  EXPECT_EQ(status, 404);
  EXPECT_EQ(call(Method::kPost, report_path, devices[1].token, R"({"phase":"success"})").status,
            404);
  // Forged, missing and admin tokens are not device tokens.
  Device forged = devices[0];
  forged.token.back() = forged.token.back() == '0' ? '1' : '0';
  download(forged, artifact, &status);
  EXPECT_EQ(status, 401);
  EXPECT_EQ(call(Method::kGet, artifact).status, 401);
  EXPECT_EQ(call(Method::kPost, "/api/v1/device/checkin", admin_token_, "{}").status, 401);
  EXPECT_EQ(call(Method::kPost, "/api/v1/device/token", "",
                 json{{"device_id", devices[0].id}, {"secret", "wrong-secret-0123456789"}}.dump())
                .status,
            401);
  // Device tokens are not admin tokens.
  EXPECT_EQ(call(Method::kGet, "/api/v1/devices", devices[0].token).status, 401);

  const std::string viewer =
      admin(Method::kPost, "/api/v1/tokens", {{"name", "dash"}, {"role", "viewer"}}, 201)
          .at("token");
  const std::string op =
      admin(Method::kPost, "/api/v1/tokens", {{"name", "ops"}, {"role", "operator"}}, 201)
          .at("token");
  EXPECT_EQ(call(Method::kGet, "/api/v1/devices", viewer).status, 200);
  EXPECT_EQ(
      call(Method::kPost, "/api/v1/campaigns/" + std::to_string(id) + "/pause", viewer).status,
      403);
  EXPECT_EQ(call(Method::kPost, "/api/v1/campaigns/" + std::to_string(id) + "/pause", op).status,
            200);
  const ClientResponse denied =
      call(Method::kPost, "/api/v1/tokens", op, R"({"name":"x","role":"admin"})");
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(json::parse(denied.body).at("error").at("number"), 702);
  EXPECT_EQ(call(Method::kGet, "/api/v1/devices").status, 401);
}

TEST_P(ServerTest, KillNineMidCampaignLosesNoAcknowledgedReport) {
  std::vector<Device> devices = fleet(6);
  const int id =
      admin(Method::kPost, "/api/v1/campaigns", {{"name", "k"}, {"release", release_v2_}}, 201)
          .at("id");
  admin(Method::kPost, "/api/v1/campaigns/" + std::to_string(id) + "/start");
  std::vector<std::int64_t> deployment(devices.size());
  for (std::size_t i = 0; i < devices.size(); ++i)
    deployment[i] = check_in(devices[i]).at("deployment");

  // Devices report progress as fast as they can while the server is killed.
  std::vector<int> acked(devices.size(), -1);
  std::atomic<bool> stop{false};
  std::vector<std::thread> reporters;
  for (std::size_t i = 0; i < devices.size(); ++i) {
    reporters.emplace_back([&, i] {
      HttpClient client("127.0.0.1", server_->port());
      for (int progress = 1; progress <= 100 && !stop.load(); ++progress) {
        HostResult<ClientResponse> r = client.request(
            Method::kPost,
            "/api/v1/device/deployments/" + std::to_string(deployment[i]) + "/report",
            {{"authorization", "Bearer " + devices[i].token}},
            json{{"phase", "downloading"}, {"progress", progress}}.dump());
        if (!r.ok() || r->status != 204) return;
        acked[i] = progress;  // acknowledged: must survive
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  server_->kill9();
  stop = true;
  for (std::thread& t : reporters) t.join();

  start();
  int total_acked = 0;
  for (std::size_t i = 0; i < devices.size(); ++i) {
    const json dep = admin(Method::kGet, "/api/v1/deployments/" + std::to_string(deployment[i]));
    if (acked[i] < 0) continue;
    total_acked += acked[i];
    EXPECT_EQ(dep.at("state"), "downloading");
    // The server may have committed one more report whose answer the kill cut off.
    EXPECT_GE(dep.at("progress").get<int>(), acked[i]) << devices[i].id;
    EXPECT_LE(dep.at("progress").get<int>(), acked[i] + 1) << devices[i].id;
  }
  EXPECT_GT(total_acked, 0) << "no report was acknowledged before the kill";
  EXPECT_EQ(campaign(id).at("state"), "running");
  // The fleet carries on against the restarted server.
  for (std::size_t i = 0; i < devices.size(); ++i) {
    EXPECT_EQ(report(devices[i], deployment[i], "success", 100), 204);
  }
  ASSERT_TRUE(eventually([&] { return campaign(id).at("state") == "completed"; }));
}

TEST_P(ServerTest, MalformedRequestsGetFourHundredsAndTheServerCarriesOn) {
  std::vector<Device> devices = fleet(1);
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const std::vector<std::string> bodies = {"",
                                           "{",
                                           "[]",
                                           "null",
                                           "\"text\"",
                                           "{\"a\":",
                                           "\x01\xff",
                                           deep,
                                           "{\"version\":5}",
                                           "{\"phases\":\"x\",\"release\":\"1\",\"name\":7}",
                                           "{\"nonce\":\"zz\"}",
                                           "{\"tags\":[1,2]}",
                                           "{\"name\":\"\xc3\x28\"}"};
  const std::vector<std::pair<std::string, std::string>> targets = {
      {"/api/v1/device/checkin", devices[0].token},
      {"/api/v1/device/token", ""},
      {"/api/v1/device/register", ""},
      {"/api/v1/products", admin_token_},
      {"/api/v1/devices", admin_token_},
      {"/api/v1/campaigns", admin_token_},
      {"/api/v1/tokens", admin_token_},
      {"/checkversion", devices[0].token},
      {"/updateresult", devices[0].token},
      {"/api/v1/device/deployments/1/report", devices[0].token},
      {"/api/v1/releases?product=meter&version=x", admin_token_}};
  for (const auto& [target, token] : targets) {
    for (const std::string& body : bodies) {
      const ClientResponse r = call(Method::kPost, target, token, body);
      EXPECT_GE(r.status, 400) << target << " <- " << body.substr(0, 40);
      EXPECT_LT(r.status, 500) << target << " <- " << body.substr(0, 40) << ": " << r.body;
      if (r.status >= 400 && !r.body.empty()) {
        const json error = json::parse(r.body, nullptr, false);
        // EnOS's endpoints answer in EnOS's shape (docs/api/enos.md), the rest in ours.
        if (target == "/checkversion" || target == "/updateresult") {
          EXPECT_EQ(error.value("httpstatus", 0), r.status) << target << ": " << r.body;
        } else {
          EXPECT_TRUE(error.contains("error") && error["error"].contains("number"))
              << target << ": " << r.body;
        }
      }
    }
  }
  EXPECT_EQ(call(Method::kGet, "/api/v1/health").status, 200);
  EXPECT_EQ(admin(Method::kGet, "/api/v1/devices").at("total"), 1);
}

INSTANTIATE_TEST_SUITE_P(Stores, ServerTest, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& store) {
                           return store.param;
                         });

// Two updraftd processes on one PostgreSQL database and one data directory (keys,
// images): either serves any request; one leads the campaign scheduler. Killing
// the leader with kill -9 hands the scheduler to the survivor, which finishes the
// campaign; no device gets a second deployment.
class ClusterTest : public ServerTest {};

TEST_P(ClusterTest, TheSurvivorLeadsTheCampaignToTheEndWhenTheLeaderIsKilled) {
  ASSERT_TRUE(
      eventually([&] { return server_->log().find("scheduler: leading") != std::string::npos; }));
  auto follower = std::make_unique<testing::UpdraftdProcess>(dir_, store_args_, dir_ + "/node-b");
  ASSERT_TRUE(follower->started()) << follower->log();
  ASSERT_TRUE(eventually([&] { return follower->log().find("standing by") != std::string::npos; }));

  std::vector<Device> devices = fleet(6);
  const json created = admin(Method::kPost, "/api/v1/campaigns",
                             {{"name", "v2"},
                              {"release", release_v2_},
                              {"phases", {{{"count", 3}}, {{"percent", 100}}}},
                              {"success_threshold", 1.0}},
                             201);
  const int id = created.at("id");
  // Started through the follower, which queues the delta build there; devices ask
  // the leader for it meanwhile: one build between the two.
  std::swap(server_, follower);
  admin(Method::kPost, "/api/v1/campaigns/" + std::to_string(id) + "/start");
  std::swap(server_, follower);
  for (int i = 0; i < 3; ++i) {
    // The leader learns of the start within a tick; then the delta may still be building.
    json offer = check_in(devices[i], 300 + i);
    for (int retry = 0; retry < 50 && !offer.value("update", false); ++retry) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      offer = check_in(devices[i], 350 + retry);
    }
    ASSERT_TRUE(offer.value("update", false)) << offer.dump();
    ASSERT_NO_FATAL_FAILURE(install(devices[i], offer));
  }
  ASSERT_TRUE(eventually([&] { return campaign(id).at("current_phase") == 1; }));
  const auto builds = [&](testing::UpdraftdProcess& node) {
    HttpClient client("127.0.0.1", node.port());
    const std::string metrics = client.request(Method::kGet, "/metrics", {}, "")->body;
    const std::string name = "\nupdraft_delta_builds_total ";
    const std::size_t at = metrics.find(name);
    return at == std::string::npos ? -1 : std::atoi(metrics.c_str() + at + name.size());
  };
  EXPECT_EQ(builds(*server_) + builds(*follower), 1) << "the delta was built more than once";

  // The leader dies; the follower takes the scheduler and serves everything.
  server_->kill9();
  server_ = std::move(follower);
  ASSERT_TRUE(eventually([&] {
    return server_->log().find("scheduler: leading") != std::string::npos;
  })) << server_->log();
  for (std::size_t i = 3; i < devices.size(); ++i) {
    const json offer = check_in(devices[i], 400 + i);
    ASSERT_TRUE(offer.value("update", false)) << devices[i].id << ": " << offer.dump();
    ASSERT_NO_FATAL_FAILURE(install(devices[i], offer));
  }
  ASSERT_TRUE(eventually([&] { return campaign(id).at("state") == "completed"; }));
  EXPECT_EQ(campaign(id).at("deployments").at("by_state").at("succeeded"), 6);
  for (const Device& d : devices) {
    const json device = admin(Method::kGet, "/api/v1/devices/" + d.id);
    EXPECT_EQ(device.at("deployments").size(), 1u) << d.id << ": " << device.dump();
  }
}

INSTANTIATE_TEST_SUITE_P(Postgres, ClusterTest, ::testing::Values("postgres"),
                         [](const ::testing::TestParamInfo<std::string>& store) {
                           return store.param;
                         });

}  // namespace
}  // namespace updraft
