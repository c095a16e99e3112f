#include "delta/diff/diff.h"

#include <algorithm>
#include <array>
#include <span>
#include <string>

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

// Version 2 shapes worth trying per profile: {lit_ctx, lit_pos, diff_ctx, diff_pos,
// pos_ctx}. Which one wins depends on the image (word-aligned Thumb-2 code likes
// position contexts, Xtensa's 24-bit instructions do not), so the encoder codes
// each and keeps the smallest. Shapes over the profile's workspace are skipped.
struct Shape {
  std::uint8_t lit, lit_pos, diff, diff_pos, pos;
};
constexpr Shape kTinyShapes[] = {{2, 0, 3, 0, 2}, {1, 1, 3, 0, 2}, {2, 0, 2, 1, 2},
                                 {1, 1, 2, 1, 2}, {2, 0, 3, 0, 0}, {1, 1, 3, 0, 0}};
constexpr Shape kMcuShapes[] = {
    {5, 0, 4, 0, 2}, {4, 1, 4, 0, 2}, {5, 0, 3, 1, 2}, {4, 1, 3, 1, 2}, {3, 2, 3, 1, 2}};
constexpr Shape kLinuxShapes[] = {{8, 0, 3, 0, 2}, {8, 1, 3, 0, 2}, {8, 1, 3, 1, 2},
                                  {7, 2, 3, 1, 2}, {8, 0, 3, 1, 2}, {2, 0, 3, 0, 2},
                                  {1, 1, 3, 0, 2}};

std::span<const Shape> shapes_for(Profile profile) {
  switch (profile) {
    case Profile::kMcuTiny:
      return kTinyShapes;
    case Profile::kMcu:
      return kMcuShapes;
    case Profile::kLinux:
      break;
  }
  return kLinuxShapes;
}

}  // namespace

std::vector<ModelParams> candidate_params(Profile profile, std::uint8_t format_version) {
  const ProfileInfo& info = profile_info(profile);
  if (format_version == 1) return {info.params};
  std::vector<ModelParams> out;
  for (const Shape& s : shapes_for(profile)) {
    ModelParams p;
    p.lit_ctx_bits = s.lit;
    p.lit_pos_bits = s.lit_pos;
    p.diff_ctx_bits = s.diff;
    p.diff_pos_bits = s.diff_pos;
    p.pos_ctx_bits = s.pos;
    p.adaptive_rate = true;
    p.frame_size = info.params.frame_size;
    if (workspace_bytes(p) <= info.workspace_limit) out.push_back(p);
  }
  return out;
}

namespace {

// Codes every frame of `ops` with the model shape in `header`; returns the patch.
HostResult<std::vector<std::byte>> encode_patch(ByteView old_image, ByteView new_image,
                                                const PatchHeader& header,
                                                const std::vector<Op>& ops) {
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
        model.code_literal(rc, pos, prev, std::to_integer<std::uint8_t>(new_image[pos]));
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
  }
  return patch;
}

}  // namespace

HostResult<std::vector<std::byte>> make_patch(ByteView old_image, ByteView new_image,
                                              const DiffOptions& options, DiffStats* stats) {
  if (old_image.size() > kMaxImageSize || new_image.size() > kMaxImageSize) {
    return Error(ErrorCode::kPatchInputTooLarge, "images above 2 GiB are not supported");
  }
  if (options.format_version < kOldestFormatVersion || options.format_version > kFormatVersion) {
    return Error(ErrorCode::kInvalidArgument, "patch format version " +
                                                  std::to_string(options.format_version) +
                                                  " is not supported (use 1 or 2)");
  }
  auto report = [&](const char* stage, std::uint64_t done, std::uint64_t total) {
    if (options.progress) options.progress(stage, done, total);
  };

  PatchHeader header;
  header.version = options.format_version;
  header.profile = static_cast<std::uint8_t>(options.profile);
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
  const std::vector<ModelParams> shapes =
      options.params ? std::vector<ModelParams>{*options.params}
                     : candidate_params(options.profile, options.format_version);
  // All shapes share a frame size, so one op plan serves them all.
  const std::vector<Op> ops = plan_ops(covers, header.new_size, shapes.front().frame_size);

  std::vector<std::byte> best;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    header.params = shapes[i];
    header.workspace_bytes = workspace_bytes(header.params);
    // The decoder is the judge of a valid shape: what it would not read back
    // the same is refused here.
    std::array<std::byte, kHeaderSize> encoded;
    encode_header(header, encoded);
    const Result<PatchHeader> decoded = decode_header(encoded);
    if (!decoded.ok() || !(decoded->params == header.params) ||
        shapes.front().frame_size != header.params.frame_size) {
      return Error(ErrorCode::kInvalidArgument, "model shape is not valid for patch format " +
                                                    std::to_string(options.format_version));
    }
    UPDRAFT_TRY_ASSIGN(std::vector<std::byte> patch,
                       encode_patch(old_image, new_image, header, ops));
    if (best.empty() || patch.size() < best.size()) best = std::move(patch);
    report("encode", i + 1, shapes.size());
  }

  if (stats != nullptr) {
    *stats = {};
    stats->covers = static_cast<std::uint32_t>(covers.size());
    stats->ops = static_cast<std::uint32_t>(ops.size());
    stats->shapes_tried = static_cast<std::uint32_t>(shapes.size());
    for (const Op& op : ops) {
      stats->copied_bytes += op.copy_len;
      stats->literal_bytes += op.lit_len;
    }
  }
  return best;
}

}  // namespace updraft::delta
