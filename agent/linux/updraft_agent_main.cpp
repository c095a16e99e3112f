// updraft-agent: the device agent as a Linux daemon. `provision` writes the
// factory image and boot state; `run` boots (plays the bootloader), then checks in,
// updates, and confirms or rolls back trials. See docs/agent-linux.md.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>

#include "agent/linux/agent_daemon.h"
#include "agent/linux/agent_status.h"
#include "agent/linux/bootloader_boot.h"
#include "agent/linux/config_file.h"
#include "agent/linux/log.h"

namespace {

using namespace updraft;
using namespace updraft::agent;

// "host:port" (an http:// or mqtt:// prefix is tolerated); false if malformed.
// `scheme` gets what came before "://", lower-cased ("" without one).
bool parse_endpoint(std::string text, std::string& host, std::uint16_t& port,
                    std::string* scheme_out = nullptr) {
  if (const auto scheme = text.find("://"); scheme != std::string::npos) {
    if (scheme_out != nullptr) {
      *scheme_out = text.substr(0, scheme);
      for (char& c : *scheme_out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    text.erase(0, scheme + 3);
  }
  while (!text.empty() && text.back() == '/') text.pop_back();
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  try {
    const unsigned long value = std::stoul(text.substr(colon + 1));
    if (value == 0 || value > 65535) return false;
    port = static_cast<std::uint16_t>(value);
  } catch (const std::exception&) {
    return false;
  }
  host = text.substr(0, colon);
  return true;
}

// One agent per state file: two on the same slots would both write slot B. An
// exclusive flock on the state file, held until exit; close-on-exec, so that the
// agent re-executed for a reboot takes it again. `create`: provision makes the
// file. A missing file (run before provision) is left for the daemon to report.
// False, with the reason printed, when another agent holds it.
bool lock_state(const std::string& path, bool create) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
  if (fd < 0) return true;
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return true;  // fd stays open: the lock with it
  const int error = errno;
  ::close(fd);
  if (error == EWOULDBLOCK) {
    std::fprintf(stderr, "updraft-agent: another updraft-agent is running on %s\n", path.c_str());
  } else {
    std::fprintf(stderr, "updraft-agent: cannot lock %s: %s\n", path.c_str(), std::strerror(error));
  }
  return false;
}

void add_slot_options(CLI::App& command, SlotFilesFlash::Paths& paths) {
  command.add_option("--slot-a", paths.slot_a, "slot A: a file or block device")->required();
  command.add_option("--slot-b", paths.slot_b, "slot B: a file or block device")->required();
  command.add_option("--state", paths.state, "the boot state and journal file (16 KiB)")
      ->required();
}

// --bootloader and the options that say where its environment is.
struct BootloaderChoice {
  std::string kind;  // "", "grub" or "u-boot"
  BootloaderEnv::Options env;
  std::string cmdline = "/proc/cmdline";
};

void add_bootloader_options(CLI::App& command, BootloaderChoice& choice, bool required) {
  auto* kind = command
                   .add_option("--bootloader", choice.kind,
                               "grub or u-boot: the real boot loader whose environment chooses "
                               "the slot (docs/agent-linux.md)")
                   ->check(CLI::IsMember({"grub", "u-boot", "uboot"}));
  if (required) kind->required();
  command.add_option("--grub-env", choice.env.grub_env, "GRUB's environment block")
      ->capture_default_str();
  command.add_option("--uboot-config", choice.env.uboot_config,
                     "fw_env.config for fw_printenv/fw_setenv (default: the tools' own)");
  command.add_option("--cmdline", choice.cmdline, "kernel command line naming updraft.slot=A|B")
      ->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"updraft-agent: the Updraft device agent as a Linux daemon"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "updraft-agent " UPDRAFT_VERSION);

  ProvisionOptions p;
  CLI::App* provision_cmd = app.add_subcommand("provision", "write the factory image into slot A");
  add_slot_options(*provision_cmd, p.paths);
  provision_cmd->add_option("--image", p.image, "the factory image")->required();
  provision_cmd->add_option("--version", p.version, "its version, e.g. 1.0.0")->required();
  provision_cmd->add_option("--security-counter", p.security_counter, "its anti-rollback counter")
      ->required();
  p.slot_bytes = 16 << 20;
  provision_cmd
      ->add_option("--slot-size", p.slot_bytes, "bytes per slot file to create (multiple of 4096)")
      ->capture_default_str();

  SlotFilesFlash::Paths status_paths;
  bool status_json = false;
  CLI::App* status_cmd = app.add_subcommand(
      "status",
      "the slots, the trial, the download under way and the deployment; beside a "
      "running agent too");
  add_slot_options(*status_cmd, status_paths);
  status_cmd->add_flag("--json", status_json, "as JSON");
  BootloaderChoice status_choice;
  add_bootloader_options(*status_cmd, status_choice, false);

  InstallOptions install;
  CLI::App* install_cmd = app.add_subcommand(
      "install",
      "install a release from local files (USB, recovery) with the same checks as "
      "an update from the server; the next start of run boots it on trial");
  add_slot_options(*install_cmd, install.paths);
  install_cmd->add_option("--manifest", install.manifest, "the signed release manifest")
      ->required();
  install_cmd
      ->add_option("--artifact", install.artifact,
                   "the image, or the patch when the manifest describes a delta")
      ->required();
  install_cmd->add_option("--root", install.root_path, "trusted root metadata, as for run")
      ->required();
  install_cmd->add_option("--product", install.product, "product name, as for run")->required();
  install_cmd->add_option("--hardware", install.hardware, "hardware id, as for run")->required();

  std::string config_file;  // read by expand_config() before parsing; here for --help
  BootloaderChoice confirm_choice;
  CLI::App* confirm_cmd = app.add_subcommand(
      "confirm",
      "from a system booted on trial: mark the running slot good in the boot loader's "
      "environment (a unit after multi-user.target, or the health check)");
  add_bootloader_options(*confirm_cmd, confirm_choice, true);
  confirm_cmd->add_option("--config", config_file,
                          "read --bootloader, --grub-env, --uboot-config and --cmdline from "
                          "run's config file (its other keys are for run)");

  DaemonOptions d;
  BootloaderChoice run_choice;
  std::string server, mqtt, secret_file;
  CLI::App* run_cmd = app.add_subcommand("run", "boot, then check in and update until stopped");
  run_cmd->add_option("--config", config_file,
                      "read options from this file: key = value lines, e.g. server = "
                      "\"https://host:8443\"; the command line wins");
  add_slot_options(*run_cmd, d.paths);
  run_cmd
      ->add_option("--server", server,
                   "updraftd as https://host:port (or http://host:port with --insecure)")
      ->required();
  run_cmd->add_option("--ca-file", d.ca_file,
                      "PEM file of the CA(s) the server's certificate must chain to (pinned CA)");
  run_cmd->add_option("--server-key-sha256", d.server_key_sha256,
                      "pin the server's key: SHA-256 of its certificate's SubjectPublicKeyInfo "
                      "(64 hex digits)");
  bool insecure = false;
  run_cmd->add_flag("--insecure", insecure,
                    "allow plain http:// (anyone on the path can read the device's token and "
                    "hold back updates)");
  run_cmd->add_option("--device-id", d.device_id, "this device's id")->required();
  auto* secret_opt = run_cmd->add_option("--secret", d.secret, "this device's secret");
  auto* secret_file_opt =
      run_cmd->add_option("--secret-file", secret_file, "read the secret from this file");
  secret_opt->excludes(secret_file_opt);
  run_cmd->add_option("--root", d.root_path, "trusted root metadata (GET /api/v1/trust/root)")
      ->required();
  run_cmd->add_option("--product", d.product, "product name, as registered")->required();
  run_cmd->add_option("--hardware", d.hardware, "hardware id, as registered")->required();
  run_cmd->add_option("--poll-seconds", d.poll_seconds, "longest sleep between check-ins")
      ->capture_default_str();
  run_cmd->add_option("--health-cmd", d.health_cmd, "judges a trial boot: exit 0 = healthy");
  run_cmd->add_option("--current-link", d.current_link, "symlink kept at the running slot");
  run_cmd->add_option("--on-reboot", d.on_reboot,
                      "command run before the daemon re-executes; with --bootloader, the "
                      "command that reboots (default: systemctl reboot)");
  run_cmd->add_option("--mqtt", mqtt, "MQTT broker host:port: wake on updraft/devices/<id>/wake");
  std::string coap;
  run_cmd->add_option("--coap", coap,
                      "updraftd's CoAP port as host:port (its --coap-listen): check in and "
                      "download over CoAP instead of HTTP");
  add_bootloader_options(*run_cmd, run_choice, false);
  run_cmd
      ->add_option("--boot-tries", d.boot_tries,
                   "with --bootloader: boots the boot loader may give a trial before it falls "
                   "back (1: boot once)")
      ->check(CLI::Range(1, 9))
      ->capture_default_str();
  run_cmd->add_option("--await-confirm", d.await_confirm_seconds,
                      "with --bootloader and no --health-cmd: seconds a trial waits for "
                      "updraft-agent confirm before it fails (0: healthy at once)");
  run_cmd->add_flag("--once", d.once, "boot, one check-in cycle (and its reboot), then exit");
  std::string log_level = "info";
  run_cmd
      ->add_option("--log-level", log_level,
                   "error, warning, info or debug: lines above it are not written")
      ->check(CLI::IsMember({"error", "warning", "info", "debug"}))
      ->capture_default_str();

  std::vector<std::string> args(argv + 1, argv + argc);
  // confirm shares run's config file, and takes from it only what it knows.
  const std::vector<std::string> confirm_keys = {"bootloader", "grub-env", "uboot-config",
                                                 "cmdline"};
  HostResult<std::vector<std::string>> expanded = expand_config(
      args, !args.empty() && args[0] == "confirm" ? confirm_keys : std::vector<std::string>{});
  if (!expanded.ok()) {
    std::fprintf(stderr, "updraft-agent: %s\n", expanded.error().message.c_str());
    return kExitUsage;
  }
  try {
    // CLI11 takes the arguments in reverse order.
    std::vector<std::string> reversed(expanded->rbegin(), expanded->rend());
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    // Help and --version exit 0; every other parse error is a usage error (2, as
    // documented), not CLI11's own numbers.
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  try {
    if (status_cmd->parsed()) {
      std::optional<BootloaderEnv> bootloader;
      if (!status_choice.kind.empty()) {
        parse_bootloader_kind(status_choice.kind, status_choice.env.kind);  // CLI11 checked it
        bootloader.emplace(status_choice.env);
      }
      HostResult<std::string> report = agent_status(
          status_paths, status_json, bootloader ? &*bootloader : nullptr, status_choice.cmdline);
      if (!report.ok()) {
        std::fprintf(stderr, "updraft-agent: status: %s\n", report.error().to_string().c_str());
        return kExitFailure;
      }
      std::fputs(report->c_str(), stdout);
      return kExitOk;
    }
    if (confirm_cmd->parsed()) {
      BootloaderEnv::Kind kind{};
      parse_bootloader_kind(confirm_choice.kind, kind);  // CLI11 checked it
      confirm_choice.env.kind = kind;
      HostResult<SlotIndex> booted = booted_slot(confirm_choice.cmdline);
      HostResult<std::string> done =
          booted.ok() ? confirm_running_slot(BootloaderEnv(confirm_choice.env), *booted)
                      : booted.error();
      if (!done.ok()) {
        std::fprintf(stderr, "updraft-agent: confirm: %s\n", done.error().message.c_str());
        return kExitFailure;
      }
      std::fprintf(stderr, "updraft-agent: %s\n", done->c_str());
      return kExitOk;
    }
    if (install_cmd->parsed()) {
      if (!lock_state(install.paths.state, false)) return kExitFailure;
      return install_local(install);
    }
    if (provision_cmd->parsed()) {
      if (!lock_state(p.paths.state, true)) return kExitFailure;
      if (auto r = provision(p); !r.ok()) {
        std::fprintf(stderr, "updraft-agent: provision: %s\n", r.error().to_string().c_str());
        return kExitFailure;
      }
      std::fprintf(stderr, "updraft-agent: provisioned slot A with %s (%s)\n", p.version.c_str(),
                   p.image.c_str());
      return kExitOk;
    }
    std::string scheme;
    if (!parse_endpoint(server, d.server_host, d.server_port, &scheme) ||
        (scheme != "" && scheme != "http" && scheme != "https")) {
      std::fprintf(stderr,
                   "updraft-agent: --server: expected https://host:port or http://host:port, "
                   "got \"%s\"\n",
                   server.c_str());
      return kExitUsage;
    }
    d.tls = scheme == "https";
    if (!d.tls && (!d.ca_file.empty() || !d.server_key_sha256.empty())) {
      std::fprintf(stderr,
                   "updraft-agent: --ca-file and --server-key-sha256 need --server https://...\n");
      return kExitUsage;
    }
    // Plain HTTP gives the device's token and its check-ins to anyone on the path
    // (the manifests stay signed, but updates can be held back): only when asked.
    // Over CoAP the HTTP server is not used.
    if (!d.tls && !insecure && coap.empty()) {
      std::fprintf(stderr,
                   "updraft-agent: --server %s is plain HTTP; use https://host:port with "
                   "--ca-file or --server-key-sha256, or pass --insecure\n",
                   server.c_str());
      return kExitUsage;
    }
    if (!d.server_key_sha256.empty() &&
        (d.server_key_sha256.size() != 64 ||
         d.server_key_sha256.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)) {
      std::fprintf(stderr, "updraft-agent: --server-key-sha256: expected 64 hex digits\n");
      return kExitUsage;
    }
    if (!coap.empty() && !parse_endpoint(coap, d.coap_host, d.coap_port)) {
      std::fprintf(stderr, "updraft-agent: --coap: expected host:port, got \"%s\"\n", coap.c_str());
      return kExitUsage;
    }
    if (!mqtt.empty() && !parse_endpoint(mqtt, d.mqtt_host, d.mqtt_port)) {
      std::fprintf(stderr, "updraft-agent: --mqtt: expected host:port, got \"%s\"\n", mqtt.c_str());
      return kExitUsage;
    }
    if (!secret_file.empty()) {
      std::ifstream in(secret_file);
      if (!(in >> d.secret)) {
        std::fprintf(stderr, "updraft-agent: cannot read the secret from %s\n",
                     secret_file.c_str());
        return kExitUsage;
      }
    }
    if (d.secret.empty()) {
      std::fprintf(stderr, "updraft-agent: --secret or --secret-file is required\n");
      return kExitUsage;
    }
    if (d.poll_seconds == 0) d.poll_seconds = 1;
    if (!run_choice.kind.empty()) {
      parse_bootloader_kind(run_choice.kind, run_choice.env.kind);
      d.bootloader = run_choice.env;
      d.cmdline = run_choice.cmdline;
      if (d.on_reboot.empty()) d.on_reboot = "systemctl reboot";
    }
    LogLevel level = LogLevel::kInfo;
    parse_log_level(log_level.c_str(), level);  // CLI11 checked it
    set_log_level(level);
    if (!lock_state(d.paths.state, false)) return kExitFailure;
    return run_daemon(d, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "updraft-agent: internal error: %s\n", e.what());
    return kExitFailure;
  }
}
