// The admin commands end to end: a real updraftd on loopback (port 0, fresh data
// directory) and the real `updraft` binary, run as an operator runs them.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/testing/cli_run.h"
#include "tests/integration/updraftd_process.h"

namespace {

using nlohmann::json;

using updraft::cli::testing::CliRun;
using updraft::cli::testing::run_in;

class ServerCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("updraft_server_cli_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    server_ = std::make_unique<updraft::testing::UpdraftdProcess>((dir_ / "data").string());
    ASSERT_TRUE(server_->started()) << "updraftd did not write its port file";
    token_ = server_->admin_token();
    ASSERT_FALSE(token_.empty());
    // Small images that differ in their middle, as two firmware versions do.
    std::string image(8192, '\0');
    for (std::size_t i = 0; i < image.size(); ++i) image[i] = static_cast<char>(i * 7 % 251);
    std::ofstream(dir_ / "v1.bin", std::ios::binary) << image;
    image.replace(4000, 5, "v1.1!");
    std::ofstream(dir_ / "v2.bin", std::ios::binary) << image;
  }
  void TearDown() override {
    server_.reset();  // SIGTERM, bounded wait, then SIGKILL
    std::filesystem::remove_all(dir_);
  }

  // Runs `updraft ARGS` in the test directory, with the server and token from the
  // environment as an operator's shell would have them.
  CliRun updraft(const std::string& args) {
    return shell("UPDRAFT_SERVER=" + server_url() + " UPDRAFT_TOKEN=" + token_ +
                 " '" UPDRAFT_CLI "' " + args);
  }

  CliRun shell(const std::string& command_line) { return run_in(dir_.string(), command_line); }

  json updraft_json(const std::string& args) {
    const CliRun run = updraft(args);
    EXPECT_EQ(run.exit_code, 0) << args << "\n" << run.output;
    const json j = json::parse(run.output, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << args << "\n" << run.output;
    return j;
  }

  std::string server_url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

  // A product, three registered devices and two releases; returns v1.1.0's id.
  long long make_fleet_and_releases() {
    const CliRun product = updraft("product create acme --profile mcu-tiny --slot-size 65536");
    EXPECT_EQ(product.exit_code, 0) << product.output;
    for (const char* device : {"dev-1", "dev-2", "dev-3"}) {
      const CliRun reg =
          updraft(std::string("devices register ") + device + " --product acme --hardware rev-b");
      EXPECT_EQ(reg.exit_code, 0) << reg.output;
      EXPECT_NE(reg.output.find("secret: "), std::string::npos) << reg.output;
    }
    const CliRun v1 = updraft(
        "release upload v1.bin --product acme --version 1.0.0 --security-counter 1 --hardware "
        "rev-b,rev-c");
    EXPECT_EQ(v1.exit_code, 0) << v1.output;
    const CliRun v2 = updraft(
        "release upload v2.bin --product acme --version 1.1.0 --security-counter 2 --hardware "
        "rev-b "
        "--notes 'second & better'");
    EXPECT_EQ(v2.exit_code, 0) << v2.output;
    EXPECT_NE(v2.output.find("size    8192 bytes"), std::string::npos) << v2.output;

    const json releases = updraft_json("release list --product acme --json");
    EXPECT_EQ(releases["releases"].size(), 2u) << releases.dump();
    long long v2_id = 0;
    for (const json& r : releases["releases"]) {
      EXPECT_EQ(r["size"], 8192);
      if (r["version"] == "1.1.0") {
        v2_id = r["id"].get<long long>();
        EXPECT_NE(v2.output.find(r["sha256"].get<std::string>()), std::string::npos) << v2.output;
        EXPECT_EQ(r["notes"], "second & better");
        EXPECT_EQ(r["hardware"], json({"rev-b"}));
      }
    }
    return v2_id;
  }

  std::filesystem::path dir_;
  std::unique_ptr<updraft::testing::UpdraftdProcess> server_;
  std::string token_;
};

TEST_F(ServerCommandsTest, CampaignStartsShowsProgressAndPauses) {
  const long long release = make_fleet_and_releases();
  ASSERT_GT(release, 0);
  ASSERT_EQ(updraft("devices tag dev-1 canary lab").exit_code, 0);

  const CliRun create = updraft("campaign create --release " + std::to_string(release) +
                                " --name spring --phase 1 --phase 100% --hardware rev-b --start");
  ASSERT_EQ(create.exit_code, 0) << create.output;
  EXPECT_NE(create.output.find("3 devices in 2 phase(s)"), std::string::npos) << create.output;

  const json status = updraft_json("campaign status 1 --json");
  EXPECT_EQ(status["id"], 1);
  EXPECT_EQ(status["name"], "spring");
  EXPECT_EQ(status["release"], release);
  EXPECT_EQ(status["state"], "running");
  EXPECT_EQ(status["current_phase"], 0);
  EXPECT_EQ(status["phases"], json::parse(R"([{"count":1},{"percent":100}])"));
  EXPECT_EQ(status["target"]["hardware"], json({"rev-b"}));
  EXPECT_EQ(status["deployments"]["total"], 3);
  ASSERT_EQ(status["phase_progress"].size(), 2u);
  EXPECT_EQ(status["phase_progress"][0]["devices"], 1);
  EXPECT_EQ(status["phase_progress"][0]["released"], 1);
  EXPECT_EQ(status["phase_progress"][1]["devices"], 2);
  EXPECT_EQ(status["phase_progress"][1]["released"], 0);

  const json devices = updraft_json("devices --product acme --json");
  ASSERT_EQ(devices["devices"].size(), 3u) << devices.dump();
  EXPECT_EQ(devices["total"], 3);
  int pending = 0;
  for (const json& d : devices["devices"]) {
    EXPECT_EQ(d["hardware"], "rev-b");
    if (!d["deployment"].is_null() && d["deployment"]["state"] == "pending") ++pending;
  }
  EXPECT_EQ(pending, 1);
  const json canary = updraft_json("devices --tag canary --json");
  ASSERT_EQ(canary["devices"].size(), 1u);
  EXPECT_EQ(canary["devices"][0]["id"], "dev-1");
  EXPECT_EQ(canary["devices"][0]["tags"], json({"canary", "lab"}));

  const CliRun table = updraft("devices --product acme");
  EXPECT_EQ(table.exit_code, 0);
  EXPECT_NE(table.output.find("pending (campaign 1)"), std::string::npos) << table.output;
  EXPECT_EQ(updraft_json("devices --state pending --id dev- --json")["total"], 1);

  // dev-1 is in the first phase: its history has its creation and its release.
  const json history = updraft_json("devices history dev-1 --json");
  ASSERT_EQ(history["history"].size(), 2u) << history.dump();
  EXPECT_EQ(history["history"][0]["state"], "pending");
  EXPECT_EQ(history["history"][1]["state"], "scheduled");
  const CliRun steps = updraft("devices history dev-1 --limit 1");
  EXPECT_EQ(steps.exit_code, 0);
  EXPECT_NE(steps.output.find("pending"), std::string::npos) << steps.output;
  EXPECT_NE(steps.output.find("(1 of 2 steps"), std::string::npos) << steps.output;
  const CliRun log = updraft("devices log dev-1");
  EXPECT_EQ(log.exit_code, 0) << log.output;
  EXPECT_NE(log.output.find("has no log lines"), std::string::npos) << log.output;
  EXPECT_NE(updraft("devices history nobody").exit_code, 0);

  // Actions on a device's latest deployment.
  const CliRun defer = updraft("devices defer dev-1 --until '2030-01-02 03:04'");
  ASSERT_EQ(defer.exit_code, 0) << defer.output;
  EXPECT_NE(defer.output.find("deferred until 2030-01-02 03:04:00 UTC"), std::string::npos)
      << defer.output;
  EXPECT_NE(updraft("devices defer dev-1 --until soon").exit_code, 0);
  const CliRun cancel = updraft("devices cancel dev-1");
  ASSERT_EQ(cancel.exit_code, 0) << cancel.output;
  EXPECT_NE(cancel.output.find(": canceled"), std::string::npos) << cancel.output;
  const CliRun retry = updraft("devices retry dev-1");
  ASSERT_EQ(retry.exit_code, 0) << retry.output;
  EXPECT_NE(retry.output.find(": pending"), std::string::npos) << retry.output;
  const CliRun now = updraft("devices update-now dev-2");
  ASSERT_EQ(now.exit_code, 0) << now.output;
  EXPECT_NE(now.output.find("offered outside the window"), std::string::npos) << now.output;

  const CliRun pause = updraft("campaign pause 1");
  ASSERT_EQ(pause.exit_code, 0) << pause.output;
  EXPECT_EQ(updraft_json("campaign status 1 --json")["state"], "paused");
  const CliRun text = updraft("campaign status 1");
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.output.find("paused (operator)"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("phase 1/2"), std::string::npos) << text.output;
}

TEST_F(ServerCommandsTest, WatchFollowsEventsUntilAborted) {
  const long long release = make_fleet_and_releases();
  // Outside its window nothing is released, so nothing changes until the abort.
  ASSERT_EQ(updraft("campaign create --release " + std::to_string(release) +
                    " --name watched --window 02:00-05:00 --timezone Europe/Berlin --start")
                .exit_code,
            0);
  const json status = updraft_json("campaign status 1 --json");
  EXPECT_EQ(status["window"],
            json::parse(R"({"start":"02:00","end":"05:00","timezone":"Europe/Berlin"})"));
  // The watch prints its first line at once; the abort comes while it follows the
  // event stream, and the campaign's final event ends it. `timeout` bounds a hang.
  const CliRun watch =
      shell("export UPDRAFT_SERVER=" + server_url() + " UPDRAFT_TOKEN=" + token_ +
            "; { sleep 0.5; '" UPDRAFT_CLI
            "' campaign abort 1 >/dev/null; } & "
            "timeout 60 '" UPDRAFT_CLI "' campaign status 1 --watch; code=$?; wait; exit $code");
  EXPECT_EQ(watch.exit_code, 0) << watch.output;
  EXPECT_NE(watch.output.find("campaign 1 \"watched\": running"), std::string::npos)
      << watch.output;
  const std::string last =
      watch.output.substr(watch.output.rfind('\n', watch.output.size() - 2) + 1);
  EXPECT_NE(last.find("campaign 1 \"watched\": aborted"), std::string::npos) << watch.output;
}

TEST_F(ServerCommandsTest, TokensAreCreatedListedAndRevoked) {
  const CliRun create = updraft("tokens create ci --role operator --expires-in-days 30");
  ASSERT_EQ(create.exit_code, 0) << create.output;
  EXPECT_NE(create.output.find("token 2 \"ci\": role operator, expires 20"), std::string::npos)
      << create.output;
  const std::string marker = "token: ";
  const std::size_t at = create.output.find(marker);
  ASSERT_NE(at, std::string::npos) << create.output;
  const std::string secret =
      create.output.substr(at + marker.size(), create.output.find('\n', at) - at - marker.size());
  EXPECT_EQ(shell("UPDRAFT_SERVER=" + server_url() + " UPDRAFT_TOKEN=" + secret +
                  " '" UPDRAFT_CLI "' devices")
                .exit_code,
            0);

  const json listed = updraft_json("tokens list --json");
  ASSERT_EQ(listed["tokens"].size(), 2u) << listed.dump();
  EXPECT_GT(listed["tokens"][1]["last_used_at"].get<long long>(), 0);
  const CliRun table = updraft("tokens list");
  EXPECT_NE(table.output.find("ci     operator  active"), std::string::npos) << table.output;

  const CliRun revoke = updraft("tokens revoke 2");
  ASSERT_EQ(revoke.exit_code, 0) << revoke.output;
  EXPECT_NE(revoke.output.find("token 2 \"ci\" (operator) revoked at"), std::string::npos)
      << revoke.output;
  const CliRun refused = shell("UPDRAFT_SERVER=" + server_url() + " UPDRAFT_TOKEN=" + secret +
                               " '" UPDRAFT_CLI "' devices");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.output.find("UNAUTHORIZED (701)"), std::string::npos) << refused.output;
  const CliRun last = updraft("tokens revoke 1");
  EXPECT_EQ(last.exit_code, 1) << "the last admin token stays";
  EXPECT_NE(last.output.find("CONFLICT"), std::string::npos) << last.output;
}

TEST_F(ServerCommandsTest, DeviceSecretsRotateAndDevicesAreDecommissioned) {
  ASSERT_EQ(updraft("product create acme --profile mcu-tiny").exit_code, 0);
  ASSERT_EQ(updraft("devices register dev-1 --product acme --hardware rev-b").exit_code, 0);
  const CliRun rotate = updraft("devices rotate-secret dev-1 --secret a-new-secret-0123456789");
  ASSERT_EQ(rotate.exit_code, 0) << rotate.output;
  EXPECT_NE(rotate.output.find("secret: a-new-secret-0123456789"), std::string::npos)
      << rotate.output;
  const CliRun retire = updraft("devices decommission dev-1");
  ASSERT_EQ(retire.exit_code, 0) << retire.output;
  EXPECT_NE(retire.output.find("device dev-1 decommissioned"), std::string::npos) << retire.output;
  EXPECT_GT(updraft_json("devices --json")["devices"][0]["decommissioned_at"].get<long long>(), 0);
  EXPECT_EQ(updraft("devices decommission dev-1").exit_code, 1) << "only once";
}

TEST_F(ServerCommandsTest, DraftCampaignsUnusedReleasesAndEmptyProductsAreDeleted) {
  const long long v2 = make_fleet_and_releases();
  const CliRun created = updraft("campaign create --release " + std::to_string(v2) + " --name d");
  ASSERT_EQ(created.exit_code, 0) << created.output;
  const CliRun used = updraft("release delete " + std::to_string(v2));
  EXPECT_EQ(used.exit_code, 1);
  EXPECT_NE(used.output.find("is used by campaign 1 (d)"), std::string::npos) << used.output;

  EXPECT_NE(updraft("campaign create --release 1 --name x --start-at soon").exit_code, 0);

  const CliRun draft = updraft("campaign delete 1");
  ASSERT_EQ(draft.exit_code, 0) << draft.output;
  EXPECT_NE(draft.output.find("campaign 1 \"d\" deleted"), std::string::npos) << draft.output;
  EXPECT_EQ(updraft("campaign delete 1").exit_code, 1) << "gone";

  const CliRun later_ok = updraft("campaign create --release " + std::to_string(v2) +
                                  " --name later --start-at '2030-01-02 03:04' --dynamic "
                                  "--deployment-timeout 900");
  ASSERT_EQ(later_ok.exit_code, 0) << later_ok.output;
  EXPECT_NE(later_ok.output.find("starts itself at 2030-01-02 03:04:00 UTC"), std::string::npos)
      << later_ok.output;
  const json timed = updraft_json("campaign status 2 --json");
  EXPECT_EQ(timed["start_at"], 1893553440);
  EXPECT_EQ(timed["dynamic"], true);
  EXPECT_EQ(timed["deployment_timeout_seconds"], 900);
  ASSERT_EQ(updraft("campaign delete 2").exit_code, 0);

  const CliRun deltas = updraft("release deltas " + std::to_string(v2));
  EXPECT_EQ(deltas.exit_code, 0) << deltas.output;
  EXPECT_NE(deltas.output.find("BUILD MS"), std::string::npos) << deltas.output;
  EXPECT_TRUE(updraft_json("release deltas " + std::to_string(v2) + " --json")["deltas"].empty());

  const CliRun first = updraft("release list --limit 1");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("1.1.0"), std::string::npos) << "newest first: " << first.output;
  EXPECT_EQ(first.output.find("1.0.0"), std::string::npos) << first.output;
  EXPECT_NE(first.output.find("(1-1 of 2, newest first; --offset 1 for the next)"),
            std::string::npos)
      << first.output;
  EXPECT_NE(updraft("release list --limit 1 --offset 1").output.find("1.0.0"), std::string::npos);
  const CliRun campaigns = updraft("campaign list --limit 1");
  EXPECT_EQ(campaigns.exit_code, 0) << campaigns.output;

  const CliRun release = updraft("release delete " + std::to_string(v2));
  ASSERT_EQ(release.exit_code, 0) << release.output;
  EXPECT_NE(release.output.find("(acme 1.1.0) deleted"), std::string::npos) << release.output;
  EXPECT_EQ(updraft_json("release list --json")["releases"].size(), 1u);

  EXPECT_EQ(updraft("product delete acme").exit_code, 1) << "it has devices";
  ASSERT_EQ(updraft("product create spare --profile mcu").exit_code, 0);
  const CliRun product = updraft("product delete spare");
  ASSERT_EQ(product.exit_code, 0) << product.output;
  EXPECT_NE(product.output.find("product spare deleted"), std::string::npos) << product.output;
}

TEST_F(ServerCommandsTest, ServerErrorsPrintTheirNameAndNumber) {
  const CliRun wrong = updraft("devices --token not-the-token");
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.output.find("updraft: error UNAUTHORIZED (701)"), std::string::npos)
      << wrong.output;

  const CliRun missing = updraft("campaign status 42");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("NOT_FOUND (703)"), std::string::npos) << missing.output;

  const CliRun no_token =
      shell("UPDRAFT_SERVER=" + server_url() + " '" UPDRAFT_CLI "' product list");
  EXPECT_EQ(no_token.exit_code, 2) << no_token.output;

  // The token file (updraftd's own) works where no token is given directly.
  const CliRun from_file =
      shell("'" UPDRAFT_CLI "' product list --server " + server_url() + " --token-file '" +
            (dir_ / "data" / "admin.token").string() + "'");
  EXPECT_EQ(from_file.exit_code, 0) << from_file.output;
}

}  // namespace
