// The `updraft` subcommands; one file each. Each add_* registers its subcommand
// and sets `exit_code` when it runs.
#pragma once

#include <CLI/CLI.hpp>

namespace updraft::cli {

void add_diff_command(CLI::App& app, int& exit_code);
void add_patch_command(CLI::App& app, int& exit_code);
void add_info_command(CLI::App& app, int& exit_code);
void add_keygen_command(CLI::App& app, int& exit_code);
void add_sign_command(CLI::App& app, int& exit_code);
void add_root_command(CLI::App& app, int& exit_code);
void add_verify_command(CLI::App& app, int& exit_code);
void add_manifest_command(CLI::App& app, int& exit_code);
// Admin API of the update server (cli/server_connection.h).
void add_product_command(CLI::App& app, int& exit_code);
void add_devices_command(CLI::App& app, int& exit_code);
void add_release_command(CLI::App& app, int& exit_code);
void add_campaign_command(CLI::App& app, int& exit_code);
void add_tokens_command(CLI::App& app, int& exit_code);
void add_mender_command(CLI::App& app, int& exit_code);

}  // namespace updraft::cli
