// expand_config: a run --config file becomes the options it names, the command
// line winning, and a malformed file is refused with its line.
#include "agent/linux/config_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace updraft::agent {
namespace {

using Args = std::vector<std::string>;

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("updraft-agent-conf-" + std::to_string(::getpid()) + ".conf");
  }
  void TearDown() override { std::filesystem::remove(path_); }
  void write(const std::string& text) { std::ofstream(path_) << text; }

  std::filesystem::path path_;
};

TEST_F(ConfigFileTest, EachKeyBecomesAnOptionAfterTheSubcommand) {
  write(
      "# the gateway's agent\n"
      "[run]\n"
      "server = \"https://updates.example.com:8443\"\n"
      "slot_a = /dev/mmcblk0p2\n"
      "  device-id = 'gw-7'  \n"
      "once = true\n"
      "insecure = false\n"
      "\n");
  HostResult<Args> out = expand_config({"run", "--config", path_.string()});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(*out, (Args{"run", "--server", "https://updates.example.com:8443", "--slot-a",
                        "/dev/mmcblk0p2", "--device-id", "gw-7", "--once"}));
}

TEST_F(ConfigFileTest, TheCommandLineWinsOverTheFile) {
  write("server = https://a:1\nproduct = gateway\n");
  HostResult<Args> out =
      expand_config({"run", "--server=https://b:2", "--config=" + path_.string(), "--once"});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(*out, (Args{"run", "--product", "gateway", "--server=https://b:2", "--once"}));
}

TEST_F(ConfigFileTest, WithoutConfigTheArgumentsAreUnchanged) {
  const Args args{"run", "--server", "https://a:1"};
  EXPECT_EQ(expand_config(args).value(), args);
}

TEST_F(ConfigFileTest, AMissingFileOrAMalformedLineIsRefusedByName) {
  HostResult<Args> missing = expand_config({"run", "--config", path_.string() + ".absent"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(missing.error().message.find(".absent"), std::string::npos);

  write("server = https://a:1\nthis line has no equals sign\n");
  HostResult<Args> bad = expand_config({"run", "--config", path_.string()});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find(path_.string() + ":2: expected key = value"),
            std::string::npos)
      << bad.error().message;
}

TEST_F(ConfigFileTest, OnlyTheNamedKeysAreTakenWhenAskedFor) {
  write(
      "server = https://updates.example.com:8443\n"
      "bootloader = grub\n"
      "grub_env = /boot/efi/grubenv\n"
      "once = true\n");
  HostResult<Args> out =
      expand_config({"confirm", "--config", path_.string()}, {"bootloader", "grub-env"});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(*out, (Args{"confirm", "--bootloader", "grub", "--grub-env", "/boot/efi/grubenv"}));
}

}  // namespace
}  // namespace updraft::agent
