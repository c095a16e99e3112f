#include "agent/record_store.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "agent/posix/memory_flash.h"
#include "agent/testing/fault_flash.h"

namespace updraft::agent {
namespace {

constexpr FlashGeometry kGeometry{4 * 4096, 4096, 8, std::byte{0xFF}};
constexpr std::uint32_t kSlot = 256;

std::vector<std::byte> payload_for(int version) {
  std::string text = "record version " + std::to_string(version) + std::string(version % 50, '*');
  std::vector<std::byte> bytes(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) bytes[i] = std::byte(text[i]);
  return bytes;
}

int version_of(RecordStore& store) {
  std::vector<std::byte> out(store.max_payload());
  Result<std::uint32_t> n = store.load(out);
  if (!n.ok()) return n.error() == ErrorCode::kJournalEmpty ? 0 : -1;
  out.resize(*n);
  for (int v = 1; v < 1000; ++v) {
    if (out == payload_for(v)) return v;
  }
  return -2;  // a record that was never stored: corruption
}

TEST(RecordStoreTest, LoadsLatestVersionAcrossSectorSwitches) {
  MemoryFlash flash(kGeometry);
  RecordStore store(flash, 4096, kSlot);
  EXPECT_EQ(version_of(store), 0);
  // 16 slots a sector: 40 versions wrap both sectors more than once.
  for (int v = 1; v <= 40; ++v) {
    ASSERT_TRUE(store.store(payload_for(v)).ok()) << v;
    ASSERT_EQ(version_of(store), v);
  }
  RecordStore reopened(flash, 4096, kSlot);
  EXPECT_EQ(version_of(reopened), 40);
  ASSERT_TRUE(reopened.clear().ok());
  EXPECT_EQ(version_of(reopened), 0);
}

TEST(RecordStoreTest, RefusesOversizedRecords) {
  MemoryFlash flash(kGeometry);
  RecordStore store(flash, 0, kSlot);
  std::vector<std::byte> big(store.max_payload() + 1);
  EXPECT_EQ(store.store(big).error(), ErrorCode::kJournalRecordTooLarge);
  ASSERT_TRUE(store.store(payload_for(3)).ok());
  std::vector<std::byte> small(4);
  EXPECT_EQ(store.load(small).error(), ErrorCode::kJournalRecordTooLarge);
}

// Power is cut at every flash operation of a run of stores; after each cut the
// store holds either the version being written or the one before, never garbage,
// and storing again works.
TEST(RecordStoreTest, SurvivesPowerCutAtEveryFlashOperation) {
  // Count the operations of an uninterrupted run.
  std::uint64_t total = 0;
  {
    MemoryFlash memory(kGeometry);
    FaultFlash flash(memory);
    RecordStore store(flash, 0, kSlot);
    for (int v = 1; v <= 36; ++v) ASSERT_TRUE(store.store(payload_for(v)).ok());
    total = flash.mutating_ops();
  }
  ASSERT_GT(total, 36u);
  int cuts = 0;
  for (std::uint64_t cut = 0; cut < total; ++cut) {
    MemoryFlash memory(kGeometry);
    FaultFlash flash(memory);
    RecordStore store(flash, 0, kSlot);
    flash.cut_power_after(cut);
    int completed = 0;
    for (int v = 1; v <= 36; ++v) {
      if (!store.store(payload_for(v)).ok()) break;
      completed = v;
    }
    ASSERT_FALSE(flash.powered()) << "cut " << cut << " never happened";
    flash.power_on();
    const int seen = version_of(store);
    ASSERT_TRUE(seen == completed || seen == completed + 1) << "cut " << cut << " saw " << seen;
    ASSERT_TRUE(store.store(payload_for(completed + 2)).ok()) << "cut " << cut;
    ASSERT_EQ(version_of(store), completed + 2) << "cut " << cut;
    ++cuts;
  }
  EXPECT_EQ(cuts, static_cast<int>(total));
}

}  // namespace
}  // namespace updraft::agent
