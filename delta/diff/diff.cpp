#include "delta/diff/diff.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <thread>

#include "core/codec.h"
#include "core/crc32.h"
#include "crypto/sha256.h"
#include "delta/diff/cover_finder.h"
#include "delta/diff/range_encoder.h"
#include "delta/diff/relocation.h"
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
  bool map_only = false;  // small enough to leave room for a relocation map; tried with one
};
// The last four of mcu-tiny leave room in 8 KiB for a relocation map.
constexpr Shape kTinyShapes[] = {
    {2, 0, 3, 0, 2},       {1, 1, 3, 0, 2},      {2, 0, 2, 1, 2},       {1, 1, 2, 1, 2},
    {2, 0, 3, 0, 0},       {1, 1, 3, 0, 0},      {1, 1, 2, 0, 2, true}, {2, 0, 2, 0, 2, true},
    {1, 0, 3, 0, 2, true}, {1, 0, 2, 0, 2, true}};
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

std::vector<ModelParams> candidate_params(Profile profile, std::uint8_t format_version,
                                          bool with_map) {
  const ProfileInfo& info = profile_info(profile);
  if (format_version == 1) return {info.params};
  std::vector<ModelParams> out;
  for (const Shape& s : shapes_for(profile)) {
    if (s.map_only && !with_map) continue;
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

bool canceled(const std::atomic<bool>* cancel) {
  return cancel != nullptr && cancel->load(std::memory_order_relaxed);
}

Error canceled_error() { return Error(ErrorCode::kCanceled, "the diff was canceled"); }

// Runs fn(0) ... fn(n - 1) on up to 4 threads (as many as the machine has);
// the first error, in index order, if any.
HostResult<void> in_parallel(std::size_t n,
                             const std::function<HostResult<void>(std::size_t)>& fn) {
  std::vector<HostResult<void>> results(n, HostResult<void>{});
  const std::size_t threads =
      std::min<std::size_t>({std::max(1u, std::thread::hardware_concurrency()), 4, n});
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t i = next++; i < n; i = next++) results[i] = fn(i);
  };
  std::vector<std::thread> helpers;
  for (std::size_t t = 1; t < threads; ++t) helpers.emplace_back(work);
  work();
  for (std::thread& t : helpers) t.join();
  for (HostResult<void>& r : results) {
    if (!r.ok()) return r;
  }
  return {};
}

// Where a frame's ops begin, and the old position the previous ops left: frames
// are coded independently (the model restarts at each), given these.
struct FrameStart {
  std::size_t op_index = 0;
  std::int64_t old_pos = 0;
};

// Codes frame `frame` from `start`; returns its payload. With `sample_bytes`, only
// the first sample_bytes of the frame are coded: an op that runs past them is
// cut there (a frame of new data is one long literal op, and coding it whole
// made ranking seven shapes cost seven full codings).
// `model_storage` holds OpModel::prob_count() probabilities, reset here: a
// caller codes many frames with one (up to 4 MiB for linux; allocating it per
// frame cost more than coding under ASan).
std::vector<std::byte> encode_frame(ByteView old_image, ByteView new_image,
                                    const PatchHeader& header, const std::vector<Op>& ops,
                                    std::uint32_t frame, FrameStart start,
                                    std::uint32_t sample_bytes,
                                    std::vector<std::uint16_t>& model_storage) {
  const std::uint32_t frame_start = frame * header.params.frame_size;
  const std::uint32_t frame_end = frame_start + header.frame_length(frame);
  const std::uint32_t code_end =
      sample_bytes != 0 ? std::min(frame_end, frame_start + sample_bytes) : frame_end;
  OpModel model(header.params, model_storage.data());
  model.reset();
  std::vector<std::byte> payload;
  RangeEncoder rc(payload);
  std::int64_t old_pos = start.old_pos;
  for (std::size_t op_index = start.op_index;
       op_index < ops.size() && ops[op_index].new_pos < frame_end; ++op_index) {
    const Op& op = ops[op_index];
    if (op.new_pos >= code_end) break;
    OpHeader h;
    h.seek = op.copy_len > 0 ? static_cast<std::int32_t>(std::int64_t{op.old_pos} - old_pos) : 0;
    h.copy_len = op.copy_len;
    h.lit_len = op.lit_len;
    model.code_op(rc, h);
    old_pos += h.seek;
    std::uint32_t pos = op.new_pos;
    for (std::uint32_t k = 0; k < op.copy_len && pos < code_end; ++k, ++pos, ++old_pos) {
      const auto old_byte =
          std::to_integer<std::uint8_t>(old_image[static_cast<std::size_t>(old_pos)]);
      const auto new_byte = std::to_integer<std::uint8_t>(new_image[pos]);
      model.code_diff(rc, pos, old_byte, static_cast<std::uint8_t>(new_byte - old_byte));
    }
    for (std::uint32_t k = 0; k < op.lit_len && pos < code_end; ++k, ++pos, ++old_pos) {
      const std::uint8_t prev =
          pos == frame_start ? 0 : std::to_integer<std::uint8_t>(new_image[pos - 1]);
      model.code_literal(rc, pos, prev, std::to_integer<std::uint8_t>(new_image[pos]));
    }
  }
  rc.flush();
  return payload;
}

// Codes every frame of `ops` with the model shape in `header`; returns the patch.
// `old_image` is what the patcher will read as old: with relocation prediction,
// the predicted image, and `reloc_block` goes between the header and the frames.
// With `sample_bytes`, only the ops that start in the first sample_bytes of each
// frame are coded, and no CRCs: a quick estimate to rank the ways to code it.
// With `parallel`, frames are coded on all cores (when one job is coded alone).
// Gives up with kCanceled between frames once `options.cancel` turns true, and
// hands each frame's new bytes to `options.release_new` once coded.
HostResult<std::vector<std::byte>> encode_patch(ByteView old_image, ByteView new_image,
                                                const PatchHeader& header,
                                                const std::vector<Op>& ops,
                                                const DiffOptions& options, bool parallel,
                                                ByteView reloc_block = {},
                                                std::uint32_t sample_bytes = 0) {
  // Each frame's first op and old position, as coding them in order would leave it.
  const std::uint32_t frames = header.frame_count();
  std::vector<FrameStart> starts(frames);
  {
    FrameStart at;
    for (std::uint32_t frame = 0; frame < frames; ++frame) {
      starts[frame] = at;
      const std::uint32_t frame_end = frame * header.params.frame_size + header.frame_length(frame);
      for (; at.op_index < ops.size() && ops[at.op_index].new_pos < frame_end; ++at.op_index) {
        const Op& op = ops[at.op_index];
        if (op.copy_len > 0) at.old_pos = op.old_pos;
        at.old_pos += std::int64_t{op.copy_len} + op.lit_len;
      }
    }
  }
  // In `parallel`, one run of consecutive frames per core, each with its own model.
  std::vector<std::vector<std::byte>> payloads(frames);
  const std::size_t runs =
      parallel ? std::min<std::size_t>(frames, std::max(1u, std::thread::hardware_concurrency()))
               : 1;
  const auto code_run = [&](std::size_t run) -> HostResult<void> {
    std::vector<std::uint16_t> model_storage(OpModel::prob_count(header.params));
    for (std::size_t frame = frames * run / runs; frame < frames * (run + 1) / runs; ++frame) {
      if (canceled(options.cancel)) return canceled_error();
      const auto f = static_cast<std::uint32_t>(frame);
      payloads[frame] = encode_frame(old_image, new_image, header, ops, f, starts[frame],
                                     sample_bytes, model_storage);
      if (options.release_new) {
        // All of it, sampled or not: an op that starts in the sample runs on.
        options.release_new(
            new_image.subspan(f * header.params.frame_size, header.frame_length(f)));
      }
      if (payloads[frame].size() > max_payload_size(header.frame_length(f))) {
        return Error(ErrorCode::kInternal, "frame payload exceeds the format's bound");
      }
    }
    return {};
  };
  UPDRAFT_TRY(in_parallel(runs, code_run));

  std::vector<std::byte> patch(kHeaderSize);
  encode_header(header, std::span<std::byte, kHeaderSize>(patch.data(), kHeaderSize));
  patch.insert(patch.end(), reloc_block.begin(), reloc_block.end());
  for (const std::vector<std::byte>& payload : payloads) {
    std::byte frame_header[kFrameHeaderSize];
    store_le32(frame_header, static_cast<std::uint32_t>(payload.size()));
    store_le32(frame_header + 4, sample_bytes != 0 ? 0 : crc32(payload));
    patch.insert(patch.end(), frame_header, frame_header + kFrameHeaderSize);
    patch.insert(patch.end(), payload.begin(), payload.end());
  }
  return patch;
}

// One way to code a patch: a model shape, with a relocation map of at most
// map_cap entries, or none (0).
struct Job {
  ModelParams params;
  std::uint32_t map_cap = 0;
};

// The old image as a map of one size predicts it, and the map's block.
struct Prediction {
  std::vector<RelocEntry> entries;
  RelocMap map{};
  std::vector<std::byte> old_image;
  std::vector<std::byte> block;
};

// How the encoder searches: when there are more ways to code a patch than this,
// each is first coded on the first quarter of every frame (at least
// kMinSampleBytes), and only the best kJobsCodedInFull are coded in full. Models
// restart at each frame, so a longer sample ranks the shapes that learn slowly
// but end sharper (large contexts) more fairly.
constexpr std::size_t kJobsCodedInFull = 2;
constexpr std::uint32_t kMinSampleBytes = 16 * 1024;
// Past this many new bytes (rootfs images, not firmware), one job is coded in full.
constexpr std::uint32_t kLargeImageBytes = 8 * 1024 * 1024;

// Predicts the old image with `map` (all of `entries`) at `base`.
void predict_image(ByteView old_image, Prediction& pr) {
  pr.map.entries = pr.entries.data();
  pr.map.count = static_cast<std::uint32_t>(pr.entries.size());
  pr.old_image.resize(old_image.size());
  predict(pr.map, reinterpret_cast<const std::uint8_t*>(old_image.data()), 0, 0, pr.map.old_size,
          reinterpret_cast<std::uint8_t*>(pr.old_image.data()));
  pr.block = encode_reloc_block(pr.map);
}

// The full map's prediction at the candidate load address that makes the most
// copied bytes exact (a zero diff): a cheap stand-in for coding with each.
Prediction best_base(ByteView old_image, ByteView new_image, const std::vector<Op>& ops,
                     const std::vector<RelocEntry>& map, const std::vector<std::uint32_t>& bases) {
  Prediction best;
  std::uint64_t best_hits = 0;
  for (const std::uint32_t base : bases) {
    Prediction pr;
    pr.entries = map;
    pr.map =
        RelocMap{Arch::kThumb2, base, static_cast<std::uint32_t>(old_image.size()), nullptr, 0};
    predict_image(old_image, pr);
    std::uint64_t hits = 0;
    for (const Op& op : ops) {
      for (std::uint32_t k = 0; k < op.copy_len; ++k) {
        hits += pr.old_image[op.old_pos + k] == new_image[op.new_pos + k];
      }
    }
    if (best.old_image.empty() || hits > best_hits) {
      best = std::move(pr);  // a moved vector keeps its buffer, so map.entries stays valid
      best_hits = hits;
    }
  }
  return best;
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
  // The two hashes (256 MiB of SHA-256 for a 128 MiB pair) on a thread of their
  // own while the suffix sort, which is single-threaded, runs; a MiB at a time,
  // so that a cancel stops them too.
  std::thread hashing([&] {
    const auto digest = [&](ByteView image, Sha256Digest& out, bool release) {
      constexpr std::size_t kSlice = std::size_t{1} << 20;
      Sha256 sha;
      for (std::size_t at = 0; at < image.size(); at += kSlice) {
        if (canceled(options.cancel)) return;
        const ByteView slice = image.subspan(at, std::min(kSlice, image.size() - at));
        sha.update(slice);
        if (release && options.release_new) options.release_new(slice);
      }
      out = sha.finish();
    };
    digest(old_image, header.old_hash, false);
    digest(new_image, header.new_hash, true);
  });

  report("index", 0, old_image.size());
  // A rootfs-sized image: a sparse index, and coding ranked on less of each frame.
  const bool large = header.new_size > kLargeImageBytes;
  CoverOptions cover_options;
  // The anchored scan looks back at most 1 MiB from where it is; what lies
  // some MiB behind is let go as it goes.
  constexpr std::uint32_t kKeptBehind = 4u << 20;
  std::uint32_t released_to = 0;
  cover_options.progress = [&](std::uint32_t pos) {
    report("match", pos, new_image.size());
    if (options.release_new && pos > released_to + 2 * kKeptBehind) {
      options.release_new(new_image.subspan(released_to, pos - kKeptBehind - released_to));
      released_to = pos - kKeptBehind;
    }
  };
  cover_options.cancel = options.cancel;
  std::vector<Cover> covers;
  const auto cover_with = [&](const auto& index) {
    report("index", old_image.size(), old_image.size());
    covers = find_covers(old_image, new_image, index, cover_options);
  };
  // Either index is let go before coding allocates its buffers: the two never
  // peak together.
  if (large) {
    // A few bytes per anchor rather than a suffix array's 4 per old byte, so
    // the diff holds about one image's worth.
    const AnchorIndex index = AnchorIndex::build(old_image, options.cancel);
    hashing.join();
    if (canceled(options.cancel)) return canceled_error();
    cover_with(index);
  } else {
    HostResult<SuffixArray> built = SuffixArray::build(old_image);
    hashing.join();
    UPDRAFT_TRY_ASSIGN(SuffixArray index, std::move(built));
    if (canceled(options.cancel)) return canceled_error();
    cover_with(index);
  }
  if (canceled(options.cancel)) return canceled_error();
  report("match", new_image.size(), new_image.size());
  if (options.release_new) options.release_new(new_image.subspan(released_to));
  const std::vector<ModelParams> shapes =
      options.params ? std::vector<ModelParams>{*options.params}
                     : candidate_params(options.profile, options.format_version, true);
  const std::vector<ModelParams> plain_shapes =
      options.params ? shapes : candidate_params(options.profile, options.format_version, false);
  for (const ModelParams& params : shapes) {
    // The decoder is the judge of a valid shape: what it would not read back
    // the same is refused here.
    header.params = params;
    header.workspace_bytes = workspace_bytes(params);
    std::array<std::byte, kHeaderSize> encoded;
    encode_header(header, encoded);
    const Result<PatchHeader> decoded = decode_header(encoded);
    if (!decoded.ok() || !(decoded->params == params) ||
        shapes.front().frame_size != params.frame_size) {
      return Error(ErrorCode::kInvalidArgument, "model shape is not valid for patch format " +
                                                    std::to_string(options.format_version));
    }
  }
  // All shapes share a frame size, so one op plan serves them all.
  const std::vector<Op> ops = plan_ops(covers, header.new_size, shapes.front().frame_size);

  // Relocation prediction: tried on a Cortex-M image (or when asked for), at the
  // load address whose prediction turns the most copied bytes into zero diffs.
  // One predicted old image per map size; the full map's comes with the base.
  std::map<std::uint32_t, Prediction> predictions;
  std::vector<RelocEntry> full_map;
  if (options.format_version >= 2 && options.arch != Arch::kNone) {
    std::vector<std::uint32_t> bases = thumb2_base_candidates(old_image);
    if (!bases.empty() || options.arch == Arch::kThumb2) {
      if (bases.empty()) bases.push_back(0);
      full_map = layout_map(covers);
      if (!full_map.empty()) {
        predictions.emplace(static_cast<std::uint32_t>(full_map.size()),
                            best_base(old_image, new_image, ops, full_map, bases));
      }
    }
  }

  // The ways to code it: with prediction, each shape with as large a map as its
  // room allows; and each shape without a map, unless prediction is forced and
  // has a way. Plain ones go first, so they win a tie.
  std::vector<Job> jobs;
  const std::uint32_t limit = profile_info(options.profile).workspace_limit;
  if (!full_map.empty() && (!options.params || options.arch)) {
    for (const ModelParams& params : shapes) {
      const std::uint32_t used = workspace_bytes(params) + kRelocWindowBytes;
      // A forced shape takes the whole map; the profile's own stay in budget.
      const std::size_t room = options.params ? full_map.size()
                               : used < limit ? (limit - used) / 8
                                              : 0;
      const auto cap = static_cast<std::uint32_t>(
          std::min<std::size_t>({room, full_map.size(), kMaxRelocEntries}));
      if (cap > 0) jobs.push_back({params, cap});
    }
  }
  if (options.arch != Arch::kThumb2 || jobs.empty()) {
    std::vector<Job> plain;
    for (const ModelParams& params : plain_shapes) plain.push_back({params, 0});
    jobs.insert(jobs.begin(), plain.begin(), plain.end());
  }
  for (const Job& job : jobs) {
    if (job.map_cap == 0 || predictions.count(job.map_cap) != 0) continue;
    Prediction pr;
    pr.entries = limit_map(full_map, header.old_size, job.map_cap);
    pr.map = predictions.at(static_cast<std::uint32_t>(full_map.size())).map;  // arch and base
    predict_image(old_image, pr);
    predictions.emplace(job.map_cap, std::move(pr));
  }

  // Rank every job by a sample of each frame, then code the best few in full;
  // keep the smallest, the first of equals, so that the result never depends on
  // the threads' timing. Jobs share only read-only inputs.
  const auto code_job = [&](const Job& job, std::uint32_t sample, bool parallel) {
    PatchHeader h = header;
    h.params = job.params;
    const Prediction* pr = job.map_cap > 0 ? &predictions.at(job.map_cap) : nullptr;
    h.reloc_count = pr != nullptr ? pr->map.count : 0;
    h.workspace_bytes = workspace_bytes(h.params, h.reloc_count);
    return pr != nullptr
               ? encode_patch(pr->old_image, new_image, h, ops, options, parallel, pr->block,
                              sample)
               : encode_patch(old_image, new_image, h, ops, options, parallel, {}, sample);
  };
  // A rootfs-sized image ranks on a sixteenth of each frame and codes only the
  // best in full, its frames on all cores: coding dominated a 64 MiB diff.
  const std::size_t coded_in_full = large ? 1 : kJobsCodedInFull;
  const std::uint32_t frame_size = shapes.front().frame_size;
  const std::uint32_t sample_bytes = std::max(kMinSampleBytes, frame_size / (large ? 16 : 4));
  const bool sampling =
      jobs.size() > coded_in_full && std::min(frame_size, header.new_size) > sample_bytes;
  std::vector<std::size_t> finalists(jobs.size());
  for (std::size_t i = 0; i < jobs.size(); ++i) finalists[i] = i;
  if (sampling) {
    std::vector<std::size_t> estimate(jobs.size());
    UPDRAFT_TRY(in_parallel(jobs.size(), [&](std::size_t i) -> HostResult<void> {
      UPDRAFT_TRY_ASSIGN(std::vector<std::byte> sample, code_job(jobs[i], sample_bytes, false));
      estimate[i] = sample.size();
      return {};
    }));
    std::stable_sort(finalists.begin(), finalists.end(),
                     [&](std::size_t a, std::size_t b) { return estimate[a] < estimate[b]; });
    finalists.resize(coded_in_full);
    std::sort(finalists.begin(), finalists.end());
    report("encode", jobs.size(), jobs.size() + finalists.size());
  }
  std::vector<std::vector<std::byte>> patches(finalists.size());
  UPDRAFT_TRY(in_parallel(finalists.size(), [&](std::size_t i) -> HostResult<void> {
    UPDRAFT_TRY_ASSIGN(patches[i], code_job(jobs[finalists[i]], 0, finalists.size() == 1));
    return {};
  }));
  report("encode", 1, 1);
  std::size_t best_index = 0;
  for (std::size_t i = 1; i < patches.size(); ++i) {
    if (patches[i].size() < patches[best_index].size()) best_index = i;
  }
  std::vector<std::byte> best = std::move(patches[best_index]);
  const std::size_t kept = finalists[best_index];
  const RelocMap kept_map =
      jobs[kept].map_cap > 0 ? predictions.at(jobs[kept].map_cap).map : RelocMap{};

  if (stats != nullptr) {
    *stats = {};
    stats->covers = static_cast<std::uint32_t>(covers.size());
    stats->ops = static_cast<std::uint32_t>(ops.size());
    stats->shapes_tried = static_cast<std::uint32_t>(jobs.size());
    stats->arch = kept_map.count > 0 ? kept_map.arch : Arch::kNone;
    stats->reloc_base = kept_map.count > 0 ? kept_map.base : 0;
    stats->reloc_entries = kept_map.count;
    for (const Op& op : ops) {
      stats->copied_bytes += op.copy_len;
      stats->literal_bytes += op.lit_len;
    }
  }
  return best;
}

}  // namespace updraft::delta
