#include "agent/boot_state.h"

#include <algorithm>
#include <cstring>

#include "core/codec.h"

namespace updraft::agent {

void encode_boot_state(const BootState& s, std::span<std::byte, kBootStateBytes> out) {
  std::byte* p = out.data();
  p[0] = std::byte{s.active};
  p[1] = std::byte{s.trial};
  p[2] = std::byte{static_cast<std::uint8_t>(s.trial_state)};
  p[3] = std::byte{0};
  p += 4;
  for (const SlotInfo& slot : s.slots) {
    p[0] = std::byte{static_cast<std::uint8_t>(slot.valid ? 1 : 0)};
    store_le32(p + 1, slot.size);
    std::copy(slot.hash.begin(), slot.hash.end(), p + 5);
    store_le32(p + 37, slot.security_counter);
    for (std::size_t i = 0; i < slot.version.size(); ++i) p[41 + i] = std::byte(slot.version[i]);
    p += kSlotInfoBytes;
  }
}

Result<BootState> decode_boot_state(ByteView bytes) {
  if (bytes.size() != kBootStateBytes) return ErrorCode::kJournalCorrupt;
  const std::byte* p = bytes.data();
  BootState s;
  s.active = std::to_integer<std::uint8_t>(p[0]);
  s.trial = std::to_integer<std::uint8_t>(p[1]);
  const auto trial_state = std::to_integer<std::uint8_t>(p[2]);
  if (s.active > 1 || (s.trial > 1 && s.trial != kNoSlot) || trial_state > 2) {
    return ErrorCode::kJournalCorrupt;
  }
  s.trial_state = static_cast<TrialState>(trial_state);
  p += 4;
  for (SlotInfo& slot : s.slots) {
    slot.valid = std::to_integer<std::uint8_t>(p[0]) == 1;
    slot.size = load_le32(p + 1);
    std::copy(p + 5, p + 37, slot.hash.begin());
    slot.security_counter = load_le32(p + 37);
    for (std::size_t i = 0; i < slot.version.size(); ++i)
      slot.version[i] = static_cast<char>(p[41 + i]);
    slot.version.back() = '\0';
    p += kSlotInfoBytes;
  }
  return s;
}

void set_version(SlotInfo& slot, const char* version) {
  slot.version.fill('\0');
  const std::size_t n = std::min(std::strlen(version), slot.version.size() - 1);
  std::memcpy(slot.version.data(), version, n);
}

}  // namespace updraft::agent
