// LoggedTransport's queue of outcome reports the server did not hear: they are
// sent again at the next check-in, survive a restart, and are dropped once heard
// or once the server moves on. A queued rollback also keeps the failed image from
// being installed again: an offer of the same deployment gets the rollback report
// again and reaches the agent as "no update".
#include "agent/linux/logged_transport.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "agent/testing/scripted_transport.h"

namespace updraft::agent {
namespace {

class LoggedTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("updraft-logged-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    offer();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The server offers deployment `deployment_` (the image never matters here).
  void offer() {
    CheckInAnswer answer;
    std::memcpy(answer.artifact.data(), "/a", 3);
    answer.poll_seconds = 60;
    server_.set_offer(answer, {});
  }
  std::unique_ptr<LoggedTransport> open() {
    return std::make_unique<LoggedTransport>(
        LoggedTransport::Inner{server_, [this] { return deployment_; },
                               [] { return std::string("lost"); }},
        (dir_ / "state.deployment").string(), (dir_ / "state.reports").string());
  }
  static Report rollback() {
    Report r;
    r.phase = Phase::kRolledBack;
    r.error = error_number(ErrorCode::kAgentTrialFailed);
    std::memcpy(r.target.data(), "2.0.0", 6);
    return r;
  }
  int rollbacks_heard() const {
    int n = 0;
    for (const Report& r : server_.reports()) n += r.phase == Phase::kRolledBack;
    return n;
  }

  std::filesystem::path dir_;
  ScriptedTransport server_;
  std::int64_t deployment_ = 7;
};

TEST_F(LoggedTransportTest, AnUnheardRollbackTurnsTheSameOfferIntoItsReportAgain) {
  auto transport = open();
  server_.faults().lose_rollbacks = 1;
  EXPECT_FALSE(transport->report(rollback()).ok());
  EXPECT_EQ(transport->unheard_rollback(), 7);
  EXPECT_EQ(rollbacks_heard(), 0);

  DeviceStatus status;
  std::memcpy(status.version.data(), "1.0.0", 6);
  CheckInAnswer answer;
  ASSERT_TRUE(transport->check_in(status, answer).ok());
  EXPECT_FALSE(answer.update_available) << "the failed image is not offered to the agent";
  ASSERT_EQ(rollbacks_heard(), 1);
  const Report& again = server_.reports().back();
  EXPECT_STREQ(again.target.data(), "2.0.0");
  EXPECT_STREQ(again.running.data(), "1.0.0");
  EXPECT_EQ(again.error, error_number(ErrorCode::kAgentTrialFailed));
  EXPECT_EQ(transport->unheard_rollback(), 0) << "heard: forgotten";
  EXPECT_FALSE(std::filesystem::exists(dir_ / "state.reports"));

  // The operator retries: a new deployment of the same image installs.
  offer();
  deployment_ = 8;
  ASSERT_TRUE(transport->check_in(status, answer).ok());
  EXPECT_TRUE(answer.update_available);
}

TEST_F(LoggedTransportTest, TheMemorySurvivesARestartUntilTheServerHears) {
  server_.faults().lose_rollbacks = 2;
  EXPECT_FALSE(open()->report(rollback()).ok());
  auto restarted = open();  // the daemon re-executed (a reboot)
  EXPECT_EQ(restarted->unheard_rollback(), 7);
  DeviceStatus status;
  CheckInAnswer answer;
  ASSERT_TRUE(restarted->check_in(status, answer).ok());
  EXPECT_FALSE(answer.update_available);
  EXPECT_EQ(restarted->unheard_rollback(), 7) << "lost again: still remembered";
  ASSERT_TRUE(restarted->check_in(status, answer).ok());
  EXPECT_FALSE(answer.update_available);
  EXPECT_EQ(restarted->unheard_rollback(), 0);
  EXPECT_EQ(rollbacks_heard(), 1);
  EXPECT_EQ(open()->unheard_rollback(), 0);
}

TEST_F(LoggedTransportTest, AnotherDeploymentIsNotHeldBack) {
  server_.faults().lose_rollbacks = 1;
  EXPECT_FALSE(open()->report(rollback()).ok());
  deployment_ = 9;  // the server moved on to another deployment meanwhile
  auto transport = open();
  DeviceStatus status;
  CheckInAnswer answer;
  ASSERT_TRUE(transport->check_in(status, answer).ok());
  EXPECT_TRUE(answer.update_available);
  EXPECT_EQ(rollbacks_heard(), 0);
}

TEST_F(LoggedTransportTest, ALostSuccessReportIsQueuedAcrossARestartAndSentAtTheNextCheckIn) {
  server_.faults().lose_reports = 2;
  Report success;
  success.phase = Phase::kSuccess;
  success.progress_percent = 100;
  std::memcpy(success.target.data(), "2.0.0", 6);
  Report progress;
  progress.phase = Phase::kDownloading;
  progress.progress_percent = 40;
  {
    auto transport = open();
    EXPECT_FALSE(transport->report(progress).ok());
    EXPECT_EQ(transport->queued_reports(), 0u) << "progress is not queued";
    EXPECT_FALSE(transport->report(success).ok());
    EXPECT_EQ(transport->queued_reports(), 1u);
  }
  ASSERT_TRUE(std::filesystem::exists(dir_ / "state.reports"));
  auto restarted = open();
  EXPECT_EQ(restarted->queued_reports(), 1u);
  EXPECT_TRUE(server_.reports().empty());
  DeviceStatus status;
  std::memcpy(status.version.data(), "2.0.0", 6);
  status.slot = 1;
  CheckInAnswer answer;
  ASSERT_TRUE(restarted->check_in(status, answer).ok());
  ASSERT_EQ(server_.reports().size(), 1u);
  EXPECT_EQ(server_.reports()[0].phase, Phase::kSuccess);
  EXPECT_STREQ(server_.reports()[0].target.data(), "2.0.0");
  EXPECT_STREQ(server_.reports()[0].running.data(), "2.0.0");
  EXPECT_EQ(server_.reports()[0].running_slot, 1);
  EXPECT_EQ(restarted->queued_reports(), 0u);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "state.reports"));
}

TEST_F(LoggedTransportTest, AQueueThatCannotBeWrittenIsKeptInMemory) {
  // The queue's directory is gone (a full or read-only state filesystem fails the
  // same way: the atomic write cannot create its file).
  std::vector<std::string> told;
  auto transport = std::make_unique<LoggedTransport>(
      LoggedTransport::Inner{server_,
                             [this] { return deployment_; },
                             [] { return std::string("lost"); },
                             {},
                             [&told](std::string line) { told.push_back(std::move(line)); }},
      (dir_ / "state.deployment").string(), (dir_ / "missing" / "state.reports").string());
  server_.faults().lose_rollbacks = 1;
  EXPECT_FALSE(transport->report(rollback()).ok());
  EXPECT_EQ(transport->unheard_rollback(), 7);
  // The server hears of the full filesystem too, in the deployment's log.
  ASSERT_EQ(told.size(), 1u);
  EXPECT_NE(told[0].find("cannot keep undelivered reports in"), std::string::npos) << told[0];
  DeviceStatus status;
  CheckInAnswer answer;
  ASSERT_TRUE(transport->check_in(status, answer).ok());
  EXPECT_FALSE(answer.update_available) << "held in memory, the failed image is still refused";
  EXPECT_EQ(rollbacks_heard(), 1);
  EXPECT_EQ(transport->unheard_rollback(), 0);
}

}  // namespace
}  // namespace updraft::agent
