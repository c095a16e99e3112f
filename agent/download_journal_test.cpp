#include "agent/download_journal.h"

#include <gtest/gtest.h>

namespace updraft::agent {
namespace {

DownloadJournal sample(DownloadJournal::Phase phase, ArtifactKind kind) {
  DownloadJournal j;
  j.phase = phase;
  j.kind = kind;
  j.target = 1;
  j.has_checkpoint = true;
  for (std::size_t i = 0; i < j.update_id.size(); ++i) j.update_id[i] = std::byte(i * 3);
  for (std::size_t i = 0; i < j.checkpoint.size(); ++i) j.checkpoint[i] = std::byte(i * 7);
  j.full_offset = 64 * 100;
  j.full_hash.length = 64 * 100;
  j.full_hash.h = {1, 2, 3, 4, 5, 6, 7, 8};
  j.installed.valid = true;
  j.installed.size = 12345;
  j.installed.hash[3] = std::byte{9};
  j.installed.security_counter = 4;
  set_version(j.installed, "2.1.0-rc.1");
  return j;
}

TEST(DownloadJournalTest, RoundTripsEveryPhase) {
  for (auto [phase, kind] :
       {std::pair{DownloadJournal::Phase::kDownloading, ArtifactKind::kPatch},
        std::pair{DownloadJournal::Phase::kDownloading, ArtifactKind::kFullImage},
        std::pair{DownloadJournal::Phase::kAwaitingTrial, ArtifactKind::kPatch}}) {
    const DownloadJournal j = sample(phase, kind);
    std::byte bytes[kJournalBytes];
    encode_journal(j, bytes);
    Result<DownloadJournal> back = decode_journal(bytes);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->phase, phase);
    EXPECT_EQ(back->kind, kind);
    EXPECT_EQ(back->update_id, j.update_id);
    if (phase == DownloadJournal::Phase::kAwaitingTrial) {
      EXPECT_EQ(back->installed.size, 12345u);
      EXPECT_EQ(back->installed.hash, j.installed.hash);
      EXPECT_STREQ(back->installed.version.data(), "2.1.0-rc.1");
    } else if (kind == ArtifactKind::kPatch) {
      EXPECT_EQ(back->checkpoint, j.checkpoint);
    } else {
      EXPECT_EQ(back->full_offset, j.full_offset);
      EXPECT_EQ(back->full_hash.h, j.full_hash.h);
    }
  }
}

TEST(DownloadJournalTest, RejectsOutOfRangeFields) {
  std::byte bytes[kJournalBytes];
  encode_journal(sample(DownloadJournal::Phase::kDownloading, ArtifactKind::kFullImage), bytes);
  for (std::size_t at : {0u, 1u, 2u, 3u}) {
    std::byte copy[kJournalBytes];
    std::copy(std::begin(bytes), std::end(bytes), copy);
    copy[at] = std::byte{0x7F};
    EXPECT_EQ(decode_journal(copy).error(), ErrorCode::kJournalCorrupt) << at;
  }
  EXPECT_EQ(decode_journal(ByteView(bytes, 10)).error(), ErrorCode::kJournalCorrupt);
}

}  // namespace
}  // namespace updraft::agent
