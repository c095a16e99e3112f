// The download journal: what the agent records in flash so an update survives a
// power cut (portable). One record, kept in a RecordStore — docs/formats/journal.md.
//
//   kDownloading:    the update (its id), its target slot, and the resume
//                    point: a patcher checkpoint, or the bytes already in flash (a
//                    full image in its slot, or a patch in the staging area)
//   kApplying:       a staged patch is whole and checked; the patcher's checkpoint
//   kAwaitingTrial:  the image is installed and verified; the slot info it was
//                    scheduled with, to tell success from rollback after the reboot
//   kIdle:           nothing in progress (written instead of erasing, so that
//                    finishing an update is one atomic record store)
#pragma once

#include <array>
#include <cstdint>

#include "agent/boot_state.h"
#include "agent/port/transport.h"
#include "crypto/sha256.h"
#include "delta/patch/patcher.h"

namespace updraft::agent {

struct DownloadJournal {
  enum class Phase : std::uint8_t {
    kDownloading = 1,
    kAwaitingTrial = 2,
    kIdle = 3,
    kApplying = 4
  };

  Phase phase = Phase::kDownloading;
  ArtifactKind kind = ArtifactKind::kFullImage;
  SlotIndex target = 1;
  bool has_checkpoint = false;
  bool staged = false;  // a patch downloaded into the staging area before it is applied
  Sha256Digest update_id{};
  // kDownloading of a streamed delta, kApplying: the patcher's checkpoint.
  std::array<std::byte, delta::Patcher::kCheckpointSize> checkpoint{};
  // kDownloading of a full image or a staged patch: bytes already in flash.
  std::uint32_t full_offset = 0;
  // kAwaitingTrial:
  SlotInfo installed{};
};

inline constexpr std::size_t kJournalBytes = 8 + 32 + delta::Patcher::kCheckpointSize;

void encode_journal(const DownloadJournal& journal, std::span<std::byte, kJournalBytes> out);
Result<DownloadJournal> decode_journal(ByteView bytes);

}  // namespace updraft::agent
