// `updraft diff OLD NEW -o PATCH [--profile mcu-tiny|mcu|linux] [--format-version 1|2]
//  [--arch auto|thumb2|none]`
#include <chrono>
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/output.h"
#include "core/codec.h"
#include "core/host/file.h"
#include "delta/diff/diff.h"
#include "delta/format/host/firmware_file.h"
#include "delta/format/layout.h"

namespace updraft::cli {
namespace {

struct DiffArgs {
  std::string old_path, new_path, out_path;
  std::string profile = "linux";
  unsigned format_version = delta::kFormatVersion;
  std::string arch = "auto";
  bool quiet = false;
  bool raw = false;
};

// An input file, mapped rather than read: a rootfs image is hundreds of MB, and
// the diff lets go of the new image's pages as it passes them.
struct Input {
  MappedFile file;
  delta::FirmwareImage image;  // the load segments, for Intel HEX or ELF; empty when raw
  bool raw = true;

  std::uint64_t size() const { return raw ? file.bytes().size() : image.size(); }
};

// The file's format from its content, or a raw binary when `raw` says so (an ELF
// executable or a filesystem image is diffed as the bytes it is, not as what it loads).
HostResult<Input> read_input(const std::string& path, bool raw) {
  Input input;
  UPDRAFT_TRY_ASSIGN(input.file, MappedFile::open(path));
  input.raw = raw || delta::detect_format(input.file.bytes()) == delta::FirmwareFormat::kRaw;
  if (input.raw) return input;
  HostResult<delta::FirmwareImage> image = delta::parse_firmware(input.file.bytes());
  if (!image.ok()) return Error(image.error().code, path + ": " + image.error().message);
  input.image = std::move(*image);
  return input;
}

// The input as load segments: a raw binary is one, at address 0.
delta::FirmwareImage segments_of(const Input& input) {
  if (!input.raw) return input.image;
  delta::FirmwareImage image;
  const ByteView bytes = input.file.bytes();
  if (!bytes.empty())
    image.segments.push_back({0, std::vector<std::byte>(bytes.begin(), bytes.end())});
  return image;
}

void print_segments(const char* which, const delta::FirmwareImage& image) {
  std::printf("%s: %s, %zu load segment%s:", which,
              std::string(delta::format_name(image.format)).c_str(), image.segments.size(),
              image.segments.size() == 1 ? "" : "s");
  for (const delta::Segment& s : image.segments) {
    std::printf(" %zu bytes at 0x%08x;", s.bytes.size(), s.address);
  }
  std::printf("\n");
}

int run_diff(const DiffArgs& args) {
  const delta::ProfileInfo* profile = delta::find_profile(args.profile);
  if (profile == nullptr) {
    return report_error(Error(ErrorCode::kInvalidArgument, "unknown profile '" + args.profile +
                                                               "' (use mcu-tiny, mcu or linux)"));
  }
  HostResult<Input> old_input = read_input(args.old_path, args.raw);
  if (!old_input.ok()) return report_error(old_input.error());
  HostResult<Input> new_input = read_input(args.new_path, args.raw);
  if (!new_input.ok()) return report_error(new_input.error());
  // Raw binaries give a plain patch; Intel HEX or ELF on either side, a segmented
  // one that records where each load segment goes.
  const bool segmented = !old_input->raw || !new_input->raw;
  const std::uint64_t new_size = new_input->size();

  const auto start = std::chrono::steady_clock::now();
  Progress progress("diff", args.quiet ? 0 : new_size);
  delta::DiffOptions options;
  options.profile = profile->profile;
  options.format_version = static_cast<std::uint8_t>(args.format_version);
  if (args.arch == "thumb2") options.arch = delta::Arch::kThumb2;
  if (args.arch == "none") options.arch = delta::Arch::kNone;
  if (args.arch == "thumb2" && args.format_version < 2) {
    return report_error(Error(ErrorCode::kInvalidArgument,
                              "--arch thumb2 needs patch format 2 (relocation prediction)"));
  }
  options.progress = [&](const char* stage, std::uint64_t done, std::uint64_t total) {
    progress.update(stage, done, total);
  };
  delta::DiffStats stats;
  delta::FirmwareImage old_segments, new_segments;
  if (segmented) {
    old_segments = segments_of(*old_input);
    new_segments = segments_of(*new_input);
  } else {
    options.release_new = [&](ByteView range) { new_input->file.release(range); };
  }
  HostResult<std::vector<std::byte>> patch =
      segmented
          ? delta::make_segmented_patch(old_segments, new_segments, options, &stats)
          : delta::make_patch(old_input->file.bytes(), new_input->file.bytes(), options, &stats);
  if (!patch.ok()) return report_error(patch.error());
  if (auto written = write_file_atomic(args.out_path, *patch); !written.ok()) {
    return report_error(written.error());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!args.quiet) {
    const double ratio =
        new_size == 0 ? 0.0
                      : 100.0 * static_cast<double>(patch->size()) / static_cast<double>(new_size);
    // The header holds the shape the encoder chose, and so the workspace.
    const std::size_t header_at = segmented ? delta::layout_block_size(old_segments.segments.size(),
                                                                       new_segments.segments.size())
                                            : 0;
    const std::uint32_t workspace = load_le32(patch->data() + header_at + 16);
    if (segmented) {
      print_segments("old", old_segments);
      print_segments("new", new_segments);
    }
    std::printf(
        "%s: %zu bytes (%.2f%% of new image), profile %s, format %u, workspace %u bytes, %u ops, "
        "%u model shapes tried, %.2f s\n",
        args.out_path.c_str(), patch->size(), ratio, args.profile.c_str(), args.format_version,
        workspace, stats.ops, stats.shapes_tried, seconds);
    std::printf("new image: %llu bytes copied from the old (with their differences), %llu new\n",
                static_cast<unsigned long long>(stats.copied_bytes),
                static_cast<unsigned long long>(stats.literal_bytes));
    if (stats.arch == delta::Arch::kThumb2) {
      std::printf("relocation prediction: thumb2, load address 0x%08x, %u map entries\n",
                  stats.reloc_base, stats.reloc_entries);
    } else if (args.arch != "none") {
      std::printf("relocation prediction: not used%s\n",
                  args.arch == "auto" ? " (no Cortex-M vector table, or it did not pay)" : "");
    }
  }
  return 0;
}

}  // namespace

void add_diff_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<DiffArgs>();
  CLI::App* cmd = app.add_subcommand("diff", "Make a delta patch that turns OLD into NEW");
  cmd->add_option("OLD", args->old_path,
                  "Image the device runs now: a raw binary, Intel HEX or ELF (load segments at "
                  "their addresses make a segmented patch)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("NEW", args->new_path, "Image to update to (raw binary, Intel HEX or ELF)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", args->out_path, "Patch file to write")->required();
  cmd->add_option("--profile", args->profile,
                  "Device class: mcu-tiny (<= 8 KB RAM), mcu (<= 32 KB), linux")
      ->capture_default_str()
      ->check(CLI::IsMember({"mcu-tiny", "mcu", "linux"}));
  cmd->add_option("--format-version", args->format_version,
                  "Patch format: 2, or 1 for agents built before format 2")
      ->capture_default_str()
      ->check(CLI::Range(1, 2));
  cmd->add_option("--arch", args->arch,
                  "Relocation prediction: thumb2 (Cortex-M), none, or auto (thumb2 when the "
                  "old image starts with a Cortex-M vector table and it makes the patch smaller)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "thumb2", "none"}));
  cmd->add_flag("-q,--quiet", args->quiet, "Print nothing on success");
  cmd->add_flag("--raw", args->raw,
                "Diff both files as raw binaries, even when they start like ELF or Intel HEX "
                "(an executable shipped as is, a file that happens to start with ':')");
  cmd->callback([args, &exit_code] { exit_code = run_diff(*args); });
}

}  // namespace updraft::cli
