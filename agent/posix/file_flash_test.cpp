#include "agent/posix/file_flash.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <string>

#include "agent/posix/memory_flash.h"

namespace updraft::agent {
namespace {

constexpr FlashGeometry kGeometry{64 * 1024, 4096, 8, std::byte{0xFF}};

std::string temp_path() {
  std::string path = testing::TempDir() + "file_flash_XXXXXX";
  const int fd = mkstemp(path.data());
  close(fd);
  unlink(path.c_str());
  return path;
}

// Both simulations must enforce the same driver rules.
template <typename MakeFlash>
void expect_nor_rules(MakeFlash make) {
  auto holder = make();
  Flash& flash = *holder;
  std::array<std::byte, 8> data;
  data.fill(std::byte{0x12});
  std::array<std::byte, 8> back{};

  ASSERT_TRUE(flash.read(0, back).ok());
  for (std::byte b : back) EXPECT_EQ(b, std::byte{0xFF}) << "a new part reads erased";

  ASSERT_TRUE(flash.write(8, data).ok());
  EXPECT_EQ(flash.write(8, data).error(), ErrorCode::kFlashNotErased);
  EXPECT_EQ(flash.write(4, data).error(), ErrorCode::kFlashMisaligned);
  EXPECT_EQ(flash.write(16, ByteView(data).first(3)).error(), ErrorCode::kFlashMisaligned);
  EXPECT_EQ(flash.write(kGeometry.size - 4, data).error(), ErrorCode::kFlashOutOfRange);
  EXPECT_EQ(flash.read(kGeometry.size - 4, back).error(), ErrorCode::kFlashOutOfRange);
  EXPECT_EQ(flash.erase(100, 4096).error(), ErrorCode::kFlashMisaligned);
  EXPECT_EQ(flash.erase(0, 100).error(), ErrorCode::kFlashMisaligned);
  EXPECT_EQ(flash.erase(kGeometry.size, 4096).error(), ErrorCode::kFlashOutOfRange);

  ASSERT_TRUE(flash.read(8, back).ok());
  EXPECT_EQ(back, data);
  ASSERT_TRUE(flash.erase(0, 4096).ok());
  ASSERT_TRUE(flash.read(8, back).ok());
  for (std::byte b : back) EXPECT_EQ(b, std::byte{0xFF}) << "erase restores the erased value";
  EXPECT_TRUE(flash.write(8, data).ok()) << "erased bytes can be programmed again";
}

TEST(FileFlashTest, EnforcesNorRules) {
  const std::string path = temp_path();
  expect_nor_rules([&] { return std::move(FileFlash::open(path, kGeometry).value()); });
  unlink(path.c_str());
}

TEST(MemoryFlashTest, EnforcesNorRules) {
  expect_nor_rules([] { return std::make_unique<MemoryFlash>(kGeometry); });
}

TEST(FileFlashTest, KeepsContentsAcrossReopenAndRefusesWrongSize) {
  const std::string path = temp_path();
  std::array<std::byte, 8> data;
  data.fill(std::byte{0x5A});
  {
    auto flash = FileFlash::open(path, kGeometry);
    ASSERT_TRUE(flash.ok()) << flash.error().message;
    ASSERT_TRUE((*flash)->write(4096, data).ok());
  }
  {
    auto flash = FileFlash::open(path, kGeometry);
    ASSERT_TRUE(flash.ok());
    std::array<std::byte, 8> back{};
    ASSERT_TRUE((*flash)->read(4096, back).ok());
    EXPECT_EQ(back, data);
  }
  FlashGeometry bigger = kGeometry;
  bigger.size *= 2;
  auto wrong = FileFlash::open(path, bigger);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::kFlashLayoutInvalid);
  unlink(path.c_str());
}

}  // namespace
}  // namespace updraft::agent
