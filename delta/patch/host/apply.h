// Host conveniences around the streaming Patcher: images in memory, whole-patch apply.
#pragma once

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "core/host/error.h"
#include "delta/format/host/firmware_file.h"
#include "delta/patch/patcher.h"

namespace updraft::delta {

class MemoryImageReader final : public ImageReader {
 public:
  explicit MemoryImageReader(ByteView image) : image_(image) {}
  std::uint32_t size() const override { return static_cast<std::uint32_t>(image_.size()); }
  Result<void> read(std::uint32_t offset, MutableByteView out) override;

 private:
  ByteView image_;
};

// Collects the new image; refuses writes that are not at the expected offset, as
// the patcher promises to write front to back.
class VectorImageWriter final : public ImageWriter {
 public:
  Result<void> write(std::uint32_t offset, ByteView data) override;
  std::vector<std::byte>& bytes() { return bytes_; }
  // After a resume the writer continues at the checkpoint's offset.
  void truncate(std::size_t size) { bytes_.resize(size); }

 private:
  std::vector<std::byte> bytes_;
};

// Writes the new image to an open file, front to back, as the patcher promises.
class FileImageWriter final : public ImageWriter {
 public:
  explicit FileImageWriter(int fd) : fd_(fd) {}
  Result<void> write(std::uint32_t offset, ByteView data) override;
  std::uint64_t written() const { return written_; }

 private:
  int fd_;
  std::uint64_t written_ = 0;
};

struct ApplyOptions {
  std::size_t chunk_size = 64 * 1024;  // feed granularity
  std::size_t workspace_bytes = 0;     // 0: what the header asks for
};

// Applies a whole patch held in memory; the result is verified against the header.
// A segmented patch is refused (kPatchBadMagic): it needs apply_segmented_patch().
HostResult<std::vector<std::byte>> apply_patch(ByteView old_image, ByteView patch,
                                               const ApplyOptions& options = {});

// The same, streaming the new image into `path` (through "<path>.tmp", renamed
// once it is verified, so a failure leaves no file there): a rootfs image is
// never held in memory. Gives the new image's size.
HostResult<std::uint64_t> apply_patch_to_file(ByteView old_image, ByteView patch,
                                              const std::string& path,
                                              const ApplyOptions& options = {});

// Applies a segmented patch (a layout block, then a patch): the old image's load
// segments must be the block's old table (kPatchWrongBase names the first that is
// not; a raw old image stands for a one-segment table at any address), and the
// result has the block's new segments. A patch without a layout block applies to a
// raw old image, and the result is one segment at address 0.
HostResult<FirmwareImage> apply_segmented_patch(const FirmwareImage& old_image, ByteView patch,
                                                const ApplyOptions& options = {});

}  // namespace updraft::delta
