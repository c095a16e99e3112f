#include "agent/record_store.h"

#include <algorithm>
#include <cstring>

#include "core/codec.h"
#include "core/crc32.h"

namespace updraft::agent {
namespace {

constexpr std::uint32_t kRecordMagic = 0x53525055;  // "UPRS"
constexpr std::uint32_t kHeaderBytes = 12;
constexpr std::uint32_t kChunk = 32;

}  // namespace

RecordStore::RecordStore(Flash& flash, std::uint32_t offset, std::uint32_t slot_size)
    : flash_(flash),
      offset_(offset),
      slot_size_(slot_size),
      sector_size_(flash.geometry().sector_size),
      slots_per_sector_(sector_size_ / slot_size) {}

std::uint32_t RecordStore::slot_offset(std::uint32_t sector, std::uint32_t slot) const {
  return offset_ + sector * sector_size_ + slot * slot_size_;
}

Result<RecordStore::SlotState> RecordStore::inspect(std::uint32_t sector, std::uint32_t slot,
                                                    std::uint32_t& sequence,
                                                    std::uint32_t& length) {
  const std::uint32_t base = slot_offset(sector, slot);
  const std::byte erased = flash_.geometry().erased_value;
  std::byte chunk[kChunk];

  std::byte header[kHeaderBytes];
  UPDRAFT_TRY(flash_.read(base, header));
  sequence = load_le32(header + 4);
  length = load_le16(header + 8);
  if (load_le32(header) == kRecordMagic && length <= max_payload()) {
    std::uint32_t crc = crc32(header);
    for (std::uint32_t pos = 0; pos < length; pos += kChunk) {
      const std::uint32_t n = std::min(kChunk, length - pos);
      UPDRAFT_TRY(flash_.read(base + kHeaderBytes + pos, MutableByteView(chunk, n)));
      crc = crc32(ByteView(chunk, n), crc);
    }
    std::byte stored[4];
    UPDRAFT_TRY(flash_.read(base + kHeaderBytes + length, stored));
    if (load_le32(stored) == crc) return SlotState::kValid;
  }
  // Not a record: only a fully erased slot may be written again.
  for (std::uint32_t pos = 0; pos < slot_size_; pos += kChunk) {
    const std::uint32_t n = std::min(kChunk, slot_size_ - pos);
    UPDRAFT_TRY(flash_.read(base + pos, MutableByteView(chunk, n)));
    for (std::uint32_t i = 0; i < n; ++i) {
      if (chunk[i] != erased) return SlotState::kGarbage;
    }
  }
  return SlotState::kErased;
}

Result<RecordStore::Location> RecordStore::find_latest() {
  Location latest;
  for (std::uint32_t sector = 0; sector < 2; ++sector) {
    for (std::uint32_t slot = 0; slot < slots_per_sector_; ++slot) {
      std::uint32_t sequence = 0, length = 0;
      UPDRAFT_TRY_ASSIGN(SlotState state, inspect(sector, slot, sequence, length));
      if (state == SlotState::kValid && (!latest.found || sequence > latest.sequence)) {
        latest = {true, sector, slot, sequence, length};
      }
    }
  }
  return latest;
}

Result<std::uint32_t> RecordStore::load(MutableByteView out) {
  UPDRAFT_TRY_ASSIGN(Location latest, find_latest());
  if (!latest.found) return ErrorCode::kJournalEmpty;
  if (latest.length > out.size()) return ErrorCode::kJournalRecordTooLarge;
  UPDRAFT_TRY(flash_.read(slot_offset(latest.sector, latest.slot) + kHeaderBytes,
                          out.first(latest.length)));
  return latest.length;
}

Result<void> RecordStore::store(ByteView payload) {
  if (payload.size() > max_payload()) return ErrorCode::kJournalRecordTooLarge;
  UPDRAFT_TRY_ASSIGN(Location latest, find_latest());
  // The next erased slot after the latest record in its sector; a torn slot is
  // skipped, since its bytes can no longer be programmed.
  std::uint32_t sector = latest.found ? latest.sector : 0;
  std::uint32_t slot = latest.found ? latest.slot + 1 : 0;
  bool placed = false;
  for (; slot < slots_per_sector_; ++slot) {
    std::uint32_t seq = 0, len = 0;
    UPDRAFT_TRY_ASSIGN(SlotState state, inspect(sector, slot, seq, len));
    if (state == SlotState::kErased) {
      placed = true;
      break;
    }
  }
  if (!placed) {
    // Only the sector without the latest record is erased, so a power cut here
    // still leaves that record readable.
    sector = latest.found ? 1 - latest.sector : 0;
    slot = 0;
    UPDRAFT_TRY(flash_.erase(offset_ + sector * sector_size_, sector_size_));
  }

  const FlashGeometry g = flash_.geometry();
  const std::uint32_t base = slot_offset(sector, slot);
  const auto length = static_cast<std::uint32_t>(payload.size());
  std::byte header[kHeaderBytes] = {};
  store_le32(header, kRecordMagic);
  store_le32(header + 4, latest.found ? latest.sequence + 1 : 1);
  store_le16(header + 8, static_cast<std::uint16_t>(length));
  std::uint32_t crc = crc32(header);
  crc = crc32(payload, crc);

  // Stream header | payload | crc through an aligned staging chunk, padded with the
  // erased value so the padding stays programmable-as-erased.
  std::byte chunk[kChunk * 2];
  const std::uint32_t total = kHeaderBytes + length + 4;
  std::uint32_t written = 0;
  const std::uint32_t step = std::max<std::uint32_t>(g.write_align, kChunk);
  if (step > sizeof chunk) return ErrorCode::kFlashMisaligned;
  while (written < total) {
    const std::uint32_t n = std::min(step, total - written);
    const std::uint32_t padded = (n + g.write_align - 1) / g.write_align * g.write_align;
    for (std::uint32_t i = 0; i < padded; ++i) {
      const std::uint32_t at = written + i;
      std::byte b = g.erased_value;
      if (at < kHeaderBytes) {
        b = header[at];
      } else if (at < kHeaderBytes + length) {
        b = payload[at - kHeaderBytes];
      } else if (at < total) {
        std::byte crc_bytes[4];
        store_le32(crc_bytes, crc);
        b = crc_bytes[at - kHeaderBytes - length];
      }
      chunk[i] = b;
    }
    UPDRAFT_TRY(flash_.write(base + written, ByteView(chunk, padded)));
    written += padded;
  }
  return {};
}

Result<void> RecordStore::clear() { return flash_.erase(offset_, 2 * sector_size_); }

}  // namespace updraft::agent
