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
  j.full_offset = 1024 * 100;
  j.installed.valid = true;
  j.installed.size = 12345;
  j.installed.hash[3] = std::byte{9};
  j.installed.security_counter = 4;
  set_version(j.installed, "2.1.0-rc.1");
  return j;
}

TEST(DownloadJournalTest, RoundTripsEveryPhase) {
  struct Case {
    DownloadJournal::Phase phase;
    ArtifactKind kind;
    bool staged;
  };
  for (auto [phase, kind, staged] :
       {Case{DownloadJournal::Phase::kDownloading, ArtifactKind::kPatch, false},
        Case{DownloadJournal::Phase::kDownloading, ArtifactKind::kPatch, true},
        Case{DownloadJournal::Phase::kApplying, ArtifactKind::kPatch, true},
        Case{DownloadJournal::Phase::kDownloading, ArtifactKind::kFullImage, false},
        Case{DownloadJournal::Phase::kAwaitingTrial, ArtifactKind::kPatch, false}}) {
    DownloadJournal j = sample(phase, kind);
    j.staged = staged;
    std::byte bytes[kJournalBytes];
    encode_journal(j, bytes);
    Result<DownloadJournal> back = decode_journal(bytes);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->phase, phase);
    EXPECT_EQ(back->kind, kind);
    EXPECT_EQ(back->update_id, j.update_id);
    EXPECT_EQ(back->staged, staged);
    if (phase == DownloadJournal::Phase::kAwaitingTrial) {
      EXPECT_EQ(back->installed.size, 12345u);
      EXPECT_EQ(back->installed.hash, j.installed.hash);
      EXPECT_STREQ(back->installed.version.data(), "2.1.0-rc.1");
    } else if (kind == ArtifactKind::kPatch &&
               (!staged || phase == DownloadJournal::Phase::kApplying)) {
      EXPECT_EQ(back->checkpoint, j.checkpoint);
    } else {
      EXPECT_EQ(back->full_offset, j.full_offset);
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
  // Only a staged patch is ever applied from flash.
  encode_journal(sample(DownloadJournal::Phase::kApplying, ArtifactKind::kPatch), bytes);
  EXPECT_EQ(decode_journal(bytes).error(), ErrorCode::kJournalCorrupt);
}

}  // namespace
}  // namespace updraft::agent
