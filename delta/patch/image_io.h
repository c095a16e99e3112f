// What the patcher reads the old image through and writes the new image to
// (portable). On a device these wrap flash slots; on the host, memory or files.
#pragma once

#include <cstdint>

#include "core/bytes.h"
#include "core/result.h"

namespace updraft::delta {

// Random-access reads of the running image.
class ImageReader {
 public:
  virtual std::uint32_t size() const = 0;
  // Fills `out` from `offset`; offset + out.size() <= size().
  virtual Result<void> read(std::uint32_t offset, MutableByteView out) = 0;

 protected:
  ~ImageReader() = default;
};

// Front-to-back writes of the new image. The patcher writes each byte once, in
// order, in chunks whose offsets are multiples of kOutputBufferBytes (256) except
// where the image ends; after a resume it continues at the checkpoint's offset.
class ImageWriter {
 public:
  virtual Result<void> write(std::uint32_t offset, ByteView data) = 0;

 protected:
  ~ImageWriter() = default;
};

}  // namespace updraft::delta
