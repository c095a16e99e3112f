#include "delta/patch/host/apply.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <string>

#include "core/host/file.h"
#include "delta/format/layout.h"

namespace updraft::delta {

Result<void> MemoryImageReader::read(std::uint32_t offset, MutableByteView out) {
  if (offset > image_.size() || out.size() > image_.size() - offset) return ErrorCode::kIoError;
  std::memcpy(out.data(), image_.data() + offset, out.size());
  return {};
}

Result<void> VectorImageWriter::write(std::uint32_t offset, ByteView data) {
  if (offset != bytes_.size()) return ErrorCode::kIoError;
  bytes_.insert(bytes_.end(), data.begin(), data.end());
  return {};
}

Result<void> FileImageWriter::write(std::uint32_t offset, ByteView data) {
  if (offset != written_ || !write_at(fd_, data.data(), data.size(), offset)) {
    return ErrorCode::kIoError;
  }
  written_ += data.size();
  return {};
}

namespace {

// Runs the patcher over the whole of `patch` into `writer`.
HostResult<void> run_patcher(ByteView old_image, ByteView patch, ImageWriter& writer,
                             const ApplyOptions& options) {
  if (is_layout_block(patch)) {
    return Error(ErrorCode::kPatchBadMagic,
                 "this is a segmented patch (it starts with a layout block): apply it to the old "
                 "image as Intel HEX or ELF");
  }
  std::size_t workspace_size = options.workspace_bytes;
  if (workspace_size == 0) {
    if (patch.size() < kHeaderSize) {
      return Error(ErrorCode::kPatchTruncated, "patch is shorter than its header");
    }
    UPDRAFT_TRY_ASSIGN(PatchHeader header, decode_header(std::span<const std::byte, kHeaderSize>(
                                               patch.data(), kHeaderSize)));
    workspace_size = header.workspace_bytes + 3;  // covers a misaligned vector start
  }
  std::vector<std::byte> workspace(workspace_size);
  MemoryImageReader reader(old_image);
  Patcher patcher(reader, writer, workspace);
  std::size_t pos = 0;
  while (pos < patch.size()) {
    const std::size_t n = std::min(options.chunk_size, patch.size() - pos);
    UPDRAFT_TRY_ASSIGN(Patcher::FeedResult fed, patcher.feed(patch.subspan(pos, n)));
    pos += fed.consumed;
    if (fed.done && pos < patch.size()) {
      return Error(ErrorCode::kPatchTrailingData,
                   std::to_string(patch.size() - pos) + " bytes follow the end of the patch");
    }
  }
  Result<void> finished = patcher.finish();
  if (!finished.ok()) {
    return Error(finished.error(), std::string(describe(finished.error())) + " (applied " +
                                       std::to_string(patcher.new_offset()) + " bytes)");
  }
  return {};
}

}  // namespace

HostResult<std::vector<std::byte>> apply_patch(ByteView old_image, ByteView patch,
                                               const ApplyOptions& options) {
  VectorImageWriter writer;
  UPDRAFT_TRY(run_patcher(old_image, patch, writer, options));
  return std::move(writer.bytes());
}

HostResult<std::uint64_t> apply_patch_to_file(ByteView old_image, ByteView patch,
                                              const std::string& path,
                                              const ApplyOptions& options) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Error(ErrorCode::kIoError, "cannot create " + tmp + ": " + std::strerror(errno));
  }
  FileImageWriter writer(fd);
  HostResult<void> applied = run_patcher(old_image, patch, writer, options);
  const bool closed = ::close(fd) == 0;
  if (applied.ok() && !closed) applied = Error(ErrorCode::kIoError, "cannot write " + tmp);
  if (applied.ok() && std::rename(tmp.c_str(), path.c_str()) != 0) {
    applied = Error(ErrorCode::kIoError,
                    "cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
  }
  if (!applied.ok()) {
    std::remove(tmp.c_str());
    return applied.error();
  }
  return writer.written();
}

namespace {

std::string describe_span(const SegmentSpan& s) {
  char text[64];
  std::snprintf(text, sizeof text, "%u bytes at 0x%08x", s.size, s.address);
  return text;
}

}  // namespace

HostResult<FirmwareImage> apply_segmented_patch(const FirmwareImage& old_image, ByteView patch,
                                                const ApplyOptions& options) {
  if (!is_layout_block(patch)) {
    if (old_image.segments.size() > 1 ||
        (!old_image.segments.empty() && old_image.segments[0].address != 0)) {
      return Error(ErrorCode::kPatchWrongBase,
                   "this patch has no layout block: it applies to a raw binary, not to load "
                   "segments at addresses");
    }
    // A raw image is read in place and the new one kept as made: no copies of
    // a rootfs-sized image.
    std::vector<std::byte> storage;
    UPDRAFT_TRY_ASSIGN(std::vector<std::byte> image,
                       apply_patch(old_image.linear_view(storage), patch, options));
    FirmwareImage out;
    if (!image.empty()) out.segments.push_back({0, std::move(image)});
    return out;
  }
  std::vector<SegmentSpan> old_spans(kMaxLayoutSegments), new_spans(kMaxLayoutSegments);
  Result<LayoutCounts> counts = decode_layout(patch, old_spans, new_spans);
  if (!counts.ok()) {
    return Error(counts.error(), "layout block: " + std::string(describe(counts.error())));
  }
  old_spans.resize(counts->old_count);
  new_spans.resize(counts->new_count);

  const std::vector<SegmentSpan> have = old_image.spans();
  const bool raw_stands_in = old_image.format == FirmwareFormat::kRaw && have.size() == 1 &&
                             old_spans.size() == 1 && have[0].size == old_spans[0].size;
  if (!raw_stands_in && have != old_spans) {
    std::size_t i = 0;
    while (i < have.size() && i < old_spans.size() && have[i] == old_spans[i]) ++i;
    const std::string wanted = i < old_spans.size() ? describe_span(old_spans[i]) : "nothing more";
    const std::string found = i < have.size() ? describe_span(have[i]) : "nothing more";
    return Error(ErrorCode::kPatchWrongBase, "old image's load segment " + std::to_string(i + 1) +
                                                 " is " + found + ", the patch was made for " +
                                                 wanted);
  }
  std::vector<std::byte> storage;
  UPDRAFT_TRY_ASSIGN(
      std::vector<std::byte> image,
      apply_patch(old_image.linear_view(storage), patch.subspan(counts->block_size()), options));
  if (image.size() != total_size(new_spans)) {
    return Error(ErrorCode::kPatchCorrupt,
                 "layout block's new segments hold " + std::to_string(total_size(new_spans)) +
                     " bytes, the patch made " + std::to_string(image.size()));
  }
  return split_linear(image, new_spans);
}

}  // namespace updraft::delta
