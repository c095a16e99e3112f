// Stolen credentials (issue 15) against a real updraftd on loopback: a revoked or
// expired admin token is refused by the next request, a rotated device secret
// ends the old secret and the device tokens issued with it, a decommissioned
// device is refused everywhere and its deployment canceled, tokens in the query
// string are refused, the event stream opens once per ticket, and the Bearer
// scheme is case-insensitive.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "net/http/http_client.h"
#include "tests/integration/updraftd_process.h"

namespace updraft {
namespace {

using net::http::ClientResponse;
using net::http::Headers;
using net::http::HttpClient;
using net::http::Method;
using nlohmann::json;
using testing::eventually;

std::string fresh_dir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "updraft-credentials-XXXXXX").string();
  return ::mkdtemp(pattern.data());
}

std::int64_t wall_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_dir();
    server_ = std::make_unique<testing::UpdraftdProcess>(dir_);
    ASSERT_TRUE(server_->started()) << "updraftd did not start; see " << dir_ << "/updraftd.log";
    admin_ = server_->admin_token();
    ASSERT_FALSE(admin_.empty());
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  ClientResponse call(Method method, const std::string& target, Headers headers = {},
                      const std::string& body = "") {
    HttpClient client("127.0.0.1", server_->port());
    HostResult<ClientResponse> r = client.request(method, target, headers, body);
    EXPECT_TRUE(r.ok()) << target << ": " << (r.ok() ? "" : r.error().to_string());
    return r.ok() ? *r : ClientResponse{};
  }
  static Headers bearer(const std::string& token) { return {{"authorization", "Bearer " + token}}; }

  // A call that must answer `status`; returns the JSON body.
  json expect(int status, Method method, const std::string& target, const std::string& token,
              const json& body = nullptr) {
    const ClientResponse r = call(method, target, bearer(token), body.is_null() ? "" : body.dump());
    EXPECT_EQ(r.status, status) << method_name(method) << " " << target << ": " << r.body;
    return r.body.empty() ? json() : json::parse(r.body, nullptr, false);
  }

  json new_token(const std::string& name, const std::string& role, json extra = json::object()) {
    extra["name"] = name;
    extra["role"] = role;
    return expect(201, Method::kPost, "/api/v1/tokens", admin_, extra);
  }

  // A product "meter" and a device with its secret.
  void add_device(const std::string& id, const std::string& secret) {
    if (!product_made_) {
      expect(201, Method::kPost, "/api/v1/products", admin_,
             {{"name", "meter"}, {"profile", "mcu-tiny"}, {"slot_size", 1 << 20}});
      product_made_ = true;
    }
    expect(201, Method::kPost, "/api/v1/devices", admin_,
           {{"id", id}, {"product", "meter"}, {"hardware", "rev-b"}, {"secret", secret}});
  }

  ClientResponse device_token(const std::string& id, const std::string& secret) {
    return call(Method::kPost, "/api/v1/device/token", {},
                json{{"device_id", id}, {"secret", secret}}.dump());
  }
  std::string device_token_for(const std::string& id, const std::string& secret) {
    const ClientResponse r = device_token(id, secret);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false).value("token", std::string());
  }

  ClientResponse check_in(const std::string& token, Headers headers = {}) {
    if (headers.empty()) headers = bearer(token);
    return call(Method::kPost, "/api/v1/device/checkin", headers,
                json{{"version", "1.0.0"},
                     {"image_sha256", std::string(64, 'a')},
                     {"nonce", "1122334455667788"}}
                    .dump());
  }

  // The status of GET `target` on a raw connection, read from the status line
  // alone: an event stream never ends, so no client that waits for a body will do.
  int stream_status(const std::string& target, const std::string& authorization = "") {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(server_->port());
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int status = -1;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
      std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
      if (!authorization.empty()) request += "Authorization: " + authorization + "\r\n";
      request += "\r\n";
      if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
        std::string head;
        char buffer[512];
        while (head.find("\r\n") == std::string::npos) {
          const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
          if (got <= 0) break;
          head.append(buffer, static_cast<std::size_t>(got));
        }
        // "HTTP/1.1 200 OK"
        if (head.size() > 12) status = std::atoi(head.substr(9, 3).c_str());
      }
    }
    ::close(fd);
    return status;
  }

  static const char* method_name(Method method) {
    switch (method) {
      case Method::kGet:
        return "GET";
      case Method::kPost:
        return "POST";
      case Method::kDelete:
        return "DELETE";
      default:
        return "?";
    }
  }

  std::string dir_;
  std::unique_ptr<testing::UpdraftdProcess> server_;
  std::string admin_;
  bool product_made_ = false;
};

TEST_F(CredentialsTest, ARevokedAdminTokenIsRefusedByTheNextRequest) {
  const json ci = new_token("ci", "operator");
  const std::string secret = ci.at("token");
  expect(200, Method::kGet, "/api/v1/devices", secret);  // known, cached, used
  const std::string path = "/api/v1/tokens/" + std::to_string(ci.at("id").get<long long>());
  expect(403, Method::kDelete, path, secret);  // an operator may not revoke
  const json revoked = expect(200, Method::kDelete, path, admin_);
  EXPECT_EQ(revoked.value("state", ""), "revoked");
  const json refused = expect(401, Method::kGet, "/api/v1/devices", secret);
  EXPECT_NE(refused.dump().find("revoked"), std::string::npos) << refused;

  const json tokens = expect(200, Method::kGet, "/api/v1/tokens", admin_);
  ASSERT_EQ(tokens.at("tokens").size(), 2u);
  const json& listed = tokens.at("tokens")[1];
  EXPECT_EQ(listed.at("name"), "ci");
  EXPECT_GT(listed.at("last_used_at").get<long long>(), 0);
  EXPECT_GT(listed.at("revoked_at").get<long long>(), 0);
  EXPECT_EQ(listed.at("state"), "revoked");
  EXPECT_EQ(tokens.at("tokens")[0].at("state"), "active");

  // The bootstrap token is the last admin token: it cannot revoke itself.
  const long long admin_id = tokens.at("tokens")[0].at("id");
  expect(409, Method::kDelete, "/api/v1/tokens/" + std::to_string(admin_id), admin_);
  expect(200, Method::kGet, "/api/v1/products", admin_);
}

TEST_F(CredentialsTest, AnExpiredAdminTokenIsRefused) {
  const json brief = new_token("brief", "viewer", {{"expires_at", wall_now() + 3}});
  const std::string secret = brief.at("token");
  EXPECT_GT(brief.at("expires_at").get<long long>(), 0);
  EXPECT_TRUE(eventually(
      [&] { return call(Method::kGet, "/api/v1/products", bearer(secret)).status == 401; }, 10'000))
      << "still accepted after its expiry";
  EXPECT_EQ(expect(200, Method::kGet, "/api/v1/tokens", admin_).at("tokens")[1].at("state"),
            "expired");
  // A day-based expiry is shown too; one in the past is refused.
  const json daily = new_token("daily", "viewer", {{"expires_in_days", 30}});
  EXPECT_NEAR(daily.at("expires_at").get<double>(), static_cast<double>(wall_now() + 30 * 86400),
              60);
  expect(400, Method::kPost, "/api/v1/tokens", admin_,
         {{"name", "late"}, {"role", "viewer"}, {"expires_at", wall_now() - 10}});
}

TEST_F(CredentialsTest, ARotatedSecretEndsTheOldSecretAndTheOldDeviceToken) {
  add_device("dev-1", "first-secret-0123456789");
  const std::string old_token = device_token_for("dev-1", "first-secret-0123456789");
  ASSERT_EQ(check_in(old_token).status, 200);

  const json rotated = expect(200, Method::kPost, "/api/v1/devices/dev-1/secret", admin_);
  const std::string new_secret = rotated.at("secret");
  EXPECT_EQ(new_secret.size(), 64u);
  EXPECT_EQ(check_in(old_token).status, 401);
  EXPECT_EQ(device_token("dev-1", "first-secret-0123456789").status, 401);
  const std::string new_token = device_token_for("dev-1", new_secret);
  EXPECT_EQ(check_in(new_token).status, 200);

  // The operator may choose the secret (and a short one is refused).
  expect(400, Method::kPost, "/api/v1/devices/dev-1/secret", admin_, {{"secret", "short"}});
  expect(200, Method::kPost, "/api/v1/devices/dev-1/secret", admin_,
         {{"secret", "chosen-secret-0123456789"}});
  EXPECT_EQ(check_in(new_token).status, 401);
  EXPECT_EQ(check_in(device_token_for("dev-1", "chosen-secret-0123456789")).status, 200);
  expect(404, Method::kPost, "/api/v1/devices/ghost/secret", admin_);
}

TEST_F(CredentialsTest, ADecommissionedDeviceIsRefusedAndItsDeploymentCanceled) {
  add_device("dev-1", "first-secret-0123456789");
  add_device("dev-2", "second-secret-0123456789");
  std::string image(20'000, '\0');
  for (std::size_t i = 0; i < image.size(); ++i) image[i] = static_cast<char>(i * 13 % 251);
  const ClientResponse uploaded =
      call(Method::kPost,
           "/api/v1/releases?product=meter&version=2.0.0&security_counter=2&hardware=rev-b",
           bearer(admin_), image);
  ASSERT_EQ(uploaded.status, 201) << uploaded.body;
  const long long release = json::parse(uploaded.body).at("id");
  const long long campaign =
      expect(201, Method::kPost, "/api/v1/campaigns", admin_, {{"name", "r"}, {"release", release}})
          .at("id");
  expect(200, Method::kPost, "/api/v1/campaigns/" + std::to_string(campaign) + "/start", admin_);

  const std::string token = device_token_for("dev-1", "first-secret-0123456789");
  json offer;
  ASSERT_TRUE(eventually([&] {
    const ClientResponse r = check_in(token);
    offer = json::parse(r.body, nullptr, false);
    return r.status == 200 && offer.value("update", false);
  })) << offer;
  const std::string artifact = offer.at("artifact");
  ASSERT_EQ(call(Method::kGet, artifact, bearer(token)).status, 200);
  const long long deployment = offer.at("deployment");

  const json done = expect(200, Method::kPost, "/api/v1/devices/dev-1/decommission", admin_);
  EXPECT_GT(done.at("decommissioned_at").get<long long>(), 0);
  EXPECT_EQ(done.at("canceled_deployments"), json::array({deployment}));

  EXPECT_EQ(check_in(token).status, 401);
  EXPECT_EQ(call(Method::kGet, artifact, bearer(token)).status, 401);
  EXPECT_EQ(device_token("dev-1", "first-secret-0123456789").status, 401);
  EXPECT_EQ(call(Method::kGet, "/meter/controller/v1/dev-1",
                 {{"authorization", "TargetToken first-secret-0123456789"}})
                .status,
            401)
      << "nor over DDI";
  EXPECT_EQ(expect(200, Method::kGet, "/api/v1/deployments/" + std::to_string(deployment), admin_)
                .at("state"),
            "canceled");
  // The record stays, for history; a second decommissioning is a conflict.
  const json device = expect(200, Method::kGet, "/api/v1/devices/dev-1", admin_);
  EXPECT_EQ(device.at("decommissioned_at"), done.at("decommissioned_at"));
  expect(409, Method::kPost, "/api/v1/devices/dev-1/decommission", admin_);
  expect(409, Method::kPost, "/api/v1/devices/dev-1/secret", admin_);
  const json audit = expect(200, Method::kGet, "/api/v1/audit?limit=5", admin_);
  bool audited = false;
  for (const json& e : audit.at("events")) audited |= e.at("action") == "device.decommission";
  EXPECT_TRUE(audited) << audit;

  // The other device goes on.
  EXPECT_EQ(check_in(device_token_for("dev-2", "second-secret-0123456789")).status, 200);
}

TEST_F(CredentialsTest, TokensInTheQueryStringAreRefused) {
  const ClientResponse get = call(Method::kGet, "/api/v1/products?token=" + admin_);
  EXPECT_EQ(get.status, 401) << get.body;
  EXPECT_NE(get.body.find("query string"), std::string::npos) << get.body;
  const ClientResponse post = call(Method::kPost, "/api/v1/products?token=" + admin_, {},
                                   json{{"name", "sneaky"}, {"profile", "mcu-tiny"}}.dump());
  EXPECT_EQ(post.status, 401) << post.body;
  EXPECT_TRUE(expect(200, Method::kGet, "/api/v1/products", admin_).at("products").empty());
  EXPECT_EQ(stream_status("/api/v1/events?token=" + admin_), 401);

  add_device("dev-1", "first-secret-0123456789");
  const std::string token = device_token_for("dev-1", "first-secret-0123456789");
  const ClientResponse device = call(Method::kPost, "/api/v1/device/checkin?token=" + token, {},
                                     json{{"version", "1.0.0"}}.dump());
  EXPECT_EQ(device.status, 401) << device.body;
}

TEST_F(CredentialsTest, ATicketOpensTheEventStreamOnce) {
  const std::string viewer = new_token("wall", "viewer").at("token");
  const json ticket = expect(201, Method::kPost, "/api/v1/events/ticket", viewer);
  const std::string value = ticket.at("ticket");
  EXPECT_LE(ticket.at("expires_at").get<long long>(), wall_now() + 61);
  EXPECT_EQ(stream_status("/api/v1/events?ticket=" + value), 200);
  EXPECT_EQ(stream_status("/api/v1/events?ticket=" + value), 401) << "spent";
  EXPECT_EQ(stream_status("/api/v1/events?ticket=made-up"), 401);
  EXPECT_EQ(stream_status("/api/v1/events"), 401);
  // A client that can send headers still may.
  EXPECT_EQ(stream_status("/api/v1/events", "Bearer " + viewer), 200);
}

TEST_F(CredentialsTest, TheBearerSchemeIsCaseInsensitive) {
  EXPECT_EQ(call(Method::kGet, "/api/v1/products", {{"authorization", "bearer " + admin_}}).status,
            200);
  EXPECT_EQ(call(Method::kGet, "/api/v1/products", {{"authorization", "BEARER " + admin_}}).status,
            200);
  add_device("dev-1", "first-secret-0123456789");
  const std::string token = device_token_for("dev-1", "first-secret-0123456789");
  EXPECT_EQ(check_in(token, {{"authorization", "bearer " + token}}).status, 200);
  EXPECT_EQ(check_in(token, {{"authorization", "BEARER " + token}}).status, 200);
  EXPECT_EQ(call(Method::kGet, "/meter/controller/v1/dev-1",
                 {{"authorization", "targettoken first-secret-0123456789"}})
                .status,
            200);
  EXPECT_EQ(check_in(token, {{"authorization", "Basic " + token}}).status, 401);
}

}  // namespace
}  // namespace updraft
