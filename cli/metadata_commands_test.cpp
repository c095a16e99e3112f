// The metadata commands end to end, through the `updraft` binary as an operator
// runs them: keys, root metadata, signing, verifying, rotating; exit codes and the
// error numbers they print.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/testing/cli_run.h"

namespace {

using updraft::cli::testing::CliRun;
using updraft::cli::testing::run_in;

class MetadataCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("updraft_cli_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    write("old.bin", std::string(5000, 'o'));
    write("new.bin", std::string(5000, 'o') + "new");
    write("other.bin", std::string(5003, 'x'));  // new.bin's size, not its content
    write("longer.bin", std::string(5000, 'o') + "new!");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void write(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / name, std::ios::binary) << content;
  }

  CliRun updraft(const std::string& args) {
    return run_in(dir_.string(), "'" UPDRAFT_CLI "' " + args);
  }

  // Root v1 (root keys r1, r2, threshold 2; release key rel) and a check-in answer for
  // acme on rev-b, version 2.1.0, counter 3, nonce 42.
  void make_release() {
    for (const char* key : {"keygen -o r1", "keygen -a p256 -o r2", "keygen -o rel"}) {
      ASSERT_EQ(updraft(key).exit_code, 0) << key;
    }
    ASSERT_EQ(
        updraft("root create --version 1 --root-key r1.pub --root-key r2.pub --root-threshold 2 "
                "--release-key rel.pub -o root.bin --key r1.key")
            .exit_code,
        0);
    ASSERT_EQ(updraft("root sign root.bin --key r2.key").exit_code, 0);
    const CliRun sign = updraft(
        "sign --product acme --hardware rev-b --hardware rev-c --version 2.1.0 --security-counter "
        "3 "
        "--image new.bin --expires +1h --nonce 42 --key rel.key -o m.bin");
    ASSERT_EQ(sign.exit_code, 0) << sign.output;
  }

  std::filesystem::path dir_;
};

// A file that starts like ELF but is not one (an executable shipped as is, a
// truncated one) is refused as ELF, and diffed as the bytes it is with --raw.
TEST_F(MetadataCommandsTest, RawDiffsAFileThatStartsLikeElfAsItsBytes) {
  write("elfish-old.bin", std::string("\x7f"
                                      "ELF",
                                      4) +
                              std::string(6000, 'a'));
  write("elfish-new.bin", std::string("\x7f"
                                      "ELF",
                                      4) +
                              std::string(6000, 'a') + "tail");
  const CliRun refused = updraft("diff elfish-old.bin elfish-new.bin -o p.bin");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find("FIRMWARE_FILE_MALFORMED"), std::string::npos) << refused.output;
  const CliRun raw = updraft("diff --raw elfish-old.bin elfish-new.bin -o p.bin");
  ASSERT_EQ(raw.exit_code, 0) << raw.output;
  const CliRun applied = updraft("patch elfish-old.bin p.bin -o out.bin");
  ASSERT_EQ(applied.exit_code, 0) << applied.output;
  std::ifstream out(dir_ / "out.bin", std::ios::binary);
  const std::string rebuilt((std::istreambuf_iterator<char>(out)), {});
  EXPECT_EQ(rebuilt, std::string("\x7f"
                                 "ELF",
                                 4) +
                         std::string(6000, 'a') + "tail");
}

TEST_F(MetadataCommandsTest, SignedAnswerVerifiesWithEveryCheck) {
  make_release();
  const CliRun run = updraft(
      "verify m.bin --root root.bin --product acme --hardware rev-c --counter 3 "
      "--installed-version 2.0.0 "
      "--nonce 42 --image new.bin");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("accepted"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("skipped"), std::string::npos) << run.output;
}

TEST_F(MetadataCommandsTest, RejectionsPrintTheirNumber) {
  make_release();
  const struct {
    const char* flags;
    const char* expected;
  } cases[] = {
      {"--hardware rev-a", "MANIFEST_WRONG_HARDWARE (210)"},
      {"--counter 4", "MANIFEST_ROLLBACK (211)"},
      {"--installed-version 2.2.0", "MANIFEST_DOWNGRADE (212)"},
      {"--now +2h", "MANIFEST_EXPIRED (213)"},
      {"--nonce 43", "MANIFEST_NONCE_MISMATCH (214)"},
      {"--image other.bin", "HASH_MISMATCH (202)"},
      {"--image old.bin", "ARTIFACT_TRUNCATED (402)"},
      {"--image longer.bin", "ARTIFACT_TOO_LARGE (216)"},
  };
  for (const auto& c : cases) {
    const CliRun run = updraft(std::string("verify m.bin --root root.bin ") + c.flags);
    EXPECT_EQ(run.exit_code, 1) << c.flags << "\n" << run.output;
    EXPECT_NE(run.output.find(c.expected), std::string::npos) << c.flags << "\n" << run.output;
  }
  ASSERT_EQ(updraft("sign --product acme --hardware rev-b --version 2.1.0 --security-counter 3 "
                    "--image new.bin --key r1.key -o by_root.bin")
                .exit_code,
            0);
  EXPECT_NE(updraft("verify by_root.bin --root root.bin")
                .output.find("SIGNATURE_KEY_NOT_AUTHORIZED (205)"),
            std::string::npos);
}

TEST_F(MetadataCommandsTest, RotationNeedsTheOldRootThreshold) {
  make_release();
  ASSERT_EQ(updraft("keygen -o r3").exit_code, 0);
  ASSERT_EQ(updraft("keygen -o rel2").exit_code, 0);
  ASSERT_EQ(
      updraft("root create --version 2 --root-key r3.pub --release-key rel2.pub --revoke rel.pub "
              "-o root2.bin --key r3.key --key r1.key")
          .exit_code,
      0);
  const CliRun below = updraft("verify root2.bin --root root.bin");  // r1 alone of r1, r2
  EXPECT_EQ(below.exit_code, 1);
  EXPECT_NE(below.output.find("ROOT_ROTATION_INVALID (218)"), std::string::npos) << below.output;

  ASSERT_EQ(updraft("root sign root2.bin --key r2.key").exit_code, 0);
  const CliRun rotated = updraft("verify root2.bin --root root.bin");
  EXPECT_EQ(rotated.exit_code, 0) << rotated.output;
  // The new root revoked the old release key.
  EXPECT_NE(updraft("verify m.bin --root root2.bin").output.find("SIGNATURE_KEY_REVOKED (206)"),
            std::string::npos);
}

TEST_F(MetadataCommandsTest, DeltaBindsSourceAndPatch) {
  make_release();
  ASSERT_EQ(updraft("diff old.bin new.bin -o p.patch --profile mcu-tiny").exit_code, 0);
  const CliRun wrong = updraft(
      "sign --product acme --hardware rev-b --version 2.1.0 --security-counter 3 "
      "--image new.bin --delta-from new.bin --patch p.patch --key rel.key -o d.bin");
  EXPECT_NE(wrong.output.find("PATCH_WRONG_BASE (103)"), std::string::npos) << wrong.output;
  ASSERT_EQ(updraft("sign --product acme --hardware rev-b --version 2.1.0 --security-counter 3 "
                    "--image new.bin --delta-from old.bin --patch p.patch --key rel.key -o d.bin")
                .exit_code,
            0);
  EXPECT_EQ(updraft("verify d.bin --root root.bin --source old.bin --patch p.patch --image new.bin")
                .exit_code,
            0);
  EXPECT_NE(updraft("verify d.bin --root root.bin --source new.bin")
                .output.find("MANIFEST_SOURCE_MISMATCH (215)"),
            std::string::npos);
}

TEST_F(MetadataCommandsTest, ShowJsonNamesTheSignedFields) {
  make_release();
  const CliRun run = updraft("manifest show m.bin --json");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json j = nlohmann::json::parse(run.output);
  EXPECT_EQ(j["kind"], "manifest");
  EXPECT_EQ(j["product"], "acme");
  EXPECT_EQ(j["hardware"], nlohmann::json({"rev-b", "rev-c"}));
  EXPECT_EQ(j["version"], "2.1.0");
  EXPECT_EQ(j["security_counter"], 3);
  EXPECT_EQ(j["check_in"]["nonce"], 42);
  EXPECT_EQ(j["signatures"].size(), 1u);
  const nlohmann::json root =
      nlohmann::json::parse(updraft("manifest show root.bin --json").output);
  EXPECT_EQ(root["root_threshold"], 2);
  EXPECT_EQ(root["signatures"].size(), 2u);
}

TEST_F(MetadataCommandsTest, KeygenNeverReplacesAKey) {
  ASSERT_EQ(updraft("keygen -o k").exit_code, 0);
  const CliRun again = updraft("keygen -o k");
  EXPECT_EQ(again.exit_code, 3);
  EXPECT_NE(again.output.find("IO_ERROR (900)"), std::string::npos);
  EXPECT_EQ(std::filesystem::status(dir_ / "k.key").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST_F(MetadataCommandsTest, RotationWithPreviousTakesTheNextVersionAndSaysWhatItNeeds) {
  make_release();
  ASSERT_EQ(updraft("keygen -o r3").exit_code, 0);
  const CliRun half = updraft(
      "root create --previous root.bin --root-key r3.pub --release-key rel.pub -o root2.bin "
      "--key r3.key --key r1.key");
  ASSERT_EQ(half.exit_code, 0) << half.output;
  EXPECT_NE(half.output.find("root v2"), std::string::npos) << half.output;
  EXPECT_NE(half.output.find("rotation v1 -> v2: 1 of v1's root threshold 2, 1 of its own "
                             "threshold 1: not yet: ROOT_ROTATION_INVALID (218)"),
            std::string::npos)
      << half.output;
  const CliRun done = updraft("root sign root2.bin --key r2.key --previous root.bin");
  ASSERT_EQ(done.exit_code, 0) << done.output;
  EXPECT_NE(done.output.find("2 of v1's root threshold 2, 1 of its own threshold 1: complete"),
            std::string::npos)
      << done.output;
  EXPECT_EQ(updraft("verify root2.bin --root root.bin").exit_code, 0);
  // A version that is not the next one is refused before anything is written.
  const CliRun skip = updraft(
      "root create --previous root.bin --version 3 --root-key r3.pub --release-key rel.pub "
      "-o root3.bin --key r3.key");
  EXPECT_NE(skip.exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "root3.bin"));
}

TEST_F(MetadataCommandsTest, RsaPssKeysSignAndVerifyLikeTheOthers) {
  for (const char* key : {"keygen -a rsa-3072-pss -o rr", "keygen -a rsa-2048-pss -o rrel"}) {
    const CliRun made = updraft(key);
    ASSERT_EQ(made.exit_code, 0) << made.output;
  }
  ASSERT_EQ(updraft("root create --version 1 --root-key rr.pub --release-key rrel.pub "
                    "-o root.bin --key rr.key")
                .exit_code,
            0);
  const CliRun sign = updraft(
      "sign --product acme --hardware rev-b --version 2.1.0 --security-counter 3 --image new.bin "
      "--expires +1h --nonce 42 --key rrel.key -o m.bin");
  ASSERT_EQ(sign.exit_code, 0) << sign.output;
  const CliRun ok = updraft("verify m.bin --root root.bin --product acme --hardware rev-b");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  const nlohmann::json shown =
      nlohmann::json::parse(updraft("manifest show root.bin --json").output);
  EXPECT_EQ(shown["root_keys"][0]["algorithm"], "rsa-3072-pss") << shown.dump();
}

}  // namespace
