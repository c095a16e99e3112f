// A power-safe home in flash for the latest version of one small record (the
// boot state, the download journal). Portable, no heap.
//
// Two sectors hold fixed-size slots; each new version goes into the next erased
// slot with a higher sequence number and a CRC-32, and only when a sector is full
// is the other one erased. A power cut mid-write leaves a slot whose CRC fails,
// and a cut mid-erase only touches the sector without the latest record, so load()
// always finds the last version that store() completed. See docs/formats/journal.md.
//
// RAM: this object (~40 bytes) and < 128 bytes of stack.
#pragma once

#include <cstdint>

#include "agent/port/flash.h"
#include "core/bytes.h"
#include "core/result.h"

namespace updraft::agent {

class RecordStore {
 public:
  // magic (4) | sequence (4) | payload length (2) | reserved (2) | payload | crc32 (4)
  static constexpr std::uint32_t kOverhead = 16;

  // Uses sectors [offset, offset + 2 * sector_size) of `flash`; slot_size divides
  // the sector size and is a multiple of the write alignment.
  RecordStore(Flash& flash, std::uint32_t offset, std::uint32_t slot_size);

  std::uint32_t max_payload() const { return slot_size_ - kOverhead; }

  // Copies the latest complete record into `out` and returns its length;
  // kJournalEmpty if there is none, kJournalRecordTooLarge if `out` is too small.
  Result<std::uint32_t> load(MutableByteView out);

  // Stores a new version. On success a later load() returns it, whatever happens
  // after; on failure (power cut) load() returns this or the previous version.
  Result<void> store(ByteView payload);

  // Forgets every version (erases both sectors).
  Result<void> clear();

 private:
  struct Location {
    bool found = false;
    std::uint32_t sector = 0;
    std::uint32_t slot = 0;
    std::uint32_t sequence = 0;
    std::uint32_t length = 0;
  };
  enum class SlotState : std::uint8_t { kErased, kValid, kGarbage };

  Result<SlotState> inspect(std::uint32_t sector, std::uint32_t slot, std::uint32_t& sequence,
                            std::uint32_t& length);
  Result<Location> find_latest();
  std::uint32_t slot_offset(std::uint32_t sector, std::uint32_t slot) const;

  Flash& flash_;
  std::uint32_t offset_;
  std::uint32_t slot_size_;
  std::uint32_t sector_size_;
  std::uint32_t slots_per_sector_;
};

}  // namespace updraft::agent
