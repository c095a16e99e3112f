// A Flash that loses power after N mutating operations (writes and erases): the
// operation that is cut is left half done (a prefix of a write programmed, half of
// an erase applied), and every operation fails with kFlashPowerLost until
// power_on(). Wraps any Flash; for power-cut property tests.
#pragma once

#include <cstdint>

#include "agent/port/flash.h"

namespace updraft::agent {

class FaultFlash final : public Flash {
 public:
  explicit FaultFlash(Flash& inner) : inner_(inner) {}

  // Lets `ops` more mutating operations complete, then cuts the next one.
  void cut_power_after(std::uint64_t ops);
  void disarm() { cut_at_ = 0; }
  void power_on() { powered_ = true; }
  bool powered() const { return powered_; }
  // Mutating operations completed since construction (counts every run).
  std::uint64_t mutating_ops() const { return ops_; }

  FlashGeometry geometry() const override { return inner_.geometry(); }
  Result<void> read(std::uint32_t offset, MutableByteView out) override;
  Result<void> write(std::uint32_t offset, ByteView data) override;
  Result<void> erase(std::uint32_t offset, std::uint32_t length) override;

 private:
  bool cut_now();

  Flash& inner_;
  std::uint64_t ops_ = 0;
  std::uint64_t cut_at_ = 0;  // absolute op count that is cut; 0 = never
  bool powered_ = true;
};

}  // namespace updraft::agent
