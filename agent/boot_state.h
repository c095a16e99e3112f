// The state the bootloader and the agent share (portable): which slot is
// confirmed, which one waits for or is on its trial boot, and what each slot holds.
// Stored as a RecordStore record — see docs/formats/journal.md.
#pragma once

#include <array>
#include <cstdint>

#include "core/bytes.h"
#include "core/result.h"
#include "crypto/sha256.h"

namespace updraft::agent {

using SlotIndex = std::uint8_t;
inline constexpr SlotIndex kNoSlot = 0xFF;

struct SlotInfo {
  bool valid = false;  // holds a complete, verified image
  std::uint32_t size = 0;
  Sha256Digest hash{};
  std::uint32_t security_counter = 0;
  std::array<char, 24> version{};  // NUL-padded semver, for reports
};

enum class TrialState : std::uint8_t {
  kNone = 0,
  kPending = 1,  // the next boot tries the trial slot
  kBooted = 2,   // the trial slot was booted; a boot in this state means it failed
};

struct BootState {
  SlotIndex active = 0;  // the confirmed slot
  SlotIndex trial = kNoSlot;
  TrialState trial_state = TrialState::kNone;
  std::array<SlotInfo, 2> slots{};
};

inline constexpr std::size_t kSlotInfoBytes = 1 + 4 + 32 + 4 + 24;
inline constexpr std::size_t kBootStateBytes = 4 + 2 * kSlotInfoBytes;

void encode_boot_state(const BootState& state, std::span<std::byte, kBootStateBytes> out);
// kJournalCorrupt if a field is out of range.
Result<BootState> decode_boot_state(ByteView bytes);

// Sets the version text, truncated to fit.
void set_version(SlotInfo& slot, const char* version);

}  // namespace updraft::agent
