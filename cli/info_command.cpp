// `updraft info PATCH [--json]`: what a patch binds and what it costs a device.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "cli/output.h"
#include "core/codec.h"
#include "core/host/file.h"
#include "delta/format/layout.h"
#include "delta/format/patch_format.h"

namespace updraft::cli {
namespace {

struct InfoArgs {
  std::string patch_path;
  bool json = false;
};

int run_info(const InfoArgs& args) {
  HostResult<std::vector<std::byte>> patch = read_file(args.patch_path);
  if (!patch.ok()) return report_error(patch.error());
  const std::size_t file_bytes = patch->size();
  // A segmented patch: the layout block, then an ordinary patch (read below without it).
  std::vector<delta::SegmentSpan> old_spans(delta::kMaxLayoutSegments),
      new_spans(delta::kMaxLayoutSegments);
  std::size_t layout_bytes = 0;
  if (delta::is_layout_block(*patch)) {
    Result<delta::LayoutCounts> counts = delta::decode_layout(*patch, old_spans, new_spans);
    if (!counts.ok()) {
      return report_error(
          Error(counts.error(), "layout block: " + std::string(describe(counts.error()))));
    }
    old_spans.resize(counts->old_count);
    new_spans.resize(counts->new_count);
    layout_bytes = counts->block_size();
    patch->erase(patch->begin(), patch->begin() + static_cast<std::ptrdiff_t>(layout_bytes));
  }
  if (patch->size() < delta::kHeaderSize) {
    return report_error(Error(ErrorCode::kPatchTruncated, "file is shorter than a patch header"));
  }
  Result<delta::PatchHeader> decoded = delta::decode_header(
      std::span<const std::byte, delta::kHeaderSize>(patch->data(), delta::kHeaderSize));
  if (!decoded.ok()) return report_error(Error(decoded.error()));
  const delta::PatchHeader& h = *decoded;

  // The relocation block, if any: its head, then 2 varints per map entry, then a CRC.
  std::size_t pos = delta::kHeaderSize;
  std::uint32_t reloc_arch = 0, reloc_base = 0;
  std::size_t reloc_bytes = 0;
  if (h.reloc_count > 0 && pos + delta::kRelocBlockHeadSize <= patch->size()) {
    reloc_arch = std::to_integer<std::uint8_t>((*patch)[pos]);
    reloc_base = load_le32(patch->data() + pos + 4);
    std::size_t at = pos + delta::kRelocBlockHeadSize;
    for (std::uint64_t ends = 0; ends < 2ull * h.reloc_count && at < patch->size(); ++at) {
      if ((std::to_integer<std::uint8_t>((*patch)[at]) & 0x80) == 0) ++ends;
    }
    reloc_bytes = at + 4 - pos;
    pos += reloc_bytes;
  }
  // Walk the frame headers to show how the payload splits; a short file is reported, not trusted.
  std::uint64_t largest_frame = 0;
  std::uint32_t frames_present = 0;
  while (frames_present < h.frame_count() && pos + delta::kFrameHeaderSize <= patch->size()) {
    const std::uint32_t size = load_le32(patch->data() + pos);
    largest_frame = std::max<std::uint64_t>(largest_frame, size);
    pos += delta::kFrameHeaderSize + size;
    ++frames_present;
  }
  const bool complete = frames_present == h.frame_count() && pos == patch->size();

  nlohmann::json j = {
      {"format_version", h.version},
      {"profile", std::string(delta::profile_name(h.profile))},
      {"codec", h.codec},
      {"patch_bytes", file_bytes},
      {"old_size", h.old_size},
      {"new_size", h.new_size},
      {"old_sha256", hex(h.old_hash.data(), h.old_hash.size())},
      {"new_sha256", hex(h.new_hash.data(), h.new_hash.size())},
      {"workspace_bytes", h.workspace_bytes},
      {"frame_size", h.params.frame_size},
      {"frames", h.frame_count()},
      {"largest_frame_payload", largest_frame},
      {"model",
       {{"lit_ctx_bits", h.params.lit_ctx_bits},
        {"diff_ctx_bits", h.params.diff_ctx_bits},
        {"pos_ctx_bits", h.params.pos_ctx_bits},
        {"diff_pos_bits", h.params.diff_pos_bits},
        {"lit_pos_bits", h.params.lit_pos_bits},
        {"adaptive_rate", h.params.adaptive_rate}}},
      {"complete", complete},
  };
  if (h.reloc_count > 0) {
    j["relocation"] = {{"arch", reloc_arch == 1 ? "thumb2" : "unknown"},
                       {"load_address", reloc_base},
                       {"map_entries", h.reloc_count},
                       {"block_bytes", reloc_bytes}};
  }
  const auto span_list = [](const std::vector<delta::SegmentSpan>& spans) {
    nlohmann::json list = nlohmann::json::array();
    for (const delta::SegmentSpan& s : spans) {
      list.push_back({{"address", s.address}, {"size", s.size}});
    }
    return list;
  };
  if (layout_bytes > 0) {
    j["layout"] = {{"block_bytes", layout_bytes},
                   {"old_segments", span_list(old_spans)},
                   {"new_segments", span_list(new_spans)}};
  }
  if (args.json) {
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    const double ratio =
        h.new_size == 0 ? 0.0 : 100.0 * static_cast<double>(file_bytes) / h.new_size;
    std::printf("Updraft patch v%u, profile %s\n", h.version,
                std::string(delta::profile_name(h.profile)).c_str());
    std::printf("  patch      %zu bytes (%.2f%% of new)%s\n", file_bytes, ratio,
                complete ? "" : "  [INCOMPLETE or has trailing bytes]");
    std::printf("  old image  %u bytes  sha256 %s\n", h.old_size,
                hex(h.old_hash.data(), 32).c_str());
    std::printf("  new image  %u bytes  sha256 %s\n", h.new_size,
                hex(h.new_hash.data(), 32).c_str());
    std::printf(
        "  device RAM %u bytes of workspace (+ 448 B patcher object, < 800 B stack on Cortex-M4)\n",
        h.workspace_bytes);
    const auto print_spans = [](const char* which, const std::vector<delta::SegmentSpan>& spans) {
      std::printf("  %s", which);
      for (const delta::SegmentSpan& s : spans)
        std::printf(" %u bytes at 0x%08x;", s.size, s.address);
      std::printf("\n");
    };
    if (layout_bytes > 0) {
      print_spans("old layout", old_spans);
      print_spans("new layout", new_spans);
    }
    if (h.reloc_count > 0) {
      std::printf("  relocation %s, load address 0x%08x, %u map entries (%zu bytes)\n",
                  reloc_arch == 1 ? "thumb2" : "unknown", reloc_base, h.reloc_count, reloc_bytes);
    }
    std::printf("  frames     %u of %u bytes (resume points), largest payload %llu bytes\n",
                h.frame_count(), h.params.frame_size,
                static_cast<unsigned long long>(largest_frame));
  }
  return complete ? 0 : kExitFailed;
}

}  // namespace

void add_info_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<InfoArgs>();
  CLI::App* cmd = app.add_subcommand("info", "Show a patch's header: sizes, hashes, RAM needed");
  cmd->add_option("PATCH", args->patch_path, "Patch file")->required()->check(CLI::ExistingFile);
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([args, &exit_code] { exit_code = run_info(*args); });
}

}  // namespace updraft::cli
