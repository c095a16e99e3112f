// The daemon's Flash, which turns a stop request during an update cycle into a
// power cut at the next operation: the operation in progress finishes, and the
// journal covers the rest. Outside a cycle (booting, confirming a trial) a stop
// waits for the step to end, so SIGTERM alone never costs a healthy trial.
// Host only.
#pragma once

#include <atomic>

#include "agent/port/flash.h"

namespace updraft::agent {

class StoppableFlash final : public Flash {
 public:
  // `stop` is set by the signal handler; both must outlive this.
  StoppableFlash(Flash& inner, const std::atomic<bool>& stop) : inner_(inner), stop_(stop) {}

  // Armed for the length of an update cycle.
  void arm(bool armed) { armed_ = armed; }

  FlashGeometry geometry() const override { return inner_.geometry(); }
  Result<void> read(std::uint32_t offset, MutableByteView out) override {
    if (stopping()) return ErrorCode::kFlashPowerLost;
    return inner_.read(offset, out);
  }
  Result<void> write(std::uint32_t offset, ByteView data) override {
    if (stopping()) return ErrorCode::kFlashPowerLost;
    return inner_.write(offset, data);
  }
  Result<void> erase(std::uint32_t offset, std::uint32_t length) override {
    if (stopping()) return ErrorCode::kFlashPowerLost;
    return inner_.erase(offset, length);
  }

 private:
  bool stopping() const { return armed_ && stop_.load(); }

  Flash& inner_;
  const std::atomic<bool>& stop_;
  bool armed_ = false;
};

}  // namespace updraft::agent
