// hawkBit DDI v1 contract tests (docs/api/ddi.md): a real updraftd on loopback,
// driven the way a DDI client drives it. Checks every endpoint's JSON shapes
// (names and types), status codes, tokens, registration, configData, the cancel
// flow, odd progress values and parallel feedback. The real SWUpdate client runs
// in swupdate_test.sh.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/host/hex.h"
#include "crypto/sha256.h"
#include "net/http/http_client.h"
#include "tests/integration/updraftd_process.h"

namespace updraft {
namespace {

using net::http::ClientResponse;
using net::http::Headers;
using net::http::HttpClient;
using net::http::Method;
using nlohmann::json;

constexpr const char* kSecret = "secret-of-gw-01-0123456789";

std::string fresh_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "updraftd-ddi-XXXXXX").string();
  return ::mkdtemp(pattern.data());
}

std::string image() {
  static const std::string bytes = [] {
    std::mt19937 random(42);
    std::string b(50'000, '\0');
    for (char& c : b) c = static_cast<char>(random());
    return b;
  }();
  return bytes;
}

// True when `text` is `length` lower-case hex digits (length 0: any non-zero length
// of decimal digits).
bool all_of_kind(const std::string& text, std::size_t length) {
  if (text.empty() || (length != 0 && text.size() != length)) return false;
  for (char ch : text) {
    const bool ok = length == 0 ? (ch >= '0' && ch <= '9')
                                : ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'));
    if (!ok) return false;
  }
  return true;
}

// The path of an absolute DDI link ("http://host:port/path" -> "/path").
std::string path_of(const json& link) {
  const std::string href = link.at("href").get<std::string>();
  EXPECT_EQ(href.rfind("http://127.0.0.1:", 0), 0u) << href;
  return href.substr(href.find('/', 7));
}

class DdiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_dir();
    server_ = std::make_unique<testing::UpdraftdProcess>(
        dir_, std::vector<std::string>{"--poll-seconds", "3725", "--active-poll-seconds", "61"});
    ASSERT_TRUE(server_->started()) << "updraftd did not start; see " << dir_ << "/updraftd.log";
    admin_token_ = server_->admin_token();
    admin(Method::kPost, "/api/v1/products",
          {{"name", "gw"}, {"profile", "linux"}, {"slot_size", 1 << 20}}, 201);
    admin(Method::kPost, "/api/v1/devices",
          {{"id", "gw-01"}, {"product", "gw"}, {"hardware", "rev-a"}, {"secret", kSecret}}, 201);
    const json ddi =
        admin(Method::kPut, "/api/v1/products/gw/ddi",
              {{"auto_register", true}, {"hardware", "rev-a"}, {"gateway_token", "generate"}});
    gateway_ = ddi.value("gateway_token", "");
    ASSERT_EQ(gateway_.size(), 64u);
    EXPECT_EQ(admin(Method::kGet, "/api/v1/products/gw/ddi").value("gateway_token", "absent"),
              "absent");
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  ClientResponse call(Method method, const std::string& target, const std::string& authorization,
                      const std::string& body = "", Headers headers = {}) {
    HttpClient client("127.0.0.1", server_->port());
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
  // A DDI call as gw-01 with its target token.
  ClientResponse ddi(Method method, const std::string& path, const json& body = nullptr,
                     Headers headers = {}) {
    return call(method, path, std::string("TargetToken ") + kSecret,
                body.is_null() ? "" : body.dump(), std::move(headers));
  }
  json poll() {
    const ClientResponse r = ddi(Method::kGet, "/gw/controller/v1/gw-01");
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  // Release 2.0.0 of `image()` and a started campaign for gw-01; returns the campaign id.
  std::int64_t campaign(bool force = true) {
    const std::string img = image();
    const ClientResponse up =
        call(Method::kPost,
             "/api/v1/releases?product=gw&version=2.0.0&security_counter=1&hardware=rev-a",
             "Bearer " + admin_token_, img);
    EXPECT_EQ(up.status, 201) << up.body;
    const json c = admin(Method::kPost, "/api/v1/campaigns",
                         {{"name", "ddi"},
                          {"release", json::parse(up.body).value("id", 0)},
                          {"target", {{"devices", {"gw-01"}}}},
                          {"phases", {{{"percent", 100}}}},
                          {"force", force}},
                         201);
    const std::int64_t id = c.value("id", 0);
    admin(Method::kPost, "/api/v1/campaigns/" + std::to_string(id) + "/start");
    return id;
  }
  json deployment(std::int64_t id) {
    return admin(Method::kGet, "/api/v1/deployments/" + std::to_string(id));
  }
  // Polls until the deploymentBase link shows (the campaign releases its phase on a tick).
  std::string deployment_base_path() {
    for (int i = 0; i < 100; ++i) {
      const json p = poll();
      if (p["_links"].contains("deploymentBase")) return path_of(p["_links"]["deploymentBase"]);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "no deploymentBase link";
    return "";
  }
  static json feedback(const std::string& execution, const std::string& finished,
                       json progress = nullptr, json details = json::array()) {
    json result = {{"finished", finished}};
    if (!progress.is_null()) result["progress"] = progress;
    return {{"id", "1"},
            {"time", "20260101T000000"},
            {"status", {{"execution", execution}, {"result", result}, {"details", details}}}};
  }

  std::string dir_;
  std::unique_ptr<testing::UpdraftdProcess> server_;
  std::string admin_token_;
  std::string gateway_;
};

TEST_F(DdiTest, PollNeedsAValidTokenAndAnswersSleepAndLinks) {
  EXPECT_EQ(call(Method::kGet, "/gw/controller/v1/gw-01", "").status, 401);
  EXPECT_EQ(
      call(Method::kGet, "/gw/controller/v1/gw-01", "TargetToken wrong-secret-0123456").status,
      401);
  EXPECT_EQ(call(Method::kGet, "/gw/controller/v1/gw-01", "GatewayToken wrong").status, 401);
  EXPECT_EQ(call(Method::kGet, "/gw/controller/v1/gw-01", "Bearer " + admin_token_).status, 401);
  EXPECT_EQ(
      call(Method::kGet, "/nope/controller/v1/gw-01", std::string("TargetToken ") + kSecret).status,
      401);
  const ClientResponse unauthorized = call(Method::kGet, "/gw/controller/v1/gw-01", "");
  EXPECT_EQ(json::parse(unauthorized.body)["error"].value("number", 0), 701);

  const json idle = poll();
  ASSERT_TRUE(idle["config"]["polling"]["sleep"].is_string());
  EXPECT_EQ(idle["config"]["polling"]["sleep"], "01:02:05");  // --poll-seconds 3725
  EXPECT_TRUE(idle["_links"].is_object());
  EXPECT_FALSE(idle["_links"].contains("deploymentBase"));
  EXPECT_TRUE(idle["_links"]["configData"]["href"].is_string());
  // The gateway token works for any controller of its tenant.
  EXPECT_EQ(call(Method::kGet, "/gw/controller/v1/gw-01", "GatewayToken " + gateway_).status, 200);

  campaign();
  const std::string base = deployment_base_path();
  EXPECT_TRUE(base.starts_with("/gw/controller/v1/gw-01/deploymentBase/") &&
              all_of_kind(base.substr(base.rfind('/') + 1), 0))
      << base;
  EXPECT_EQ(poll()["config"]["polling"]["sleep"], "00:01:01");  // --active-poll-seconds 61
}

TEST_F(DdiTest, UnknownControllersRegisterOnlyWhenTheTenantAllows) {
  EXPECT_EQ(call(Method::kGet, "/gw/controller/v1/new-01", "GatewayToken " + gateway_).status, 200);
  const json device = admin(Method::kGet, "/api/v1/devices/new-01");
  EXPECT_EQ(device.value("hardware", ""), "rev-a");
  // A target token cannot name a device the server does not know.
  EXPECT_EQ(
      call(Method::kGet, "/gw/controller/v1/new-02", std::string("TargetToken ") + kSecret).status,
      401);

  admin(Method::kPut, "/api/v1/products/gw/ddi", {{"auto_register", false}});
  const ClientResponse refused =
      call(Method::kGet, "/gw/controller/v1/new-03", "GatewayToken " + gateway_);
  EXPECT_EQ(refused.status, 404) << refused.body;
  admin(Method::kGet, "/api/v1/devices/new-03", nullptr, 404);
  // Settings are admin-only and audited.
  const json events = admin(Method::kGet, "/api/v1/audit?limit=20");
  bool audited = false;
  for (const json& e : events["events"]) audited |= e.value("action", "") == "product.ddi";
  EXPECT_TRUE(audited);
  admin(Method::kPut, "/api/v1/products/gw/ddi", {{"auto_register", true}, {"hardware", ""}}, 400);
  admin(Method::kPut, "/api/v1/products/nope/ddi", {{"auto_register", false}}, 404);
  admin(Method::kPut, "/api/v1/products/gw/ddi", {{"gateway_token", "short"}}, 400);
  // null removes the gateway token: it no longer opens anything.
  EXPECT_FALSE(admin(Method::kPut, "/api/v1/products/gw/ddi", {{"gateway_token", nullptr}})
                   .value("gateway_token_set", true));
  EXPECT_EQ(call(Method::kGet, "/gw/controller/v1/gw-01", "GatewayToken " + gateway_).status, 401);
}

TEST_F(DdiTest, DeploymentBaseNamesTheFullImageWithHashesAndLinks) {
  campaign(false);
  const std::string base = deployment_base_path();
  const ClientResponse r = ddi(Method::kGet, base);
  ASSERT_EQ(r.status, 200) << r.body;
  const json d = json::parse(r.body);
  ASSERT_TRUE(d["id"].is_string());
  EXPECT_EQ(base.substr(base.rfind('/') + 1), d["id"].get<std::string>());
  EXPECT_EQ(d["deployment"]["download"], "attempt");
  EXPECT_EQ(d["deployment"]["update"], "attempt");
  ASSERT_EQ(d["deployment"]["chunks"].size(), 1u);
  const json& chunk = d["deployment"]["chunks"][0];
  EXPECT_EQ(chunk["part"], "os");
  EXPECT_EQ(chunk["version"], "2.0.0");
  EXPECT_EQ(chunk["name"], "gw");
  ASSERT_EQ(chunk["artifacts"].size(), 1u);
  const json& a = chunk["artifacts"][0];
  EXPECT_EQ(a["filename"], "gw-2.0.0.swu");
  ASSERT_TRUE(a["size"].is_number_integer());
  EXPECT_EQ(a["size"].get<std::size_t>(), image().size());
  EXPECT_TRUE(all_of_kind(a["hashes"]["sha1"].get<std::string>(), 40));
  EXPECT_TRUE(all_of_kind(a["hashes"]["md5"].get<std::string>(), 32));
  const std::string sha256 = to_hex(Sha256::digest(as_bytes_view(image().data(), image().size())));
  EXPECT_EQ(a["hashes"]["sha256"], sha256);
  EXPECT_EQ(a["_links"]["download"], a["_links"]["download-http"]);

  const std::string file = path_of(a["_links"]["download"]);
  const ClientResponse whole = ddi(Method::kGet, file);
  EXPECT_EQ(whole.status, 200);
  EXPECT_EQ(whole.body, image());
  EXPECT_EQ(call(Method::kGet, file, "").status, 401);
  const ClientResponse head = ddi(Method::kHead, file);
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.header("content-length"), std::to_string(image().size()));
  const ClientResponse part = ddi(Method::kGet, file, nullptr, {{"range", "bytes=100-199"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, image().substr(100, 100));
  EXPECT_EQ(ddi(Method::kGet, file, nullptr, {{"if-match", "\"other\""}}).status, 412);
  EXPECT_EQ(ddi(Method::kGet, file, nullptr, {{"if-match", "\"" + sha256 + "\""}}).status, 200);
  const ClientResponse md5 = ddi(Method::kGet, path_of(a["_links"]["md5sum"]));
  EXPECT_EQ(md5.status, 200);
  EXPECT_EQ(md5.body, a["hashes"]["md5"].get<std::string>() + "  gw-2.0.0.swu\n");
  EXPECT_EQ(ddi(Method::kGet, file.substr(0, file.rfind('/')) + "/other.swu").status, 404);
  EXPECT_EQ(ddi(Method::kGet, "/gw/controller/v1/gw-01/deploymentBase/999").status, 404);
}

TEST_F(DdiTest, FeedbackMovesTheDeploymentToleratesOddProgressAndIsGoneOnceFinished) {
  campaign();
  const std::string base = deployment_base_path();
  const std::int64_t id = std::stoll(base.substr(base.rfind('/') + 1));
  const std::string fb = base + "/feedback";
  EXPECT_EQ(ddi(Method::kPost, fb, feedback("proceeding", "none", {{"cnt", 1}, {"of", 4}})).status,
            200);
  EXPECT_EQ(deployment(id).value("state", ""), "downloading");
  EXPECT_EQ(deployment(id).value("progress", -1), 25);
  // of = 0, a missing count, negative and non-numbers: accepted, progress kept.
  EXPECT_EQ(ddi(Method::kPost, fb, feedback("proceeding", "none", {{"cnt", 0}, {"of", 0}})).status,
            200);
  EXPECT_EQ(ddi(Method::kPost, fb, feedback("proceeding", "none", {{"of", 3}})).status, 200);
  EXPECT_EQ(
      ddi(Method::kPost, fb, feedback("proceeding", "none", {{"cnt", -5}, {"of", "x"}})).status,
      200);
  EXPECT_EQ(ddi(Method::kPost, fb, feedback("proceeding", "none")).status, 200);
  EXPECT_EQ(deployment(id).value("progress", -1), 25);
  EXPECT_EQ(ddi(Method::kPost, fb, feedback("downloaded", "none", {{"cnt", 9}, {"of", 3}})).status,
            200);
  EXPECT_EQ(deployment(id).value("state", ""), "installing");
  EXPECT_EQ(deployment(id).value("progress", -1), 100);
  // Unknown values and shapes are refused, naming the field.
  const ClientResponse bad = ddi(Method::kPost, fb, feedback("exploded", "none"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("status.execution"), std::string::npos) << bad.body;
  EXPECT_EQ(ddi(Method::kPost, fb, feedback("closed", "maybe")).status, 400);
  EXPECT_EQ(ddi(Method::kPost, fb, json{{"id", "1"}}).status, 400);
  EXPECT_EQ(call(Method::kPost, fb, "", feedback("closed", "success").dump()).status, 401);

  EXPECT_EQ(ddi(Method::kPost, fb, feedback("closed", "success", nullptr, {"done"})).status, 200);
  EXPECT_EQ(deployment(id).value("state", ""), "succeeded");
  EXPECT_EQ(ddi(Method::kPost, fb, feedback("proceeding", "none")).status, 410);
  const json after = poll();
  EXPECT_FALSE(after["_links"].contains("deploymentBase"));
  const std::string installed = path_of(after["_links"]["installedBase"]);
  EXPECT_EQ(installed, "/gw/controller/v1/gw-01/installedBase/" + std::to_string(id));
  const ClientResponse ib = ddi(Method::kGet, installed);
  EXPECT_EQ(ib.status, 200);
  EXPECT_EQ(json::parse(ib.body)["deployment"]["chunks"][0]["version"], "2.0.0");
}

TEST_F(DdiTest, FailureKeepsTheDetailsAndAnErrorNumber) {
  campaign();
  const std::string base = deployment_base_path();
  const std::int64_t id = std::stoll(base.substr(base.rfind('/') + 1));
  // SWUpdate sends its reason in a progress feedback and closes with a summary:
  // the error line must survive the close.
  EXPECT_EQ(ddi(Method::kPost, base + "/feedback",
                feedback("proceeding", "none", nullptr, {"Found file", "ERROR : HASH mismatch"}))
                .status,
            200);
  EXPECT_EQ(ddi(Method::kPost, base + "/feedback",
                feedback("closed", "failure", nullptr, {"No suitable .swu image found", "bye"}))
                .status,
            200);
  const json d = deployment(id);
  EXPECT_EQ(d.value("state", ""), "failed");
  EXPECT_EQ(d.value("error", 0), 540);
  EXPECT_EQ(d.value("error_name", ""), "AGENT_CLIENT_REPORTED_FAILURE");
  EXPECT_EQ(d.value("message", ""), "ERROR : HASH mismatch\nNo suitable .swu image found\nbye");
  bool audited = false;
  const json events = admin(Method::kGet, "/api/v1/audit?limit=20");
  for (const json& e : events["events"]) {
    if (e.value("action", "") == "deployment.ddi_feedback")
      audited = e["details"].dump().find("No suitable") != std::string::npos;
  }
  EXPECT_TRUE(audited) << events.dump();
}

TEST_F(DdiTest, ConfigDataIsAdvertisedUntilReceived) {
  EXPECT_TRUE(poll()["_links"].contains("configData"));
  const std::string path = "/gw/controller/v1/gw-01/configData";
  EXPECT_EQ(ddi(Method::kPut, path, {{"mode", "sideways"}, {"data", {{"a", "1"}}}}).status, 400);
  EXPECT_EQ(ddi(Method::kPut, path, {{"mode", "merge"}}).status, 400);
  EXPECT_TRUE(poll()["_links"].contains("configData"));
  EXPECT_EQ(
      ddi(Method::kPut, path, {{"mode", "merge"}, {"data", {{"hwRevision", "1.0"}, {"n", 3}}}})
          .status,
      200);
  EXPECT_FALSE(poll()["_links"].contains("configData"));
  EXPECT_EQ(ddi(Method::kPut, path, {{"mode", "remove"}, {"data", {{"n", ""}}}}).status, 200);
  EXPECT_EQ(ddi(Method::kPut, path, {{"mode", "replace"}, {"data", {{"x", "y"}}}}).status, 200);
  EXPECT_EQ(call(Method::kPut, path, "", json{{"data", json::object()}}.dump()).status, 401);
}

TEST_F(DdiTest, AbortOffersACancelActionUntilTheControllerClosesIt) {
  const std::int64_t c = campaign();
  const std::string base = deployment_base_path();
  const std::int64_t id = std::stoll(base.substr(base.rfind('/') + 1));
  admin(Method::kPost, "/api/v1/campaigns/" + std::to_string(c) + "/abort");
  const json p = poll();
  EXPECT_FALSE(p["_links"].contains("deploymentBase"));
  const std::string cancel = path_of(p["_links"]["cancelAction"]);
  EXPECT_EQ(cancel, "/gw/controller/v1/gw-01/cancelAction/" + std::to_string(id));
  const ClientResponse r = ddi(Method::kGet, cancel);
  ASSERT_EQ(r.status, 200);
  const json body = json::parse(r.body);
  EXPECT_EQ(body["id"], std::to_string(id));
  EXPECT_EQ(body["cancelAction"]["stopId"], std::to_string(id));
  // The canceled deployment takes no more feedback.
  EXPECT_EQ(ddi(Method::kPost, base + "/feedback", feedback("proceeding", "none")).status, 410);
  // rejected: the cancel stays on offer.
  EXPECT_EQ(ddi(Method::kPost, cancel + "/feedback", feedback("rejected", "none")).status, 200);
  EXPECT_TRUE(poll()["_links"].contains("cancelAction"));
  EXPECT_EQ(ddi(Method::kPost, cancel + "/feedback",
                feedback("closed", "success", nullptr, {"cancellation acknowledged."}))
                .status,
            200);
  EXPECT_FALSE(poll()["_links"].contains("cancelAction"));
  EXPECT_EQ(ddi(Method::kPost, cancel + "/feedback", feedback("closed", "success")).status, 410);
  EXPECT_EQ(deployment(id).value("state", ""), "canceled");
  EXPECT_EQ(deployment(id).value("message", ""), "cancellation acknowledged.");
  EXPECT_EQ(ddi(Method::kGet, "/gw/controller/v1/gw-01/cancelAction/999").status, 404);
}

TEST_F(DdiTest, ParallelFeedbackNeverMovesAFinishedDeployment) {
  campaign();
  const std::string fb = deployment_base_path() + "/feedback";
  const std::int64_t id = std::stoll(fb.substr(fb.find("deploymentBase/") + 15));
  std::atomic<int> odd_status{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      HttpClient client("127.0.0.1", server_->port());
      for (int i = 0; i < 15; ++i) {
        const json body = t == 0 && i == 5
                              ? feedback("closed", "success")
                              : feedback("proceeding", "none", {{"cnt", i}, {"of", 15}});
        HostResult<ClientResponse> r =
            client.request(Method::kPost, fb,
                           {{"authorization", std::string("TargetToken ") + kSecret}}, body.dump());
        if (!r.ok() || (r->status != 200 && r->status != 410)) ++odd_status;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(odd_status.load(), 0);
  const json d = deployment(id);
  EXPECT_EQ(d.value("state", ""), "succeeded");
  EXPECT_EQ(d.value("progress", 0), 100);
}

}  // namespace
}  // namespace updraft
