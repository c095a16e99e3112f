// The agent beside a real boot loader's environment: its boot state follows the
// slot the boot loader started, and the environment follows its trials. Run
// against the real tools, grub-editenv on a grubenv file and fw_setenv on a
// file-backed U-Boot environment; a missing tool skips its half.
#include "agent/linux/bootloader_boot.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "agent/linux/agent_daemon.h"
#include "agent/linux/agent_status.h"
#include "agent/linux/shell_command.h"
#include "crypto/sha256.h"

namespace updraft::agent {
namespace {

namespace fs = std::filesystem;

bool on_path(const char* tool) {
  return run_shell_command(std::string("command -v ") + tool + " >/dev/null", {}) == 0;
}

class BootloaderBootTest : public ::testing::TestWithParam<BootloaderEnv::Kind> {
 protected:
  void SetUp() override {
    const bool grub = GetParam() == BootloaderEnv::Kind::kGrub;
    if (!on_path(grub ? "grub-editenv" : "fw_setenv")) {
      GTEST_SKIP() << (grub ? "grub-editenv" : "fw_setenv") << " is not installed";
    }
    dir_ = fs::temp_directory_path() / ("updraft-bootloader-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    paths_ = {(dir_ / "a").string(), (dir_ / "b").string(), (dir_ / "state").string()};
    std::ofstream(dir_ / "factory.img") << "factory image 1.0.0";
    ProvisionOptions p{paths_, (dir_ / "factory.img").string(), "1.0.0", 1, 64 * 1024};
    ASSERT_TRUE(provision(p).ok());
    BootloaderEnv::Options o;
    o.kind = GetParam();
    if (grub) {
      o.grub_env = (dir_ / "grubenv").string();
      ASSERT_EQ(run_program({"grub-editenv", o.grub_env, "create"}).status, 0);
    } else {
      // A blank environment has no valid CRC: U-Boot's `saveenv` would write the
      // first one; here fw_setenv does, from an empty default environment.
      o.uboot_config = (dir_ / "fw_env.config").string();
      std::ofstream(dir_ / "uboot.env").flush();
      fs::resize_file(dir_ / "uboot.env", 16384);
      std::ofstream(o.uboot_config) << (dir_ / "uboot.env").string() << " 0x0 0x4000\n";
      std::ofstream(dir_ / "default.env").flush();
      ASSERT_EQ(run_program({"fw_setenv", "-c", o.uboot_config, "-f",
                             (dir_ / "default.env").string(), "updraft_active", "A"})
                    .status,
                0);
    }
    env_ = std::make_unique<BootloaderEnv>(o);
    HostResult<std::unique_ptr<SlotFilesFlash>> flash = SlotFilesFlash::open(paths_, 0);
    ASSERT_TRUE(flash.ok());
    flash_ = std::move(*flash);
    boot_ = std::make_unique<BootLogic>(*flash_, flash_->layout());
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // The agent installed an image into slot B and scheduled its trial.
  void schedule_trial_of_b() {
    SlotInfo info;
    info.valid = true;
    info.size = 4;
    info.hash = Sha256::digest(as_bytes_view("B!!!", 4));
    set_version(info, "2.0.0");
    ASSERT_TRUE(boot_->schedule_trial(1, info).ok());
  }
  BootState state() {
    Result<BootState> s = boot_->load();
    EXPECT_TRUE(s.ok());
    return s.ok() ? *s : BootState{};
  }
  BootloaderSlots slots() {
    HostResult<BootloaderSlots> s = env_->read();
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s.ok() ? *s : BootloaderSlots{};
  }

  fs::path dir_;
  SlotFilesFlash::Paths paths_;
  std::unique_ptr<BootloaderEnv> env_;
  std::unique_ptr<SlotFilesFlash> flash_;
  std::unique_ptr<BootLogic> boot_;
};

TEST_P(BootloaderBootTest, APendingTrialIsOfferedWithItsTriesAndBootedOnlyAfterTheReboot) {
  schedule_trial_of_b();
  // The same system, the agent restarted before it rebooted: reboot, not revert.
  HostResult<BootloaderBoot> before = follow_bootloader(*boot_, *env_, 0);
  ASSERT_TRUE(before.ok()) << before.error().message;
  EXPECT_TRUE(before->reboot_due);
  EXPECT_FALSE(before->reverted);

  ASSERT_TRUE(offer_trial(*boot_, *env_, 3).ok());
  EXPECT_EQ(slots().active, 0);
  EXPECT_EQ(slots().trial, 1);
  EXPECT_EQ(slots().tries, 3u);
  // Still not rebooted: the offer stands, so reboot again.
  ASSERT_TRUE(follow_bootloader(*boot_, *env_, 0)->reboot_due);

  // The boot loader started B (and took a try).
  ASSERT_TRUE(env_->write({0, 1, 2}).ok());
  HostResult<BootloaderBoot> trial = follow_bootloader(*boot_, *env_, 1);
  ASSERT_TRUE(trial.ok()) << trial.error().message;
  EXPECT_FALSE(trial->reboot_due);
  EXPECT_TRUE(trial->decision.trial);
  EXPECT_EQ(trial->decision.slot, 1);
  EXPECT_EQ(state().trial_state, TrialState::kBooted);
}

TEST_P(BootloaderBootTest, TheConfirmedSlotBootedAfterTheTrialMeansTheTrialIsOver) {
  schedule_trial_of_b();
  ASSERT_TRUE(offer_trial(*boot_, *env_, 1).ok());
  ASSERT_TRUE(env_->write({0, 1, 0}).ok());  // the boot loader took the last try
  ASSERT_TRUE(follow_bootloader(*boot_, *env_, 1)->decision.trial);
  // B hung; the reset found no tries left and the boot loader started A.
  HostResult<BootloaderBoot> back = follow_bootloader(*boot_, *env_, 0);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(back->reverted);
  EXPECT_FALSE(back->reboot_due);
  EXPECT_EQ(back->decision.slot, 0);
  EXPECT_FALSE(back->decision.trial);
  EXPECT_EQ(state().trial, kNoSlot);
  EXPECT_EQ(state().active, 0);
  EXPECT_FALSE(state().slots[1].valid);
  EXPECT_EQ(slots().trial, kNoSlot);  // the environment no longer offers it
}

TEST_P(BootloaderBootTest, ATrialThatCrashedBeforeTheAgentRanIsRevertedOnceTheTriesRunOut) {
  schedule_trial_of_b();
  ASSERT_TRUE(env_->write({0, 1, 0}).ok());  // offered, booted, never reached the agent
  HostResult<BootloaderBoot> back = follow_bootloader(*boot_, *env_, 0);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(back->reverted);
  EXPECT_EQ(state().trial, kNoSlot);
}

TEST_P(BootloaderBootTest, WithNoTrialTheEnvironmentIsBroughtBackToTheBootState) {
  ASSERT_TRUE(env_->write({1, 1, 2}).ok());  // left over from a lost write
  HostResult<BootloaderBoot> normal = follow_bootloader(*boot_, *env_, 0);
  ASSERT_TRUE(normal.ok()) << normal.error().message;
  EXPECT_FALSE(normal->decision.trial);
  EXPECT_EQ(slots().active, 0);
  EXPECT_EQ(slots().trial, kNoSlot);
  // The other slot holds nothing the agent verified: refused, not adopted.
  HostResult<BootloaderBoot> other = follow_bootloader(*boot_, *env_, 1);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, ErrorCode::kBootNoValidImage);
}

TEST_P(BootloaderBootTest, ConfirmMakesTheRunningTrialTheConfirmedSlot) {
  ASSERT_TRUE(env_->write({0, 1, 1}).ok());
  // From A (the trial not booted yet) there is nothing to do.
  HostResult<std::string> from_a = confirm_running_slot(*env_, 0);
  ASSERT_TRUE(from_a.ok());
  EXPECT_NE(from_a->find("waits for its trial"), std::string::npos) << *from_a;
  EXPECT_EQ(slots().trial, 1);

  HostResult<std::string> from_b = confirm_running_slot(*env_, 1);
  ASSERT_TRUE(from_b.ok()) << from_b.error().message;
  EXPECT_EQ(slots().active, 1);
  EXPECT_EQ(slots().trial, kNoSlot);
  EXPECT_EQ(slots().tries, 0u);

  ASSERT_TRUE(env_->write({0, kNoSlot, 0}).ok());
  EXPECT_FALSE(confirm_running_slot(*env_, 1).ok());  // neither on trial nor confirmed
}

TEST_P(BootloaderBootTest, AnEnvironmentThatCannotBeWrittenIsAnErrorNamingTheTool) {
  BootloaderEnv::Options o = env_->options();
  o.grub_env = (dir_ / "missing" / "grubenv").string();
  o.uboot_config = (dir_ / "missing.config").string();
  HostResult<void> r = BootloaderEnv(o).write({1, kNoSlot, 0});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(GetParam() == BootloaderEnv::Kind::kGrub ? "grub-editenv"
                                                                            : "fw_setenv"),
            std::string::npos)
      << r.error().message;
}

TEST_P(BootloaderBootTest, StatusShowsWhatTheBootLoaderOffersAndWhatBooted) {
  ASSERT_TRUE(env_->write({0, 1, 2}).ok());
  const std::string cmdline = (dir_ / "cmdline").string();
  std::ofstream(cmdline) << "root=/dev/vdb updraft.slot=A\n";
  HostResult<std::string> text = agent_status(paths_, false, env_.get(), cmdline);
  ASSERT_TRUE(text.ok()) << text.error().message;
  const std::string kind = GetParam() == BootloaderEnv::Kind::kGrub ? "grub" : "u-boot";
  EXPECT_NE(
      text->find("boot loader: " + kind + ", confirmed A, trial B (2 tries left), booted A\n"),
      std::string::npos)
      << *text;
  HostResult<std::string> json_text = agent_status(paths_, true, env_.get(), cmdline);
  ASSERT_TRUE(json_text.ok());
  EXPECT_NE(json_text->find("\"trial\": \"B\""), std::string::npos) << *json_text;
  // Without --bootloader, nothing about one.
  EXPECT_EQ(agent_status(paths_, false)->find("boot loader"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Both, BootloaderBootTest,
                         ::testing::Values(BootloaderEnv::Kind::kGrub, BootloaderEnv::Kind::kUBoot),
                         [](const auto& param_info) {
                           return param_info.param == BootloaderEnv::Kind::kGrub ? "Grub" : "UBoot";
                         });

TEST(BootedSlot, ComesFromUpdraftSlotOnTheKernelCommandLine) {
  const fs::path cmdline =
      fs::temp_directory_path() / ("updraft-cmdline-" + std::to_string(::getpid()));
  std::ofstream(cmdline) << "root=/dev/vdb console=ttyS0 updraft.slot=B quiet\n";
  HostResult<SlotIndex> b = booted_slot(cmdline.string());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, 1);
  std::ofstream(cmdline) << "root=/dev/vda updraft.slot=C\n";
  HostResult<SlotIndex> none = booted_slot(cmdline.string());
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("updraft.slot="), std::string::npos);
  fs::remove(cmdline);
}

}  // namespace
}  // namespace updraft::agent
