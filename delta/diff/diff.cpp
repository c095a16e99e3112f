#include "delta/diff/diff.h"

#include <algorithm>

#include "core/codec.h"
#include "core/crc32.h"
#include "crypto/sha256.h"
#include "delta/diff/cover_finder.h"
#include "delta/diff/range_encoder.h"
#include "delta/diff/suffix_array.h"
#include "delta/format/op_model.h"

namespace updraft::delta {
namespace {

struct Op {
  std::uint32_t new_pos = 0;
  std::uint32_t old_pos = 0;  // where the copy starts (meaningful when copy_len > 0)
  std::uint32_t copy_len = 0;
  std::uint32_t lit_len = 0;
};

// Covers plus the literal gaps between them become ops; ops never cross a frame
// boundary, so each frame decodes on its own.
std::vector<Op> plan_ops(const std::vector<Cover>& covers, std::uint32_t new_size,
                         std::uint32_t frame_size) {
  std::vector<Op> ops;
  auto add = [&](Op op) {
    while (op.copy_len + op.lit_len > 0) {
      const std::uint32_t frame_end = (op.new_pos / frame_size + 1) * frame_size;
      const std::uint32_t room = frame_end - op.new_pos;
      Op part = op;
      part.copy_len = std::min(op.copy_len, room);
      part.lit_len = std::min(op.lit_len, room - part.copy_len);
      ops.push_back(part);
      const std::uint32_t used = part.copy_len + part.lit_len;
      op.new_pos += used;
      op.old_pos += used;
      op.copy_len -= part.copy_len;
      op.lit_len -= part.lit_len;
    }
  };
  std::uint32_t pos = 0;
  std::size_t i = 0;
  if (!covers.empty() && covers[0].new_pos > 0) {
    add({0, 0, 0, covers[0].new_pos});
    pos = covers[0].new_pos;
  } else if (covers.empty() && new_size > 0) {
    add({0, 0, 0, new_size});
    pos = new_size;
  }
  for (; i < covers.size(); ++i) {
    const Cover& c = covers[i];
    const std::uint32_t next = i + 1 < covers.size() ? covers[i + 1].new_pos : new_size;
    add({c.new_pos, c.old_pos, c.length, next - (c.new_pos + c.length)});
    pos = next;
  }
  (void)pos;
  return ops;
}

}  // namespace

HostResult<std::vector<std::byte>> make_patch(ByteView old_image, ByteView new_image,
                                              const DiffOptions& options, DiffStats* stats) {
  if (old_image.size() > kMaxImageSize || new_image.size() > kMaxImageSize) {
    return Error(ErrorCode::kPatchInputTooLarge, "images above 2 GiB are not supported");
  }
  const ProfileInfo& profile = profile_info(options.profile);
  auto report = [&](const char* stage, std::uint64_t done, std::uint64_t total) {
    if (options.progress) options.progress(stage, done, total);
  };

  PatchHeader header;
  header.profile = static_cast<std::uint8_t>(options.profile);
  header.params = profile.params;
  header.workspace_bytes = workspace_bytes(header.params);
  header.old_size = static_cast<std::uint32_t>(old_image.size());
  header.new_size = static_cast<std::uint32_t>(new_image.size());
  header.old_hash = Sha256::digest(old_image);
  header.new_hash = Sha256::digest(new_image);

  report("index", 0, old_image.size());
  UPDRAFT_TRY_ASSIGN(SuffixArray index, SuffixArray::build(old_image));
  report("index", old_image.size(), old_image.size());
  CoverOptions cover_options;
  cover_options.progress = [&](std::uint32_t pos) { report("match", pos, new_image.size()); };
  const std::vector<Cover> covers = find_covers(old_image, new_image, index, cover_options);
  report("match", new_image.size(), new_image.size());
  const std::vector<Op> ops = plan_ops(covers, header.new_size, header.params.frame_size);

  std::vector<std::byte> patch(kHeaderSize);
  encode_header(header, std::span<std::byte, kHeaderSize>(patch.data(), kHeaderSize));

  std::vector<std::uint16_t> model_storage(OpModel::prob_count(header.params));
  OpModel model(header.params, model_storage.data());
  std::vector<std::byte> payload;
  std::int64_t old_pos = 0;
  std::size_t op_index = 0;
  for (std::uint32_t frame = 0; frame < header.frame_count(); ++frame) {
    const std::uint32_t frame_start = frame * header.params.frame_size;
    const std::uint32_t frame_end = frame_start + header.frame_length(frame);
    model.reset();
    payload.clear();
    RangeEncoder rc(payload);
    for (; op_index < ops.size() && ops[op_index].new_pos < frame_end; ++op_index) {
      const Op& op = ops[op_index];
      OpHeader h;
      h.seek = op.copy_len > 0 ? static_cast<std::int32_t>(std::int64_t{op.old_pos} - old_pos) : 0;
      h.copy_len = op.copy_len;
      h.lit_len = op.lit_len;
      model.code_op(rc, h);
      old_pos += h.seek;
      std::uint32_t pos = op.new_pos;
      for (std::uint32_t k = 0; k < op.copy_len; ++k, ++pos, ++old_pos) {
        const auto old_byte =
            std::to_integer<std::uint8_t>(old_image[static_cast<std::size_t>(old_pos)]);
        const auto new_byte = std::to_integer<std::uint8_t>(new_image[pos]);
        model.code_diff(rc, pos, old_byte, static_cast<std::uint8_t>(new_byte - old_byte));
      }
      for (std::uint32_t k = 0; k < op.lit_len; ++k, ++pos, ++old_pos) {
        const std::uint8_t prev =
            pos == frame_start ? 0 : std::to_integer<std::uint8_t>(new_image[pos - 1]);
        model.code_literal(rc, prev, std::to_integer<std::uint8_t>(new_image[pos]));
      }
    }
    rc.flush();
    if (payload.size() > max_payload_size(frame_end - frame_start)) {
      return Error(ErrorCode::kInternal, "frame payload exceeds the format's bound");
    }
    std::byte frame_header[kFrameHeaderSize];
    store_le32(frame_header, static_cast<std::uint32_t>(payload.size()));
    store_le32(frame_header + 4, crc32(payload));
    patch.insert(patch.end(), frame_header, frame_header + kFrameHeaderSize);
    patch.insert(patch.end(), payload.begin(), payload.end());
    report("encode", frame_end, header.new_size);
  }

  if (stats != nullptr) {
    *stats = {};
    stats->covers = static_cast<std::uint32_t>(covers.size());
    stats->ops = static_cast<std::uint32_t>(ops.size());
    for (const Op& op : ops) {
      stats->copied_bytes += op.copy_len;
      stats->literal_bytes += op.lit_len;
    }
  }
  return patch;
}

}  // namespace updraft::delta
