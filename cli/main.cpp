// `updraft`: the operator's and developer's command line. Subcommands live in
// one file each (cli/*_command.cpp); this file only wires them.
#include <cstdio>
#include <exception>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Updraft: over-the-air firmware updates — delta patches, signing, releases"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "updraft " UPDRAFT_VERSION);
  int exit_code = 0;
  updraft::cli::add_diff_command(app, exit_code);
  updraft::cli::add_patch_command(app, exit_code);
  updraft::cli::add_info_command(app, exit_code);
  updraft::cli::add_keygen_command(app, exit_code);
  updraft::cli::add_sign_command(app, exit_code);
  updraft::cli::add_root_command(app, exit_code);
  updraft::cli::add_verify_command(app, exit_code);
  updraft::cli::add_manifest_command(app, exit_code);
  updraft::cli::add_product_command(app, exit_code);
  updraft::cli::add_devices_command(app, exit_code);
  updraft::cli::add_release_command(app, exit_code);
  updraft::cli::add_mender_command(app, exit_code);
  updraft::cli::add_campaign_command(app, exit_code);
  updraft::cli::add_tokens_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "updraft: internal error: %s\n", e.what());
    return 1;
  }
  return exit_code;
}
