// Stolen traffic (issue 15): updraft-agent speaks HTTPS to updraftd and trusts only
// what it was told to. Real processes on loopback: updraftd with --tls-cert and
// --tls-key (a certificate issued by a test CA, made with the openssl CLI), real
// `updraft-agent` devices.
//
//   - A pinned CA (--ca-file) of another CA, and a pinned server key
//     (--server-key-sha256) that is not the server's, are refused before anything
//     is sent, with an error that says why; the deployment stays untouched.
//   - The right CA, or the right key pin, updates the device.
//   - https:// without a CA file or pin trusts the system's CAs only.
//   - Plain http:// is refused unless --insecure; --ca-file needs https://.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/host/file.h"
#include "delta/testing/test_images.h"
#include "net/http/http_client.h"
#include "tests/integration/admin_calls.h"
#include "tests/integration/updraftd_process.h"

namespace updraft {
namespace {

using net::http::HttpClient;
using net::http::HttpClientOptions;
using net::http::Method;
using nlohmann::json;
using testing::ChildProcess;
using testing::eventually;
using testing::slurp;
using Bytes = std::vector<std::byte>;

constexpr std::uint32_t kSlotBytes = 1 << 20;

// Runs `command` through /bin/sh in `dir`; its output, and whether it exited 0.
bool shell(const std::string& dir, const std::string& command, std::string* output = nullptr) {
  const std::string line = "cd '" + dir + "' && (" + command + ") 2>&1";
  std::FILE* pipe = ::popen(line.c_str(), "r");
  if (pipe == nullptr) return false;
  std::string out;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  const int status = ::pclose(pipe);
  if (output != nullptr) *output = out;
  const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!ok) ADD_FAILURE() << command << "\n" << out;
  return ok;
}

class AgentTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "updraft-tls-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    // A CA, a server certificate it issues for 127.0.0.1, and another CA.
    const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    ASSERT_TRUE(shell(dir_, "openssl req -x509 " + key +
                                " -keyout ca.key -out ca.pem -days 2 -subj /CN=updraft-test-ca"));
    ASSERT_TRUE(shell(dir_, "openssl req -x509 " + key +
                                " -keyout other-ca.key -out other-ca.pem -days 2 "
                                "-subj /CN=updraft-other-ca"));
    std::ofstream(dir_ + "/san.cnf")
        << "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n";
    ASSERT_TRUE(shell(
        dir_, "openssl req " + key + " -keyout server.key -out server.csr -subj /CN=127.0.0.1"));
    ASSERT_TRUE(shell(dir_,
                      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key "
                      "-CAcreateserial -out server.pem -days 2 -extfile san.cnf"));
    std::string pin;
    ASSERT_TRUE(shell(dir_,
                      "openssl x509 -in server.pem -pubkey -noout | openssl pkey -pubin "
                      "-outform der | sha256sum | cut -d' ' -f1",
                      &pin));
    pin_ = pin.substr(0, 64);
    ASSERT_EQ(pin_.size(), 64u) << pin;

    server_ = std::make_unique<testing::UpdraftdProcess>(
        dir_ + "/server",
        std::vector<std::string>{"--tls-cert", dir_ + "/server.pem", "--tls-key",
                                 dir_ + "/server.key", "--active-poll-seconds", "1"});
    ASSERT_TRUE(server_->started()) << slurp(dir_ + "/server/updraftd.log");
    EXPECT_NE(slurp(dir_ + "/server/updraftd.log").find("listening on https://"),
              std::string::npos);
    token_ = server_->admin_token();

    v1_ = test_images::firmware_like(100'000, 41);
    v2_ = test_images::spread_changes(v1_, 200, 500, 42);
    admin(Method::kPost, "/api/v1/products",
          json{{"name", "gateway"}, {"profile", "linux"}, {"slot_size", kSlotBytes}}.dump(), 201);
    upload("1.0.0", 1, v1_);
    release_ = upload("2.0.0", 2, v2_);
    for (const char* id : {"gw-1", "gw-2", "gw-3"}) {
      admin(Method::kPost, "/api/v1/devices",
            json{{"id", id}, {"product", "gateway"}, {"hardware", "pi-4"}, {"secret", secret(id)}}
                .dump(),
            201);
      ASSERT_NO_FATAL_FAILURE(provision(id));
    }
  }
  void TearDown() override {
    agents_.clear();
    server_.reset();
    if (!HasFailure() && !std::getenv("UPDRAFT_KEEP_TEST_DIR")) std::filesystem::remove_all(dir_);
  }

  // The test's own client trusts the test CA.
  HttpClientOptions tls() const {
    HttpClientOptions options;
    options.tls = true;
    options.ca_file = dir_ + "/ca.pem";
    return options;
  }
  HostResult<net::http::ClientResponse> call(Method method, const std::string& target,
                                             const std::string& body = "") {
    HttpClient client("127.0.0.1", server_->port(), tls());
    return client.request(method, target, {{"authorization", "Bearer " + token_}}, body);
  }
  json admin(Method method, const std::string& target, const std::string& body, int status) {
    return testing::admin_call(server_->port(), token_, method, target, body, status, tls());
  }
  int upload(const char* version, int counter, const Bytes& image) {
    return testing::upload_gateway_release(server_->port(), token_, version, counter, image, tls());
  }
  static std::string secret(const std::string& id) { return id + "-secret-0123456789abcdef"; }

  void provision(const std::string& id) {
    const std::string d = dir_ + "/" + id;
    std::filesystem::create_directories(d);
    ASSERT_TRUE(write_file_atomic(d + "/factory.img", v1_).ok());
    auto root = call(Method::kGet, "/api/v1/trust/root");
    ASSERT_TRUE(root.ok() && root->status == 200);
    std::ofstream(d + "/root.bin", std::ios::binary) << root->body;
    ChildProcess provision(
        {UPDRAFT_AGENT, "provision", "--image", d + "/factory.img", "--version", "1.0.0",
         "--security-counter", "1", "--slot-size", std::to_string(kSlotBytes), "--slot-a",
         d + "/a.img", "--slot-b", d + "/b.img", "--state", d + "/state"},
        d + "/provision.log");
    ASSERT_EQ(provision.wait(10'000), 0) << slurp(d + "/provision.log");
  }

  // `updraft-agent run --once` for device `id` with `server` and `extra` flags;
  // returns its exit status.
  int run_agent(const std::string& id, const std::string& server,
                const std::vector<std::string>& extra) {
    const std::string d = dir_ + "/" + id;
    std::vector<std::string> args = {UPDRAFT_AGENT,    "run",
                                     "--server",       server,
                                     "--device-id",    id,
                                     "--secret",       secret(id),
                                     "--root",         d + "/root.bin",
                                     "--product",      "gateway",
                                     "--hardware",     "pi-4",
                                     "--slot-a",       d + "/a.img",
                                     "--slot-b",       d + "/b.img",
                                     "--state",        d + "/state",
                                     "--poll-seconds", "1",
                                     "--once"};
    args.insert(args.end(), extra.begin(), extra.end());
    agents_[id] = std::make_unique<ChildProcess>(args, log_of(id));
    return agents_[id]->wait(60'000);
  }
  std::string https() const { return "https://127.0.0.1:" + std::to_string(server_->port()); }
  std::string log_of(const std::string& id) const { return dir_ + "/" + id + "/agent.log"; }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  int start_campaign() {
    const int campaign =
        admin(Method::kPost, "/api/v1/campaigns",
              json{{"name", "rollout"}, {"release", release_}, {"phases", {{{"percent", 100}}}}}
                  .dump(),
              201)
            .value("id", 0);
    admin(Method::kPost, "/api/v1/campaigns/" + std::to_string(campaign) + "/start", "", 200);
    EXPECT_TRUE(eventually([&] { return state(campaign, "gw-1") == "pending"; }));
    return campaign;
  }
  std::string state(int campaign, const std::string& device) {
    const json list = admin(
        Method::kGet, "/api/v1/campaigns/" + std::to_string(campaign) + "/deployments", "", 200);
    for (const json& d : list.value("deployments", json::array())) {
      if (d.value("device", "") == device) return d.value("state", "");
    }
    return "";
  }
  bool runs_v2(const std::string& id) {
    HostResult<Bytes> b = read_file(dir_ + "/" + id + "/b.img");
    return b.ok() && b->size() >= v2_.size() && std::equal(v2_.begin(), v2_.end(), b->begin());
  }

  std::string dir_;
  std::string pin_;
  std::unique_ptr<testing::UpdraftdProcess> server_;
  std::map<std::string, std::unique_ptr<ChildProcess>> agents_;
  std::string token_;
  Bytes v1_, v2_;
  int release_ = 0;
};

TEST_F(AgentTlsTest, AnUntrustedCertificateOrAWrongPinIsRefusedAndTheTrustedOnesUpdate) {
  const int campaign = start_campaign();

  // Another CA: the handshake fails, the agent says why, nothing is sent; --once
  // exits 1 for the failed cycle.
  ASSERT_EQ(run_agent("gw-1", https(), {"--ca-file", path("other-ca.pem")}), 1);
  std::string log = slurp(log_of("gw-1"));
  EXPECT_NE(log.find("check-in failed"), std::string::npos) << log;
  EXPECT_NE(log.find("certificate not trusted: unable to get local issuer certificate"),
            std::string::npos)
      << log;
  // A key pin that is not the server's key.
  const std::string wrong_pin(64, '0');
  ASSERT_EQ(run_agent("gw-1", https(), {"--server-key-sha256", wrong_pin}), 1);
  log = slurp(log_of("gw-1"));
  EXPECT_NE(log.find("server key " + pin_ + " does not match the pinned key " + wrong_pin),
            std::string::npos)
      << log;
  // https:// alone trusts the system's CAs, which do not know the test CA.
  ASSERT_EQ(run_agent("gw-1", https(), {}), 1);
  EXPECT_NE(slurp(log_of("gw-1")).rfind("certificate not trusted"), std::string::npos);
  EXPECT_EQ(state(campaign, "gw-1"), "pending") << "no refused connection reached the server";
  EXPECT_EQ(slurp(log_of("gw-1")).find("update offered"), std::string::npos);

  // The pinned CA: the device updates.
  ASSERT_EQ(run_agent("gw-1", https(), {"--ca-file", path("ca.pem")}), 0) << slurp(log_of("gw-1"));
  EXPECT_TRUE(eventually([&] { return state(campaign, "gw-1") == "succeeded"; }))
      << slurp(log_of("gw-1"));
  EXPECT_TRUE(runs_v2("gw-1"));

  // The pinned server key, without any CA: the device updates. Hex in either case.
  std::string upper = pin_;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  ASSERT_EQ(run_agent("gw-2", https(), {"--server-key-sha256", upper}), 0) << slurp(log_of("gw-2"));
  EXPECT_TRUE(eventually([&] { return state(campaign, "gw-2") == "succeeded"; }))
      << slurp(log_of("gw-2"));
  EXPECT_TRUE(runs_v2("gw-2"));

  // Both: the CA and the pin must hold. The right CA with a wrong pin is refused.
  ASSERT_EQ(
      run_agent("gw-3", https(), {"--ca-file", path("ca.pem"), "--server-key-sha256", wrong_pin}),
      1);
  EXPECT_NE(slurp(log_of("gw-3")).find("does not match the pinned key"), std::string::npos);
  EXPECT_EQ(state(campaign, "gw-3"), "pending");
}

TEST_F(AgentTlsTest, PlainHttpNeedsInsecureAndPinsNeedHttps) {
  const std::string plain = "http://127.0.0.1:" + std::to_string(server_->port());
  EXPECT_EQ(run_agent("gw-1", plain, {}), 2);
  EXPECT_NE(slurp(log_of("gw-1"))
                .find("is plain HTTP; use https://host:port with --ca-file or "
                      "--server-key-sha256, or pass --insecure"),
            std::string::npos)
      << slurp(log_of("gw-1"));
  // A bare host:port is plain HTTP too.
  EXPECT_EQ(run_agent("gw-1", "127.0.0.1:" + std::to_string(server_->port()), {}), 2);
  EXPECT_EQ(run_agent("gw-1", plain, {"--ca-file", path("ca.pem")}), 2);
  EXPECT_NE(slurp(log_of("gw-1")).find("need --server https://"), std::string::npos);
  EXPECT_EQ(run_agent("gw-1", https(), {"--server-key-sha256", "abc"}), 2);
  // With --insecure a plain connection is tried (and fails here: the server speaks
  // TLS, so --once's cycle failed: 1).
  EXPECT_EQ(run_agent("gw-1", plain, {"--insecure"}), 1);
  EXPECT_NE(slurp(log_of("gw-1")).rfind("check-in failed"), std::string::npos);
}

}  // namespace
}  // namespace updraft
