// The server never offers a release a device must refuse, whatever protocol the
// device speaks: a real updraftd on loopback, with devices on the native API, DDI
// (hawkBit) and EnOS. Campaigns leave out devices of other hardware, devices on a
// newer version (unless the campaign and the release both allow the downgrade) or a
// higher security counter, and devices already in an unfinished deployment; a
// targeted device found incompatible at check-in is offered nothing and its
// deployment is canceled with 210, 211 or 212. Two campaigns started at once leave
// each device one unfinished deployment. After each test the server still answers
// GET /api/v1/health within 100 ms.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <latch>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "delta/testing/test_images.h"
#include "net/http/http_client.h"
#include "tests/integration/updraftd_process.h"

namespace updraft {
namespace {

using Clock = std::chrono::steady_clock;
using net::http::ClientResponse;
using net::http::HttpClient;
using net::http::Method;
using nlohmann::json;
using testing::eventually;

constexpr double kPromptMs = 100;
// What a device runs that the server has no release for: only its version counts.
const std::string kUnknownImage(64, 'e');

std::string fresh_dir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "updraftd-compat-XXXXXX").string();
  return ::mkdtemp(pattern.data());
}

// A release's image: its own bytes for each version.
std::string image(const std::string& version) {
  const std::vector<std::byte> bytes = test_images::firmware_like(
      24 * 1024, static_cast<std::uint32_t>(std::hash<std::string>{}(version)));
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

bool unfinished(const json& deployment) {
  for (const char* state :
       {"scheduled", "pending", "downloading", "installing", "rebooting", "deferred"}) {
    if (deployment.value("state", "") == state) return true;
  }
  return false;
}

// A device on the native API: registered with a secret, holding a device token.
struct NativeDevice {
  std::string id;
  std::string token;
};

class IncompatibleDevicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_dir();
    server_ = std::make_unique<testing::UpdraftdProcess>(dir_);
    ASSERT_TRUE(server_->started()) << "updraftd did not start; see " << dir_ << "/updraftd.log";
    admin_token_ = server_->admin_token();
    admin(Method::kPost, "/api/v1/products",
          {{"name", "gw"}, {"profile", "linux"}, {"slot_size", 1 << 20}}, 201);
  }
  void TearDown() override {
    // The rule every test ends with: the server still answers a normal request promptly.
    if (!server_ || !server_->started()) return;
    const auto start = Clock::now();
    const ClientResponse health = call(Method::kGet, "/api/v1/health");
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    EXPECT_EQ(health.status, 200) << health.body;
    EXPECT_LT(ms, kPromptMs);
    std::printf("GET /api/v1/health afterwards: %.1f ms\n", ms);
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  ClientResponse call(Method method, const std::string& target,
                      const std::string& authorization = "", const std::string& body = "") {
    HttpClient client("127.0.0.1", server_->port());
    net::http::Headers headers;
    if (!authorization.empty()) headers["authorization"] = authorization;
    HostResult<ClientResponse> r = client.request(method, target, headers, body);
    EXPECT_TRUE(r.ok()) << target << ": " << (r.ok() ? "" : r.error().to_string());
    return r.ok() ? *r : ClientResponse{};
  }
  json admin(Method method, const std::string& target, const json& body = nullptr,
             int status = 200) {
    const ClientResponse r =
        call(method, target, "Bearer " + admin_token_, body.is_null() ? "" : body.dump());
    EXPECT_EQ(r.status, status) << target << ": " << r.body;
    return r.body.empty() ? json() : json::parse(r.body, nullptr, false);
  }

  // A release of product gw for `hardware`; returns it (with "id" and "sha256").
  json upload(const std::string& version, std::uint32_t counter, const std::string& hardware,
              bool allow_downgrade = false) {
    const ClientResponse r = call(Method::kPost,
                                  "/api/v1/releases?product=gw&version=" + version +
                                      "&security_counter=" + std::to_string(counter) +
                                      "&hardware=" + hardware + "&enos_version=v" + version + ".1" +
                                      (allow_downgrade ? "&allow_downgrade=true" : ""),
                                  "Bearer " + admin_token_, image(version));
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body, nullptr, false);
  }
  // POST /api/v1/campaigns (201), with one phase of every device unless `spec` says.
  json create_campaign(json spec) {
    if (!spec.contains("phases")) spec["phases"] = {{{"percent", 100}}};
    return admin(Method::kPost, "/api/v1/campaigns", spec, 201);
  }
  void start_campaign(const json& campaign) {
    admin(Method::kPost, "/api/v1/campaigns/" + std::to_string(campaign.value("id", 0)) + "/start");
  }
  json deployments_of(const std::string& device) {
    return admin(Method::kGet, "/api/v1/devices/" + device).value("deployments", json::array());
  }
  // The device's one deployment once the campaign released it to the device.
  json wait_until_pending(const std::string& device) {
    json latest;
    const bool released = eventually([&] {
      const json all = deployments_of(device);
      latest = all.empty() ? json() : all.back();
      return latest.value("state", "") == "pending";
    });
    EXPECT_TRUE(released) << device << ": " << latest.dump();
    return latest;
  }

  // --- Native API.
  // Registered and checked in once, running `version` (`image_sha256`).
  NativeDevice native_device(const std::string& id, const std::string& hardware,
                             const std::string& version = "1.0.0",
                             const std::string& image_sha256 = kUnknownImage) {
    const std::string secret = "secret-of-" + id + "-0123456789";
    admin(Method::kPost, "/api/v1/devices",
          {{"id", id}, {"product", "gw"}, {"hardware", hardware}, {"secret", secret}}, 201);
    const ClientResponse t = call(Method::kPost, "/api/v1/device/token", "",
                                  json{{"device_id", id}, {"secret", secret}}.dump());
    EXPECT_EQ(t.status, 200) << t.body;
    NativeDevice device{id, json::parse(t.body, nullptr, false).value("token", "")};
    EXPECT_FALSE(check_in(device, version, image_sha256).value("update", true));
    return device;
  }
  json check_in(const NativeDevice& device, const std::string& version,
                const std::string& image_sha256 = kUnknownImage) {
    const ClientResponse r = call(
        Method::kPost, "/api/v1/device/checkin", "Bearer " + device.token,
        json{{"version", version}, {"image_sha256", image_sha256}, {"nonce", "1122334455667788"}}
            .dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  // --- DDI: tenant gw, controllers registered by the gateway token on first poll.
  void ddi_tenant(const std::string& hardware) {
    gateway_ =
        admin(Method::kPut, "/api/v1/products/gw/ddi",
              {{"auto_register", true}, {"hardware", hardware}, {"gateway_token", "generate"}})
            .value("gateway_token", "");
    ASSERT_EQ(gateway_.size(), 64u);
  }
  json poll(const std::string& controller) {
    const ClientResponse r =
        call(Method::kGet, "/gw/controller/v1/" + controller, "GatewayToken " + gateway_);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  // --- EnOS: sub-devices registered by the operator with a serial number.
  void enos_device(const std::string& id, const std::string& hardware, const std::string& serial) {
    admin(Method::kPost, "/api/v1/devices",
          {{"id", id}, {"product", "gw"}, {"hardware", hardware}, {"serial", serial}}, 201);
  }
  json check_version(const std::string& serial, const std::string& version) {
    const ClientResponse r =
        call(Method::kPost, "/checkversion", "",
             json{{"assetId", ""}, {"version", version}, {"serialNum", serial}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }
  static json enos_no_update(const std::string& asset, const std::string& version) {
    return {{"assetId", asset}, {"version", version}, {"code", 0},        {"desc", "no update"},
            {"signMethod", ""}, {"sign", ""},         {"downloadurl", ""}};
  }

  std::string dir_;
  std::unique_ptr<testing::UpdraftdProcess> server_;
  std::string admin_token_;
  std::string gateway_;
};

TEST_F(IncompatibleDevicesTest, RevADevicesAreOfferedNoRevBReleaseOverAnyProtocol) {
  ASSERT_NO_FATAL_FAILURE(ddi_tenant("rev-a"));
  const NativeDevice native_a = native_device("native-a", "rev-a");
  const NativeDevice native_b = native_device("native-b", "rev-b");
  EXPECT_FALSE(poll("ddi-a")["_links"].contains("deploymentBase"));  // registers it
  EXPECT_EQ(admin(Method::kGet, "/api/v1/devices/ddi-a").value("hardware", ""), "rev-a");
  enos_device("enos-a", "rev-a", "SN-ENOS-A");
  EXPECT_EQ(check_version("SN-ENOS-A", "1.0.0"), enos_no_update("enos-a", "1.0.0"));

  const json release = upload("2.0.0", 1, "rev-b");
  const json campaign =
      create_campaign({{"name", "rev-b only"}, {"release", release.value("id", 0)}});
  EXPECT_EQ(campaign["deployments"]["total"], 1) << campaign.dump();
  EXPECT_EQ(campaign["excluded"],
            json({{"busy", 0}, {"hardware", 3}, {"downgrade", 0}, {"security_counter", 0}}));
  start_campaign(campaign);
  wait_until_pending("native-b");

  // Released: the rev-b device is offered the update, the rev-a devices nothing.
  const json offer = check_in(native_b, "1.0.0");
  EXPECT_TRUE(offer.value("update", false)) << offer.dump();
  EXPECT_EQ(offer.value("version", ""), "2.0.0");
  const json native_answer = check_in(native_a, "1.0.0");
  EXPECT_FALSE(native_answer.value("update", true)) << native_answer.dump();
  EXPECT_FALSE(native_answer.contains("manifest"));
  const json ddi_answer = poll("ddi-a");
  EXPECT_FALSE(ddi_answer["_links"].contains("deploymentBase")) << ddi_answer.dump();
  EXPECT_EQ(check_version("SN-ENOS-A", "1.0.0"), enos_no_update("enos-a", "1.0.0"));
  for (const char* device : {"native-a", "ddi-a", "enos-a"})
    EXPECT_EQ(deployments_of(device), json::array()) << device;
}

TEST_F(IncompatibleDevicesTest, ADeviceOnANewerVersionIsNeverOfferedAnOlderOneOverAnyProtocol) {
  ASSERT_NO_FATAL_FAILURE(ddi_tenant("rev-b"));
  const json older = upload("2.0.0", 1, "rev-b");
  const json newer = upload("2.5.0", 1, "rev-b");
  const NativeDevice native = native_device("native-b", "rev-b");
  enos_device("enos-b", "rev-b", "SN-ENOS-B");
  EXPECT_EQ(check_version("SN-ENOS-B", "1.0.0"), enos_no_update("enos-b", "1.0.0"));

  // The DDI controller installs 2.5.0 through a first campaign.
  EXPECT_FALSE(poll("ddi-b")["_links"].contains("deploymentBase"));  // registers it
  const json first = create_campaign({{"name", "2.5 to ddi-b"},
                                      {"release", newer.value("id", 0)},
                                      {"target", {{"devices", {"ddi-b"}}}}});
  EXPECT_EQ(first["deployments"]["total"], 1) << first.dump();
  start_campaign(first);
  std::string base;
  ASSERT_TRUE(eventually([&] {
    const json links = poll("ddi-b")["_links"];
    if (!links.contains("deploymentBase")) return false;
    const std::string href = links["deploymentBase"].value("href", "");
    base = href.substr(href.find("/gw/"));
    return true;
  }));
  const json closed = {{"id", "1"},
                       {"time", "20260101T000000"},
                       {"status",
                        {{"execution", "closed"},
                         {"result", {{"finished", "success"}}},
                         {"details", json::array()}}}};
  EXPECT_EQ(
      call(Method::kPost, base + "/feedback", "GatewayToken " + gateway_, closed.dump()).status,
      200);
  const json installed = deployments_of("ddi-b");
  ASSERT_EQ(installed.size(), 1u) << installed.dump();
  EXPECT_EQ(installed[0].value("state", ""), "succeeded");

  // 2.0.0 for everyone: the controller on 2.5.0 is left out; the native and EnOS
  // devices, on 1.0.0 when the campaign is made, are targeted.
  const json campaign =
      create_campaign({{"name", "2.0 for all"}, {"release", older.value("id", 0)}});
  EXPECT_EQ(campaign["deployments"]["total"], 2) << campaign.dump();
  EXPECT_EQ(campaign["excluded"],
            json({{"busy", 0}, {"hardware", 0}, {"downgrade", 1}, {"security_counter", 0}}));
  start_campaign(campaign);
  const json ddi_answer = poll("ddi-b");
  EXPECT_FALSE(ddi_answer["_links"].contains("deploymentBase")) << ddi_answer.dump();
  EXPECT_TRUE(ddi_answer["_links"].contains("installedBase")) << ddi_answer.dump();
  EXPECT_EQ(deployments_of("ddi-b").size(), 1u);

  // Native: the device says it runs 2.5.0 (an image the server does not know).
  const std::int64_t native_id = wait_until_pending("native-b").value("id", 0);
  const json answer = check_in(native, "2.5.0");
  EXPECT_FALSE(answer.value("update", true)) << answer.dump();
  EXPECT_TRUE(answer.value("reason", "").starts_with("not offered: ")) << answer.dump();
  const json native_dep = admin(Method::kGet, "/api/v1/deployments/" + std::to_string(native_id));
  EXPECT_EQ(native_dep.value("state", ""), "canceled") << native_dep.dump();
  EXPECT_EQ(native_dep.value("error", 0), 212) << native_dep.dump();
  EXPECT_TRUE(native_dep.value("message", "").starts_with("not offered: ")) << native_dep.dump();
  EXPECT_FALSE(check_in(native, "2.5.0").value("update", true));

  // EnOS: the sub-device reports the EnOS version of release 2.5.0.
  const std::int64_t enos_id = wait_until_pending("enos-b").value("id", 0);
  EXPECT_EQ(check_version("SN-ENOS-B", "v2.5.0.1"), enos_no_update("enos-b", "v2.5.0.1"));
  const json enos_dep = admin(Method::kGet, "/api/v1/deployments/" + std::to_string(enos_id));
  EXPECT_EQ(enos_dep.value("state", ""), "canceled") << enos_dep.dump();
  EXPECT_EQ(enos_dep.value("error", 0), 212) << enos_dep.dump();
  EXPECT_TRUE(enos_dep.value("message", "").starts_with("not offered: ")) << enos_dep.dump();
}

TEST_F(IncompatibleDevicesTest, ADowngradeIsTargetedOnlyWhenTheCampaignAndTheReleaseBothAllowIt) {
  const json newest = upload("2.5.0", 2, "rev-b");
  const json plain = upload("2.0.0", 1, "rev-b");
  const json allowing = upload("2.1.0", 1, "rev-b", /*allow_downgrade=*/true);
  // On 2.5.0 by its report alone, and on release 2.5.0's image (security counter 2).
  const NativeDevice by_version = native_device("by-version", "rev-b", "2.5.0");
  native_device("by-image", "rev-b", "2.5.0", newest.value("sha256", ""));

  // One of the two says no: by-version is left out as a downgrade (by-image, on a
  // higher security counter, is left out for that first).
  for (const auto& [release, allow] : {std::pair{plain, true}, std::pair{allowing, false}}) {
    const json refused = create_campaign(
        {{"name", "down"}, {"release", release.value("id", 0)}, {"allow_downgrade", allow}});
    EXPECT_EQ(refused["deployments"]["total"], 0) << refused.dump();
    EXPECT_EQ(refused["excluded"],
              json({{"busy", 0}, {"hardware", 0}, {"downgrade", 1}, {"security_counter", 1}}));
  }
  // Both allow it: still never below the running release's security counter.
  const json campaign = create_campaign(
      {{"name", "down"}, {"release", allowing.value("id", 0)}, {"allow_downgrade", true}});
  EXPECT_EQ(campaign["deployments"]["total"], 1) << campaign.dump();
  EXPECT_EQ(campaign["excluded"],
            json({{"busy", 0}, {"hardware", 0}, {"downgrade", 0}, {"security_counter", 1}}));
  start_campaign(campaign);
  wait_until_pending("by-version");
  const json offer = check_in(by_version, "2.5.0");
  EXPECT_TRUE(offer.value("update", false)) << offer.dump();
  EXPECT_EQ(offer.value("version", ""), "2.1.0");
  EXPECT_EQ(deployments_of("by-image"), json::array());
}

TEST_F(IncompatibleDevicesTest,
       TwoDraftCampaignsStartedAtOnceLeaveEachDeviceOneUnfinishedDeployment) {
  constexpr int kDevices = 6;
  const json release = upload("2.0.0", 1, "rev-b");
  std::vector<NativeDevice> devices;
  json first_four = json::array();
  for (int i = 0; i < kDevices; ++i) {
    devices.push_back(native_device("dev-" + std::to_string(i), "rev-b"));
    if (i < 4) first_four.push_back(devices.back().id);
  }
  const json a = create_campaign(
      {{"name", "a"}, {"release", release.value("id", 0)}, {"target", {{"devices", first_four}}}});
  EXPECT_EQ(a["deployments"]["total"], 4) << a.dump();
  // Still a draft, campaign a holds its four devices: b gets the other two.
  const json b = create_campaign({{"name", "b"}, {"release", release.value("id", 0)}});
  EXPECT_EQ(b["deployments"]["total"], 2) << b.dump();
  EXPECT_EQ(b["excluded"],
            json({{"busy", 4}, {"hardware", 0}, {"downgrade", 0}, {"security_counter", 0}}));

  std::array<int, 2> status{};
  std::latch go(2);
  std::vector<std::thread> starters;
  for (int k = 0; k < 2; ++k) {
    starters.emplace_back([&, k] {
      const std::int64_t id = (k == 0 ? a : b).value("id", 0);
      HttpClient client("127.0.0.1", server_->port());
      go.arrive_and_wait();
      HostResult<ClientResponse> r =
          client.request(Method::kPost, "/api/v1/campaigns/" + std::to_string(id) + "/start",
                         {{"authorization", "Bearer " + admin_token_}});
      status[k] = r.ok() ? r->status : -1;
    });
  }
  for (std::thread& t : starters) t.join();
  EXPECT_EQ(status[0], 200);
  EXPECT_EQ(status[1], 200);

  // Each device: one deployment, unfinished, from the campaign that targeted it.
  std::vector<json> answers(kDevices);
  std::vector<std::thread> check_ins;
  for (int i = 0; i < kDevices; ++i) {
    wait_until_pending(devices[i].id);
    check_ins.emplace_back([&, i] { answers[i] = check_in(devices[i], "1.0.0"); });
  }
  for (std::thread& t : check_ins) t.join();
  for (int i = 0; i < kDevices; ++i) {
    const json all = deployments_of(devices[i].id);
    ASSERT_EQ(all.size(), 1u) << devices[i].id << ": " << all.dump();
    EXPECT_TRUE(unfinished(all[0])) << all.dump();
    EXPECT_EQ(all[0].value("campaign", 0), (i < 4 ? a : b).value("id", 0)) << devices[i].id;
    EXPECT_TRUE(answers[i].value("update", false)) << answers[i].dump();
    EXPECT_EQ(answers[i].value("deployment", 0), all[0].value("id", 0)) << devices[i].id;
  }
}

}  // namespace
}  // namespace updraft
