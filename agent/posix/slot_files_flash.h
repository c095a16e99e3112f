// The agent's Flash over separate backing stores, for Linux-class devices: slot A
// and slot B are two files or block devices (e.g. two root partitions), and the
// boot state and download journal live in a small state file. The agent sees one
// address space laid out as plan_layout() makes it:
//   [slot A file][slot B file][state file: boot state 2 sectors | journal 2 sectors]
// Host only. Not thread-safe.
//
// A file or block device has no NOR erase, so erase writes the erased value
// (0xFF). The state file keeps the NOR rules (only erased bytes are programmed),
// because the record stores' power-cut safety rests on them; the slots check range
// only, since checking "erased before write" would double every image write.
// Ordering: before a write to the state file lands, the slot files are synced, so
// a journal record never names image bytes the disk does not hold yet.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "agent/flash_layout.h"
#include "agent/port/flash.h"
#include "core/host/error.h"

namespace updraft::agent {

class SlotFilesFlash final : public Flash {
 public:
  static constexpr std::uint32_t kSectorSize = 4096;
  static constexpr std::uint32_t kStateBytes = 4 * kSectorSize;

  struct Paths {
    std::string slot_a;
    std::string slot_b;
    std::string state;
  };

  // Opens the three stores. An existing slot file or block device keeps its size;
  // both must be equal and a multiple of kSectorSize. A missing slot file is
  // created erased with `create_slot_bytes` bytes (0: missing is an error). A
  // missing state file is created erased. kFlashLayoutInvalid for sizes that do
  // not fit (the layout's offsets are 32-bit: two slots < 2 GiB each), kFlashIo
  // for I/O failures.
  static HostResult<std::unique_ptr<SlotFilesFlash>> open(const Paths& paths,
                                                          std::uint64_t create_slot_bytes);
  ~SlotFilesFlash();
  SlotFilesFlash(const SlotFilesFlash&) = delete;
  SlotFilesFlash& operator=(const SlotFilesFlash&) = delete;

  // The layout over this flash: slots at 0 and slot_bytes, records after them.
  const FlashLayout& layout() const { return layout_; }
  std::uint32_t slot_bytes() const { return slot_bytes_; }

  FlashGeometry geometry() const override { return geometry_; }
  Result<void> read(std::uint32_t offset, MutableByteView out) override;
  Result<void> write(std::uint32_t offset, ByteView data) override;
  Result<void> erase(std::uint32_t offset, std::uint32_t length) override;

 private:
  SlotFilesFlash() = default;

  // One piece of an operation, inside one backing store.
  struct Piece {
    int store;             // 0: slot A, 1: slot B, 2: state
    std::uint64_t offset;  // inside the store
    std::size_t length;
  };
  // Calls `op` for each store-local piece of [offset, offset + length).
  template <typename Op>
  Result<void> for_each_piece(std::uint32_t offset, std::size_t length, Op op);
  Result<void> sync_slots();

  int fd_[3] = {-1, -1, -1};
  bool dirty_[2] = {false, false};
  std::uint32_t slot_bytes_ = 0;
  FlashGeometry geometry_{};
  FlashLayout layout_{};
};

}  // namespace updraft::agent
