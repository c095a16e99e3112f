// `updraft patch OLD PATCH -o NEW`: applies a patch with the same streaming
// patcher a device runs, in the workspace the header declares. A segmented patch
// (made from Intel HEX or ELF) needs OLD's load segments, and writes NEW as Intel
// HEX (or a flat binary with the gaps filled).
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/output.h"
#include "core/host/file.h"
#include "delta/format/host/firmware_file.h"
#include "delta/format/layout.h"
#include "delta/patch/host/apply.h"

namespace updraft::cli {
namespace {

struct PatchArgs {
  std::string old_path, patch_path, out_path;
  std::string output_format = "auto";
  unsigned gap_fill = 0xFF;
  bool quiet = false;
};

int run_patch(const PatchArgs& args) {
  // Mapped: a rootfs image is hundreds of MB, and a plain patch streams the new
  // image to its file, so neither is held in memory.
  HostResult<MappedFile> old_bytes = MappedFile::open(args.old_path);
  if (!old_bytes.ok()) return report_error(old_bytes.error());
  HostResult<std::vector<std::byte>> patch = read_file(args.patch_path);
  if (!patch.ok()) return report_error(patch.error());

  if (!delta::is_layout_block(*patch)) {
    // A plain patch works on the file's bytes as they are, whatever they hold.
    HostResult<std::uint64_t> written =
        delta::apply_patch_to_file(old_bytes->bytes(), *patch, args.out_path);
    if (!written.ok()) return report_error(written.error());
    if (!args.quiet) {
      std::printf("%s: %llu bytes, SHA-256 verified\n", args.out_path.c_str(),
                  static_cast<unsigned long long>(*written));
    }
    return 0;
  }
  std::vector<std::byte> out;
  std::string what;
  {
    HostResult<delta::FirmwareImage> old_image = delta::parse_firmware(old_bytes->bytes());
    if (!old_image.ok()) {
      return report_error(
          Error(old_image.error().code, args.old_path + ": " + old_image.error().message));
    }
    HostResult<delta::FirmwareImage> new_image = delta::apply_segmented_patch(*old_image, *patch);
    if (!new_image.ok()) return report_error(new_image.error());
    const bool hex = args.output_format == "hex" ||
                     (args.output_format == "auto" &&
                      (args.out_path.ends_with(".hex") || args.out_path.ends_with(".ihex")));
    if (hex) {
      const std::string text = delta::to_intel_hex(*new_image);
      const auto* p = reinterpret_cast<const std::byte*>(text.data());
      out.assign(p, p + text.size());
    } else {
      out = delta::to_flat_binary(*new_image, std::byte(args.gap_fill));
    }
    what = std::to_string(new_image->size()) + " bytes in " +
           std::to_string(new_image->segments.size()) + " load segment" +
           (new_image->segments.size() == 1 ? "" : "s") +
           (hex ? ", as Intel HEX" : ", as a flat binary from 0x");
    if (!hex && !new_image->segments.empty()) {
      char at[16];
      std::snprintf(at, sizeof at, "%08x", new_image->segments.front().address);
      what += at;
    }
  }
  if (auto written = write_file_atomic(args.out_path, out); !written.ok()) {
    return report_error(written.error());
  }
  if (!args.quiet) std::printf("%s: %s, SHA-256 verified\n", args.out_path.c_str(), what.c_str());
  return 0;
}

}  // namespace

void add_patch_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<PatchArgs>();
  CLI::App* cmd =
      app.add_subcommand("patch", "Apply PATCH to OLD and write the verified new image");
  cmd->add_option("OLD", args->old_path,
                  "Image the patch was made from (for a segmented patch: Intel HEX or ELF)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("PATCH", args->patch_path, "Patch from `updraft diff`")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", args->out_path, "New image to write (only after it verifies)")
      ->required();
  cmd->add_option("--output-format", args->output_format,
                  "For a segmented patch: hex (Intel HEX), bin (flat binary from the lowest "
                  "address, gaps filled), or auto (hex when OUTPUT ends in .hex or .ihex)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "hex", "bin"}));
  cmd->add_option("--gap-fill", args->gap_fill, "Byte that fills gaps in a flat binary")
      ->capture_default_str()
      ->check(CLI::Range(0, 255));
  cmd->add_flag("-q,--quiet", args->quiet, "Print nothing on success");
  cmd->callback([args, &exit_code] { exit_code = run_patch(*args); });
}

}  // namespace updraft::cli
