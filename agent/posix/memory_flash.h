// NOR flash simulated in RAM, with the rules a driver enforces (agent/port/flash.h).
// For tests and the fleet simulator, where thousands of devices need cheap flash.
#pragma once

#include <vector>

#include "agent/port/flash.h"

namespace updraft::agent {

class MemoryFlash final : public Flash {
 public:
  // A fully erased part.
  explicit MemoryFlash(FlashGeometry geometry);

  FlashGeometry geometry() const override { return geometry_; }
  Result<void> read(std::uint32_t offset, MutableByteView out) override;
  Result<void> write(std::uint32_t offset, ByteView data) override;
  Result<void> erase(std::uint32_t offset, std::uint32_t length) override;

  // Direct access for tests (e.g. to corrupt a slot on purpose).
  std::vector<std::byte>& raw() { return bytes_; }

 private:
  FlashGeometry geometry_;
  std::vector<std::byte> bytes_;
};

}  // namespace updraft::agent
