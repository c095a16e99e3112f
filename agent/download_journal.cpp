#include "agent/download_journal.h"

#include <algorithm>
#include <cstring>

#include "core/codec.h"

namespace updraft::agent {
namespace {

constexpr std::uint8_t kJournalVersion = 1;

// A streamed delta and an applying staged patch keep a patcher checkpoint; a full
// image and a staged patch still downloading keep how many bytes are in flash.
bool uses_checkpoint(const DownloadJournal& j) {
  return j.kind == ArtifactKind::kPatch &&
         (!j.staged || j.phase == DownloadJournal::Phase::kApplying);
}

}  // namespace

void encode_journal(const DownloadJournal& j, std::span<std::byte, kJournalBytes> out) {
  std::byte* p = out.data();
  std::memset(p, 0, kJournalBytes);
  p[0] = std::byte{kJournalVersion};
  p[1] = std::byte{static_cast<std::uint8_t>(j.phase)};
  p[2] = std::byte{static_cast<std::uint8_t>(j.kind)};
  p[3] = std::byte{j.target};
  p[4] = std::byte{static_cast<std::uint8_t>(j.has_checkpoint ? 1 : 0)};
  p[5] = std::byte{static_cast<std::uint8_t>(j.staged ? 1 : 0)};
  std::copy(j.update_id.begin(), j.update_id.end(), p + 8);
  std::byte* body = p + 40;
  if (j.phase == DownloadJournal::Phase::kAwaitingTrial) {
    BootState carrier;  // reuse the boot-state codec for one SlotInfo
    carrier.slots[0] = j.installed;
    std::byte encoded[kBootStateBytes];
    encode_boot_state(carrier, encoded);
    std::copy(encoded + 4, encoded + 4 + kSlotInfoBytes, body);
  } else if (uses_checkpoint(j)) {
    std::copy(j.checkpoint.begin(), j.checkpoint.end(), body);
  } else {
    // Bytes 4..43 held a SHA-256 state before images were checked in flash
    // instead; they stay zero.
    store_le32(body, j.full_offset);
  }
}

Result<DownloadJournal> decode_journal(ByteView bytes) {
  if (bytes.size() != kJournalBytes) return ErrorCode::kJournalCorrupt;
  const std::byte* p = bytes.data();
  DownloadJournal j;
  const auto phase = std::to_integer<std::uint8_t>(p[1]);
  const auto kind = std::to_integer<std::uint8_t>(p[2]);
  j.target = std::to_integer<std::uint8_t>(p[3]);
  if (std::to_integer<std::uint8_t>(p[0]) != kJournalVersion || phase < 1 || phase > 4 ||
      kind < 1 || kind > 2 || j.target > 1) {
    return ErrorCode::kJournalCorrupt;
  }
  j.phase = static_cast<DownloadJournal::Phase>(phase);
  j.kind = static_cast<ArtifactKind>(kind);
  j.has_checkpoint = std::to_integer<std::uint8_t>(p[4]) == 1;
  j.staged = std::to_integer<std::uint8_t>(p[5]) == 1;
  if (j.phase == DownloadJournal::Phase::kApplying && (!j.staged || j.kind != ArtifactKind::kPatch))
    return ErrorCode::kJournalCorrupt;
  std::copy(p + 8, p + 40, j.update_id.begin());
  const std::byte* body = p + 40;
  if (j.phase == DownloadJournal::Phase::kAwaitingTrial) {
    std::byte encoded[kBootStateBytes] = {};
    std::copy(body, body + kSlotInfoBytes, encoded + 4);
    std::copy(body, body + kSlotInfoBytes, encoded + 4 + kSlotInfoBytes);
    UPDRAFT_TRY_ASSIGN(BootState carrier, decode_boot_state(encoded));
    j.installed = carrier.slots[0];
  } else if (uses_checkpoint(j)) {
    std::copy(body, body + j.checkpoint.size(), j.checkpoint.begin());
  } else {
    j.full_offset = load_le32(body);
  }
  return j;
}

}  // namespace updraft::agent
