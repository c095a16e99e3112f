// NOR flash backed by a file, with the rules a driver enforces (agent/port/flash.h):
// erase by sector, program only erased bytes, aligned writes. A Linux-class device
// can run the agent over it; the simulator can keep a device's flash across runs.
#pragma once

#include <memory>
#include <string>

#include "agent/port/flash.h"
#include "core/host/error.h"

namespace updraft::agent {

class FileFlash final : public Flash {
 public:
  // Opens `path`, creating it fully erased if it does not exist; an existing file
  // must have exactly geometry.size bytes. With `sync`, every write and erase is on
  // disk (fdatasync) before it returns, as a record store needs on a real device.
  static HostResult<std::unique_ptr<FileFlash>> open(const std::string& path,
                                                     FlashGeometry geometry, bool sync = false);
  ~FileFlash();
  FileFlash(const FileFlash&) = delete;
  FileFlash& operator=(const FileFlash&) = delete;

  FlashGeometry geometry() const override { return geometry_; }
  Result<void> read(std::uint32_t offset, MutableByteView out) override;
  Result<void> write(std::uint32_t offset, ByteView data) override;
  Result<void> erase(std::uint32_t offset, std::uint32_t length) override;

 private:
  FileFlash(int fd, FlashGeometry geometry, bool sync)
      : fd_(fd), geometry_(geometry), sync_(sync) {}

  int fd_;
  FlashGeometry geometry_;
  bool sync_;
};

}  // namespace updraft::agent
