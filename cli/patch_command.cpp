// `updraft patch OLD PATCH -o NEW`: applies a patch with the same streaming
// patcher a device runs, in the workspace the header declares.
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/output.h"
#include "core/host/file.h"
#include "delta/patch/host/apply.h"

namespace updraft::cli {
namespace {

struct PatchArgs {
  std::string old_path, patch_path, out_path;
  bool quiet = false;
};

int run_patch(const PatchArgs& args) {
  HostResult<std::vector<std::byte>> old_image = read_file(args.old_path);
  if (!old_image.ok()) return report_error(old_image.error());
  HostResult<std::vector<std::byte>> patch = read_file(args.patch_path);
  if (!patch.ok()) return report_error(patch.error());
  HostResult<std::vector<std::byte>> new_image = delta::apply_patch(*old_image, *patch);
  if (!new_image.ok()) return report_error(new_image.error());
  if (auto written = write_file_atomic(args.out_path, *new_image); !written.ok()) {
    return report_error(written.error());
  }
  if (!args.quiet) {
    std::printf("%s: %zu bytes, SHA-256 verified\n", args.out_path.c_str(), new_image->size());
  }
  return 0;
}

}  // namespace

void add_patch_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<PatchArgs>();
  CLI::App* cmd =
      app.add_subcommand("patch", "Apply PATCH to OLD and write the verified new image");
  cmd->add_option("OLD", args->old_path, "Image the patch was made from")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("PATCH", args->patch_path, "Patch from `updraft diff`")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", args->out_path, "New image to write (only after it verifies)")
      ->required();
  cmd->add_flag("-q,--quiet", args->quiet, "Print nothing on success");
  cmd->callback([args, &exit_code] { exit_code = run_patch(*args); });
}

}  // namespace updraft::cli
