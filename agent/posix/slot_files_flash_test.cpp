#include "agent/posix/slot_files_flash.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "agent/boot_logic.h"
#include "crypto/sha256.h"

namespace updraft::agent {
namespace {

constexpr std::uint32_t kSlot = 8 * SlotFilesFlash::kSectorSize;

class SlotFilesFlashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "slot_files_XXXXXX";
    dir_ = ::mkdtemp(pattern.data());
    paths_ = {dir_ + "/a.img", dir_ + "/b.img", dir_ + "/state"};
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::vector<std::byte> file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::byte> bytes(chars.size());
    std::memcpy(bytes.data(), chars.data(), chars.size());
    return bytes;
  }

  std::string dir_;
  SlotFilesFlash::Paths paths_;
};

TEST_F(SlotFilesFlashTest, CreatesErasedStoresAndMapsTheLayoutOntoThem) {
  auto flash = SlotFilesFlash::open(paths_, kSlot).value();
  EXPECT_EQ(flash->layout().slot_offset[1], kSlot);
  EXPECT_EQ(flash->layout().boot_state_offset, 2 * kSlot);
  EXPECT_EQ(flash->layout().end, flash->geometry().size);
  EXPECT_EQ(file(paths_.slot_a), std::vector<std::byte>(kSlot, std::byte{0xFF}));
  EXPECT_EQ(file(paths_.state).size(), SlotFilesFlash::kStateBytes);

  // A write that straddles slot A's end lands in both files.
  const std::array<std::byte, 4> data{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
  ASSERT_TRUE(flash->write(kSlot - 2, data).ok());
  std::array<std::byte, 4> back{};
  ASSERT_TRUE(flash->read(kSlot - 2, back).ok());
  EXPECT_EQ(back, data);
  EXPECT_EQ(file(paths_.slot_a)[kSlot - 1], std::byte{2});
  EXPECT_EQ(file(paths_.slot_b)[0], std::byte{3});
  ASSERT_TRUE(flash->write(2 * kSlot + 10, data).ok());
  EXPECT_EQ(file(paths_.state)[10], std::byte{1});

  ASSERT_TRUE(flash->erase(kSlot, SlotFilesFlash::kSectorSize).ok());
  EXPECT_EQ(file(paths_.slot_b)[0], std::byte{0xFF}) << "erase fills the erased value";
  EXPECT_EQ(file(paths_.slot_a)[kSlot - 1], std::byte{2}) << "and stays inside its range";
}

TEST_F(SlotFilesFlashTest, StateFileKeepsNorRulesAndSlotsAcceptRewrites) {
  auto flash = SlotFilesFlash::open(paths_, kSlot).value();
  const std::array<std::byte, 2> data{std::byte{0x12}, std::byte{0x34}};
  const std::uint32_t state = flash->layout().boot_state_offset;
  ASSERT_TRUE(flash->write(state, data).ok());
  EXPECT_EQ(flash->write(state, data).error(), ErrorCode::kFlashNotErased);
  ASSERT_TRUE(flash->write(0, data).ok());
  EXPECT_TRUE(flash->write(0, data).ok()) << "a partition has no erase-before-write rule";
  EXPECT_EQ(flash->write(flash->geometry().size - 1, data).error(), ErrorCode::kFlashOutOfRange);
  EXPECT_EQ(flash->erase(100, SlotFilesFlash::kSectorSize).error(), ErrorCode::kFlashMisaligned);
}

TEST_F(SlotFilesFlashTest, RejectsSlotsOfDifferentSizesAndMissingSlotsWhenNotCreating) {
  EXPECT_EQ(SlotFilesFlash::open(paths_, 0).error().code, ErrorCode::kFlashIo);
  { auto flash = SlotFilesFlash::open(paths_, kSlot).value(); }
  std::filesystem::resize_file(paths_.slot_b, kSlot + SlotFilesFlash::kSectorSize);
  EXPECT_EQ(SlotFilesFlash::open(paths_, 0).error().code, ErrorCode::kFlashLayoutInvalid);
  std::filesystem::resize_file(paths_.slot_b, kSlot);
  std::filesystem::resize_file(paths_.state, 100);
  EXPECT_EQ(SlotFilesFlash::open(paths_, 0).error().code, ErrorCode::kFlashLayoutInvalid);
  EXPECT_EQ(SlotFilesFlash::open(paths_, 1000).error().code, ErrorCode::kFlashLayoutInvalid);
}

// The real boot logic over the files, across a close and reopen (a restart).
TEST_F(SlotFilesFlashTest, BootStateSurvivesReopeningAndTheBootLogicVerifiesTheSlotFile) {
  std::vector<std::byte> image(10'000);
  for (std::size_t i = 0; i < image.size(); ++i) image[i] = std::byte(i * 7);
  {
    auto flash = SlotFilesFlash::open(paths_, kSlot).value();
    ASSERT_TRUE(flash->write(0, image).ok());
    SlotInfo info;
    info.valid = true;
    info.size = static_cast<std::uint32_t>(image.size());
    info.hash = Sha256::digest(image);
    set_version(info, "1.0.0");
    BootLogic boot(*flash, flash->layout());
    ASSERT_TRUE(boot.provision(0, info).ok());
  }
  auto flash = SlotFilesFlash::open(paths_, 0).value();
  BootLogic boot(*flash, flash->layout());
  Result<BootDecision> decision = boot.boot();
  ASSERT_TRUE(decision.ok());
  EXPECT_EQ(decision->slot, 0);
  EXPECT_FALSE(decision->trial);

  // Damage the image in its file: the boot logic must refuse it.
  {
    std::fstream f(paths_.slot_a, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(5000);
    f.put('\x55');
  }
  auto damaged = SlotFilesFlash::open(paths_, 0).value();
  BootLogic again(*damaged, damaged->layout());
  EXPECT_EQ(again.boot().error(), ErrorCode::kBootNoValidImage);
}

}  // namespace
}  // namespace updraft::agent
