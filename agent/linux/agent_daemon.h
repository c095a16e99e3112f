// updraft-agent: the portable agent as a Linux daemon (docs/agent-linux.md).
// A/B slots are two files or block devices, the boot state and journal a small
// state file (SlotFilesFlash), the trusted root a root store beside it
// (<state>.root, RootKeeper); the device API is HTTPS or HTTP (HttpTransport).
//
// Reboot model, with a real boot loader (--bootloader grub|u-boot): the boot
// loader's environment offers a trial (bootloader_env.h), --on-reboot reboots
// the system (default `systemctl reboot`), and at the next start the agent's boot
// state follows the slot the boot loader started (bootloader_boot.h).
//
// Reboot model without one: each start of run_daemon() plays the bootloader (BootLogic::boot())
// before the agent runs. When the agent asks for a reboot (after an install, or to
// leave an unhealthy trial), the daemon runs --on-reboot, then re-executes itself
// (same PID, same arguments), so the next "boot" takes the trial slot. If exec
// fails it exits with kExitRestartMe for its supervisor to start it again. A trial
// that is killed before it confirms is reverted at the next start by the boot
// logic, and the agent reports the rollback. Host only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "agent/linux/bootloader_env.h"
#include "agent/posix/slot_files_flash.h"
#include "core/host/error.h"

namespace updraft::agent {

// Exit codes of `updraft-agent run`.
inline constexpr int kExitOk = 0;          // stopped by SIGTERM/SIGINT, or --once done
inline constexpr int kExitFailure = 1;     // cannot open the slots, nothing bootable
inline constexpr int kExitUsage = 2;       // bad arguments
inline constexpr int kExitRestartMe = 75;  // a reboot is due but exec failed (EX_TEMPFAIL)

struct ProvisionOptions {
  SlotFilesFlash::Paths paths;
  std::string image;  // the factory image, written into slot A
  std::string version;
  std::uint32_t security_counter = 0;
  std::uint64_t slot_bytes = 0;  // size of slot files that do not exist yet
};

// Factory state: slot A holds the image and is the confirmed slot; the journal is
// empty, and so is the root store (the next run seeds it from --root). Overwrites
// whatever the slots and state held.
HostResult<void> provision(const ProvisionOptions& options);

struct DaemonOptions {
  SlotFilesFlash::Paths paths;
  std::string server_host = "127.0.0.1";
  std::uint16_t server_port = 8080;
  // HTTPS to updraftd (net/http/http_client.h): a pinned CA (ca_file), a pinned
  // server key (server_key_sha256, 64 hex digits), both, or the system's CAs.
  bool tls = false;
  std::string ca_file;
  std::string server_key_sha256;
  std::string device_id;
  std::string secret;
  // The factory root metadata (GET /api/v1/trust/root): seeds the root store,
  // <state>.root, the first time; from then on the store holds the trusted root,
  // and rotations the server sends are verified and kept there.
  std::string root_path;
  std::string product;
  std::string hardware;
  std::uint32_t poll_seconds = 3600;  // longest sleep between check-ins
  std::string health_cmd;             // judges a trial boot: exit 0 = healthy
  std::string current_link;           // symlink kept pointing at the running slot
  std::string on_reboot;              // run before the daemon re-executes itself
  // A real boot loader chooses the slot; nullopt: the daemon plays it.
  std::optional<BootloaderEnv::Options> bootloader;
  std::string cmdline = "/proc/cmdline";    // names the booted slot: updraft.slot=A|B
  unsigned boot_tries = 1;                  // trial boots the boot loader may take
  std::uint32_t await_confirm_seconds = 0;  // see LinuxBootControl::Options
  // CoAP (docs/formats/coap.md) to updraftd's --coap-listen instead of HTTP;
  // port 0: HTTP.
  std::string coap_host;
  std::uint16_t coap_port = 0;
  std::string mqtt_host;  // empty: no MQTT, polling only
  std::uint16_t mqtt_port = 1883;
  bool once = false;  // boot, one cycle (and the reboot it asks for), then exit
};

// `updraft-agent install`: a release from local files (USB, recovery), with the
// checks an update from the server gets: the manifest's signatures under the
// trusted root, product, hardware, security counter, version, the delta's source,
// and the image's SHA-256 in the slot. The manifest is a release manifest
// (`updraft sign` without --nonce); it answers no check-in, so it needs no nonce.
struct InstallOptions {
  SlotFilesFlash::Paths paths;
  std::string root_path;  // as for run: seeds the root store the first time
  std::string product;
  std::string hardware;
  std::string manifest;  // the signed manifest
  std::string artifact;  // the image, or the patch when the manifest describes a delta
};

// Installs into the slot not running and schedules its trial, which the next
// start of `run` boots (and health-checks, confirms or rolls back). Refused while
// an agent runs (the state file's lock, taken by main) or a trial is under way.
// Returns the exit code: 0 installed, 1 refused or failed (the reason logged).
int install_local(const InstallOptions& options);

// Runs until SIGTERM/SIGINT (or one cycle with `once`); `argv` is what to
// re-execute for a reboot. Returns the process's exit code.
int run_daemon(const DaemonOptions& options, char** argv);

}  // namespace updraft::agent
