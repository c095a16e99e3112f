// Stolen keys (issue 15): the root key kept offline, and a root rotation reaching
// devices, with real processes on loopback. Root metadata is made and signed with
// the real `updraft root` commands in a directory that plays the offline machine;
// updraftd imports it (`--root`) and holds only its release key; real
// `updraft-agent` processes check in, rotate, and update.
//
//   1. updraftd in offline-root mode says so and has no root key on disk.
//   2. A rotation to root v2 (new root key, new release key, the old release key
//      revoked) is imported; a device still on root v1 receives v2 at check-in,
//      verifies it against v1, keeps it in its root store, and installs a release
//      signed by the new release key.
//   3. A device whose root v1 is not the server's (a misprovisioned device, or a
//      server that is not the one it trusts) refuses that v2 with 218
//      ROOT_ROTATION_INVALID, reports it, keeps its root and installs nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/testing/cli_run.h"
#include "core/host/file.h"
#include "delta/testing/test_images.h"
#include "net/http/http_client.h"
#include "tests/integration/admin_calls.h"
#include "tests/integration/updraftd_process.h"

namespace updraft {
namespace {

using net::http::HttpClient;
using net::http::Method;
using nlohmann::json;
using testing::ChildProcess;
using testing::eventually;
using testing::slurp;
using Bytes = std::vector<std::byte>;

constexpr std::uint32_t kSlotBytes = 1 << 20;

class RootRotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "updraft-rotation-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    for (const char* sub : {"/server/keys", "/offline", "/impostor"}) {
      std::filesystem::create_directories(dir_ + sub);
    }
    v1_ = test_images::firmware_like(120'000, 31);
    v2_ = test_images::spread_changes(v1_, 200, 500, 32);
  }
  void TearDown() override {
    for (auto& [id, agent] : agents_) agent.reset();
    server_.reset();
    if (!HasFailure() && !std::getenv("UPDRAFT_KEEP_TEST_DIR")) std::filesystem::remove_all(dir_);
  }

  // `updraft ARGS` in the test directory; must succeed.
  std::string updraft(const std::string& args) {
    const cli::testing::CliRun run = cli::testing::run_in(dir_, "'" UPDRAFT_CLI "' " + args);
    EXPECT_EQ(run.exit_code, 0) << "updraft " << args << "\n" << run.output;
    return run.output;
  }

  void start_server(const std::vector<std::string>& roots) {
    server_.reset();
    std::vector<std::string> args = {"--active-poll-seconds", "1"};
    for (const std::string& root : roots) {
      args.push_back("--root");
      args.push_back(dir_ + "/" + root);
    }
    server_ = std::make_unique<testing::UpdraftdProcess>(dir_ + "/server", args);
    ASSERT_TRUE(server_->started()) << server_log();
    token_ = server_->admin_token();
  }
  std::string server_log() const { return slurp(dir_ + "/server/updraftd.log"); }

  json admin(Method method, const std::string& target, const std::string& body, int status) {
    return testing::admin_call(server_->port(), token_, method, target, body, status);
  }
  std::string trusted_root() {
    HttpClient client("127.0.0.1", server_->port());
    auto r = client.request(Method::kGet, "/api/v1/trust/root");
    EXPECT_TRUE(r.ok() && r->status == 200);
    return r.ok() ? r->body : "";
  }

  // Product "gateway", releases 1.0.0 and 2.0.0, devices gw-1 and gw-2.
  void add_fleet() {
    admin(Method::kPost, "/api/v1/products",
          json{{"name", "gateway"}, {"profile", "linux"}, {"slot_size", kSlotBytes}}.dump(), 201);
    upload("1.0.0", 1, v1_);
    release_ = upload("2.0.0", 2, v2_);
    for (const char* id : {"gw-1", "gw-2"}) {
      admin(Method::kPost, "/api/v1/devices",
            json{{"id", id}, {"product", "gateway"}, {"hardware", "pi-4"}, {"secret", secret(id)}}
                .dump(),
            201);
    }
  }
  int upload(const char* version, int counter, const Bytes& image) {
    return testing::upload_gateway_release(server_->port(), token_, version, counter, image);
  }
  static std::string secret(const std::string& id) { return id + "-secret-0123456789abcdef"; }

  // Factory state of device `id`: v1 in slot A, and `root` as its factory root.
  void provision(const std::string& id, const std::string& root) {
    const std::string d = dir_ + "/" + id;
    std::filesystem::create_directories(d);
    ASSERT_TRUE(write_file_atomic(d + "/factory.img", v1_).ok());
    std::ofstream(d + "/root.bin", std::ios::binary) << root;
    ChildProcess provision(
        {UPDRAFT_AGENT, "provision", "--image", d + "/factory.img", "--version", "1.0.0",
         "--security-counter", "1", "--slot-size", std::to_string(kSlotBytes), "--slot-a",
         d + "/a.img", "--slot-b", d + "/b.img", "--state", d + "/state"},
        d + "/provision.log");
    ASSERT_EQ(provision.wait(10'000), 0) << slurp(d + "/provision.log");
  }

  // One `updraft-agent run --once` of device `id` (boot, a cycle, and the trial
  // boot after an install); returns its exit status.
  int run_agent(const std::string& id) {
    const std::string d = dir_ + "/" + id;
    agents_[id] = std::make_unique<ChildProcess>(
        std::vector<std::string>{
            UPDRAFT_AGENT,    "run",
            "--server",       "http://127.0.0.1:" + std::to_string(server_->port()),
            "--insecure",  // HTTPS: agent_tls_test.cpp
            "--device-id",    id,
            "--secret",       secret(id),
            "--root",         d + "/root.bin",
            "--product",      "gateway",
            "--hardware",     "pi-4",
            "--slot-a",       d + "/a.img",
            "--slot-b",       d + "/b.img",
            "--state",        d + "/state",
            "--poll-seconds", "1",
            "--once"},
        agent_log(id));
    return agents_[id]->wait(60'000);
  }
  std::string agent_log(const std::string& id) const { return dir_ + "/" + id + "/agent.log"; }

  int start_campaign() {
    const int campaign =
        admin(Method::kPost, "/api/v1/campaigns",
              json{{"name", "rollout"}, {"release", release_}, {"phases", {{{"percent", 100}}}}}
                  .dump(),
              201)
            .value("id", 0);
    admin(Method::kPost, "/api/v1/campaigns/" + std::to_string(campaign) + "/start", "", 200);
    // Released to the devices at the scheduler's next tick.
    EXPECT_TRUE(
        eventually([&] { return deployment(campaign, "gw-1").value("state", "") == "pending"; }));
    return campaign;
  }
  json deployment(int campaign, const std::string& device) {
    const json list = admin(
        Method::kGet, "/api/v1/campaigns/" + std::to_string(campaign) + "/deployments", "", 200);
    for (const json& d : list.value("deployments", json::array())) {
      if (d.value("device", "") == device || d.value("device_id", "") == device) return d;
    }
    return json::object();
  }

  bool slot_holds(const std::string& id, const std::string& slot, const Bytes& image) {
    HostResult<Bytes> bytes = read_file(dir_ + "/" + id + "/" + slot);
    return bytes.ok() && bytes->size() >= image.size() &&
           std::equal(image.begin(), image.end(), bytes->begin());
  }

  std::string dir_;
  std::unique_ptr<testing::UpdraftdProcess> server_;
  std::map<std::string, std::unique_ptr<ChildProcess>> agents_;
  std::string token_;
  Bytes v1_, v2_;
  int release_ = 0;
};

TEST_F(RootRotationTest, OfflineRootRotationReachesDevicesAndABadOneIsRefused) {
  // The server's release key is made on the server; the offline machine gets its .pub.
  updraft("keygen -o server/keys/release");
  // Offline: root key 1 and root v1, naming the server's release key.
  updraft("keygen -o offline/root1");
  updraft(
      "root create --version 1 --root-key offline/root1.pub --release-key server/keys/release.pub "
      "-o offline/root-v1.bin --key offline/root1.key");
  ASSERT_NO_FATAL_FAILURE(start_server({"offline/root-v1.bin"}));
  EXPECT_NE(server_log().find("keys: offline root: no root key on this server; root metadata v1"),
            std::string::npos)
      << server_log();
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/server/keys/root.key"));
  const HostResult<Bytes> v1_file = read_file(dir_ + "/offline/root-v1.bin");
  ASSERT_TRUE(v1_file.ok());
  const std::string root_v1 = trusted_root();
  ASSERT_EQ(root_v1, std::string(reinterpret_cast<const char*>(v1_file->data()), v1_file->size()));
  add_fleet();

  // gw-1 is provisioned with the server's root v1. gw-2 with a v1 made by other
  // keys: the server's v2 will not be signed by its root's threshold.
  ASSERT_NO_FATAL_FAILURE(provision("gw-1", root_v1));
  updraft("keygen -o impostor/root");
  updraft(
      "root create --version 1 --root-key impostor/root.pub --release-key "
      "server/keys/release.pub -o impostor/root-v1.bin --key impostor/root.key");
  ASSERT_NO_FATAL_FAILURE(provision("gw-2", slurp(dir_ + "/impostor/root-v1.bin")));
  // Both check in once on root v1: nothing to do, nothing to rotate.
  for (const char* id : {"gw-1", "gw-2"}) {
    ASSERT_EQ(run_agent(id), 0) << slurp(agent_log(id));
    EXPECT_NE(slurp(agent_log(id)).find("trusted root: v1"), std::string::npos)
        << slurp(agent_log(id));
    EXPECT_NE(slurp(agent_log(id)).find("checked in: up to date"), std::string::npos);
  }

  // The rotation, offline: new root key 2 and a new release key (made on the
  // server, its .pub carried over); v2 revokes the old release key. Signed by v1's
  // root key and by its own.
  updraft("keygen -o offline/root2");
  updraft("keygen -o release2");
  const std::string made = updraft(
      "root create --previous offline/root-v1.bin --root-key offline/root2.pub --release-key "
      "release2.pub --revoke server/keys/release.pub -o offline/root-v2.bin --key "
      "offline/root1.key --key offline/root2.key");
  EXPECT_NE(made.find("complete"), std::string::npos) << made;
  // On the server: the new release key replaces the old one, v2 is imported.
  server_.reset();
  for (const char* ext : {".key", ".pub"}) {
    std::filesystem::rename(dir_ + "/release2" + ext, dir_ + "/server/keys/release" + ext);
  }
  ASSERT_NO_FATAL_FAILURE(start_server({"offline/root-v1.bin", "offline/root-v2.bin"}));
  EXPECT_NE(server_log().find("root metadata v2 (v1 to v2 kept for rotation)"), std::string::npos)
      << server_log();
  const int campaign = start_campaign();

  // gw-1: root v1 -> v2 at check-in, then the release signed by the new key.
  ASSERT_EQ(run_agent("gw-1"), 0) << slurp(agent_log("gw-1"));
  const std::string gw1 = slurp(agent_log("gw-1"));
  EXPECT_NE(gw1.find("root: rotated from v1 to v2"), std::string::npos) << gw1;
  ASSERT_TRUE(eventually([&] {
    return deployment(campaign, "gw-1").value("state", "") == "succeeded";
  })) << deployment(campaign, "gw-1").dump()
      << "\n"
      << gw1;
  EXPECT_TRUE(slot_holds("gw-1", "b.img", v2_));
  // The rotated root is in the device's root store: a restart trusts v2.
  ASSERT_EQ(run_agent("gw-1"), 0);
  EXPECT_NE(slurp(agent_log("gw-1")).rfind("trusted root: v2"), std::string::npos)
      << slurp(agent_log("gw-1"));

  // gw-2: the server's v2 is not signed by gw-2's root: refused with 218, reported,
  // its root kept, nothing installed; --once exits 1 for the cycle that refused it.
  ASSERT_EQ(run_agent("gw-2"), 1) << slurp(agent_log("gw-2"));
  const std::string gw2 = slurp(agent_log("gw-2"));
  EXPECT_NE(gw2.find("root: refused the root sent for v2: ROOT_ROTATION_INVALID (218)"),
            std::string::npos)
      << gw2;
  EXPECT_EQ(gw2.find("downloading"), std::string::npos) << gw2;
  ASSERT_TRUE(eventually([&] { return deployment(campaign, "gw-2").value("error", 0) == 218; }))
      << deployment(campaign, "gw-2").dump() << "\n"
      << gw2;
  EXPECT_FALSE(slot_holds("gw-2", "b.img", v2_));
  // Every check-in still brings the root gw-2 refuses: each --once cycle fails.
  ASSERT_EQ(run_agent("gw-2"), 1);
  EXPECT_NE(slurp(agent_log("gw-2")).rfind("trusted root: v1"), std::string::npos);
}

TEST_F(RootRotationTest, TheDefaultServerSaysItHoldsTheRootKeyAndRefusesAnImportWhileItDoes) {
  ASSERT_NO_FATAL_FAILURE(start_server({}));
  EXPECT_NE(server_log().find("keys: online root:"), std::string::npos) << server_log();
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/server/keys/root.key"));
  // Importing a root made offline while root.key is still there is refused.
  updraft("keygen -o offline/root1");
  updraft(
      "root create --version 2 --previous server/keys/root.bin --root-key offline/root1.pub "
      "--release-key server/keys/release.pub -o offline/root-v2.bin --key server/keys/root.key "
      "--key offline/root1.key");
  server_.reset();
  ChildProcess refused({UPDRAFTD, "--data", dir_ + "/server", "--port", "0", "--root",
                        dir_ + "/offline/root-v2.bin"},
                       dir_ + "/refused.log");
  EXPECT_EQ(refused.wait(10'000), 1);
  EXPECT_NE(slurp(dir_ + "/refused.log").find("root.key is on this server"), std::string::npos)
      << slurp(dir_ + "/refused.log");
  // With the root key moved off the server, the same import moves it to an offline root.
  std::filesystem::rename(dir_ + "/server/keys/root.key", dir_ + "/offline/old-root.key");
  ASSERT_NO_FATAL_FAILURE(start_server({"offline/root-v2.bin"}));
  EXPECT_NE(server_log().find("keys: offline root"), std::string::npos) << server_log();
}

}  // namespace
}  // namespace updraft
