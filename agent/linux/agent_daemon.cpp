#include "agent/linux/agent_daemon.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <vector>

#include "agent/agent.h"
#include "agent/boot_logic.h"
#include "agent/coap/coap_transport.h"
#include "agent/linux/backoff.h"
#include "agent/linux/bootloader_boot.h"
#include "agent/linux/linux_boot_control.h"
#include "agent/linux/log.h"
#include "agent/linux/logged_transport.h"
#include "agent/linux/mqtt_wake_listener.h"
#include "agent/linux/shell_command.h"
#include "agent/linux/stoppable_flash.h"
#include "agent/posix/file_flash.h"
#include "agent/posix/http_transport.h"
#include "agent/posix/system_clock.h"
#include "agent/posix/udp_datagram.h"
#include "agent/root_keeper.h"
#include "agent/signed_manifest_checker.h"
#include "core/host/file.h"
#include "core/host/hex.h"
#include "crypto/host/openssl_verifier.h"
#include "crypto/sha256.h"

namespace updraft::agent {
namespace {

// The patch workspace: the `linux` profile's budget (delta/format/patch_format.cpp).
constexpr std::size_t kWorkspaceBytes = 4 * 1024 * 1024;

// The root store, <state>.root: two 16 KiB sectors, one root record each (A/B),
// room for the largest root (RSA-3072 keys, 9,458 bytes).
constexpr std::uint32_t kRootSector = 16 * 1024;
constexpr FlashGeometry kRootStoreGeometry{2 * kRootSector, kRootSector, 8, std::byte{0xFF}};
static_assert(RootKeeper::max_root_for(kRootSector) >= manifest::kMaxRootSize);

std::string root_store_path(const SlotFilesFlash::Paths& paths) { return paths.state + ".root"; }

// Logs each root the server sends, and what became of it.
class LoggedRootUpdater final : public RootUpdater {
 public:
  explicit LoggedRootUpdater(RootKeeper& keeper) : keeper_(keeper) {}
  std::uint32_t root_version() const override { return keeper_.root_version(); }
  MutableByteView root_buffer() override { return keeper_.root_buffer(); }
  Result<void> install_root(ByteView root) override {
    const std::uint32_t before = keeper_.root_version();
    Result<void> r = keeper_.install_root(root);
    if (r.ok()) {
      log_line("root: rotated from v%u to v%u", before, keeper_.root_version());
    } else {
      log_warning("root: refused the root sent for v%u: %s (%u): %s; keeping v%u", before + 1,
                  error_name(r.error()).data(), static_cast<unsigned>(r.error()),
                  describe(r.error()).data(), before);
    }
    return r;
  }

 private:
  RootKeeper& keeper_;
};

std::atomic<bool> g_stop{false};
int g_wake_fd = -1;  // eventfd: signals and MQTT end the poll wait early

void wake() {
  const std::uint64_t one = 1;
  // Async-signal-safe; a full counter already means "wake up".
  [[maybe_unused]] const ssize_t n = ::write(g_wake_fd, &one, sizeof one);
}

void on_signal(int) {
  g_stop.store(true);
  wake();
}

// Waits up to `seconds` for a wake (MQTT or a signal); true if woken.
bool wait_for_wake(std::uint32_t seconds) {
  pollfd p{g_wake_fd, POLLIN, 0};
  const std::uint64_t deadline_ms = std::uint64_t{seconds} * 1000;
  timespec start{};
  ::clock_gettime(CLOCK_MONOTONIC, &start);
  while (!g_stop.load()) {
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    const std::int64_t elapsed =
        (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1'000'000;
    if (elapsed >= static_cast<std::int64_t>(deadline_ms)) return false;
    const int rc = ::poll(&p, 1,
                          static_cast<int>(std::min<std::int64_t>(
                              static_cast<std::int64_t>(deadline_ms) - elapsed, 60'000)));
    if (rc > 0) {
      std::uint64_t count = 0;
      [[maybe_unused]] const ssize_t n = ::read(g_wake_fd, &count, sizeof count);
      return true;
    }
  }
  return true;
}

// Points `link` at `target` atomically (a new symlink renamed over the old one).
bool update_link(const std::string& link, const std::string& target) {
  const std::string temp = link + ".new";
  ::unlink(temp.c_str());
  if (::symlink(target.c_str(), temp.c_str()) != 0) return false;
  return ::rename(temp.c_str(), link.c_str()) == 0;
}

// The reboot with a real boot loader: the trial (if one is pending) offered in its
// environment, then --on-reboot, which restarts the system; the daemon waits for
// the SIGTERM of the shutdown.
int reboot_system(const DaemonOptions& options, BootLogic& boot, const BootloaderEnv& env) {
  if (auto r = offer_trial(boot, env, options.boot_tries); !r.ok()) {
    log_error("reboot: cannot offer the trial to the boot loader: %s; not rebooting",
              r.error().message.c_str());
    return kExitFailure;
  }
  log_line("reboot: running %s", options.on_reboot.c_str());
  std::fflush(nullptr);
  const int status = run_shell_command(options.on_reboot, {});
  if (status != 0) {
    log_error("reboot: %s exited %d", options.on_reboot.c_str(), status);
    return kExitRestartMe;
  }
  if (options.once) return kExitOk;
  constexpr std::uint32_t kRebootWaitSeconds = 300;
  wait_for_wake(kRebootWaitSeconds);
  if (g_stop.load()) return kExitOk;
  log_error("reboot: the system did not restart within %u s", kRebootWaitSeconds);
  return kExitRestartMe;
}

// The reboot: --on-reboot, then the same program again, which boots anew.
int reboot_now(const DaemonOptions& options, char** argv) {
  if (!options.on_reboot.empty()) {
    const int status = run_shell_command(options.on_reboot, {});
    log_line("reboot: --on-reboot exited %d", status);
  }
  log_line("reboot: re-executing to boot the new state");
  std::fflush(nullptr);
  // Through its real path: exec'd as /proc/self/exe the process was named "exe"
  // (findings 2026-12-01). /proc/self/exe stays the fallback for a binary
  // replaced under the running agent.
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec && !self.empty()) ::execv(self.c_str(), argv);
  ::execv("/proc/self/exe", argv);
  log_error("reboot: exec failed (%s); exiting %d for the supervisor to restart",
            std::strerror(errno), kExitRestartMe);
  return kExitRestartMe;
}

void log_cycle(const CycleResult& r) {
  if (r.error == ErrorCode::kOk) return;
  if (r.next == CycleResult::Next::kReboot) {
    log_warning("cycle stopped: %s (%u); rebooting", describe(r.error).data(),
                static_cast<unsigned>(r.error));
  } else {
    log_warning("cycle stopped: %s (%u); next check-in in %u s", describe(r.error).data(),
                static_cast<unsigned>(r.error), r.sleep_seconds);
  }
}

// The trusted root as run and install use it: the factory root (--root) seeds the
// root store <state>.root, which then holds the root the device trusts; the
// checker verifies manifests under it. Heap-held: the keeper keeps references.
struct TrustedRoot {
  std::vector<std::byte> factory;
  OpenSslVerifier verifier;
  std::unique_ptr<SignedManifestChecker> checker;
  std::unique_ptr<FileFlash> flash;
  std::vector<std::byte> buffer;
  std::unique_ptr<RootKeeper> keeper;
};

HostResult<std::unique_ptr<TrustedRoot>> open_trusted_root(const SlotFilesFlash::Paths& paths,
                                                           const std::string& root_path,
                                                           const std::string& product,
                                                           const std::string& hardware) {
  auto t = std::make_unique<TrustedRoot>();
  UPDRAFT_TRY_ASSIGN(t->factory, read_file(root_path));
  t->checker = std::make_unique<SignedManifestChecker>(t->factory, t->verifier, product, hardware);
  UPDRAFT_TRY_ASSIGN(t->flash,
                     FileFlash::open(root_store_path(paths), kRootStoreGeometry, /*sync=*/true));
  t->buffer.resize(2 * std::size_t{RootKeeper::max_root_for(kRootSector)});
  t->keeper =
      std::make_unique<RootKeeper>(*t->flash, 0, kRootSector, t->buffer, t->verifier, *t->checker);
  if (auto r = t->keeper->open(t->factory); !r.ok()) {
    return Error(r.error(), std::string(describe(r.error())) + " (" +
                                std::to_string(error_number(r.error())) + ") in " +
                                root_store_path(paths) + " or " + root_path);
  }
  return t;
}

// A Transport over local files: one "check-in" that offers the release in them,
// reads of the artifact file, and reports that only go to the log.
class LocalFileTransport final : public Transport {
 public:
  LocalFileTransport(std::vector<std::byte> manifest, ArtifactKind kind, std::string artifact)
      : manifest_(std::move(manifest)),
        kind_(kind),
        path_(std::move(artifact)),
        in_(path_, std::ios::binary) {}

  Result<void> check_in(const DeviceStatus&, CheckInAnswer& answer) override {
    if (manifest_.size() > answer.manifest.size()) return ErrorCode::kManifestMalformed;
    std::error_code ec;
    const auto size = std::filesystem::file_size(path_, ec);
    if (ec || size > 0xFFFFFFFFu) return ErrorCode::kArtifactTooLarge;
    answer.update_available = true;
    answer.kind = kind_;
    std::snprintf(answer.artifact.data(), answer.artifact.size(), "local");
    answer.artifact_size = static_cast<std::uint32_t>(size);
    answer.manifest_size = static_cast<std::uint32_t>(manifest_.size());
    std::copy(manifest_.begin(), manifest_.end(), answer.manifest.begin());
    answer.poll_seconds = 0;
    answer.force = true;  // the operator at the device asked for it
    return {};
  }
  Result<std::size_t> fetch(const char*, std::uint32_t offset, MutableByteView out) override {
    in_.clear();
    in_.seekg(offset);
    in_.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size()));
    if (in_.bad() || !in_.is_open()) return ErrorCode::kIoError;
    return static_cast<std::size_t>(in_.gcount());
  }
  Result<void> report(const Report& r) override {
    if (r.phase != last_) {
      const bool bad = r.phase == Phase::kFailure || r.phase == Phase::kRolledBack;
      log_at(bad ? LogLevel::kWarning : LogLevel::kInfo, "install: %s%s%s (error %u)",
             phase_name(r.phase), r.target[0] != '\0' ? " to " : "", r.target.data(),
             static_cast<unsigned>(r.error));
      last_ = r.phase;
    }
    return {};
  }

 private:
  std::vector<std::byte> manifest_;
  ArtifactKind kind_;
  std::string path_;
  std::ifstream in_;
  Phase last_{};
};

// The slots and the trusted root, as run and install open them; nullopt, with
// the reason logged, when either cannot be opened.
struct DeviceFiles {
  std::unique_ptr<SlotFilesFlash> slots;
  std::unique_ptr<TrustedRoot> trusted;
};

std::optional<DeviceFiles> open_device(const SlotFilesFlash::Paths& paths,
                                       const std::string& root_path, const std::string& product,
                                       const std::string& hardware) {
  HostResult<std::unique_ptr<SlotFilesFlash>> slots = SlotFilesFlash::open(paths, 0);
  if (!slots.ok()) {
    log_error("slots: %s (provision first?)", slots.error().to_string().c_str());
    return std::nullopt;
  }
  HostResult<std::unique_ptr<TrustedRoot>> trusted =
      open_trusted_root(paths, root_path, product, hardware);
  if (!trusted.ok()) {
    log_error("trusted root: %s", trusted.error().message.c_str());
    return std::nullopt;
  }
  return DeviceFiles{std::move(*slots), std::move(*trusted)};
}

}  // namespace

int install_local(const InstallOptions& o) {
  HostResult<std::vector<std::byte>> manifest_bytes = read_file(o.manifest);
  if (!manifest_bytes.ok()) {
    log_error("install: %s", manifest_bytes.error().to_string().c_str());
    return kExitFailure;
  }
  manifest::Manifest parsed;
  if (!manifest::parse_manifest(*manifest_bytes, parsed).ok()) {
    log_error("install: %s is not a signed Updraft manifest", o.manifest.c_str());
    return kExitFailure;
  }
  std::optional<DeviceFiles> device = open_device(o.paths, o.root_path, o.product, o.hardware);
  if (!device) return kExitFailure;
  SlotFilesFlash& flash = *device->slots;
  // Read, not booted: the bootloader's step belongs to `run`, and taking it here
  // would count as the trial's boot.
  BootLogic boot(flash, flash.layout());
  Result<BootState> state = boot.load();
  if (!state.ok() || !state->slots[state->active].valid) {
    log_error("install: no confirmed slot in %s", o.paths.state.c_str());
    return kExitFailure;
  }
  if (state->trial_state != TrialState::kNone) {
    log_error("install: a trial of slot %s is under way; start updraft-agent run to finish it",
              slot_name(state->trial));
    return kExitFailure;
  }
  const SlotIndex running = state->active;
  LocalFileTransport transport(*manifest_bytes,
                               parsed.is_delta ? ArtifactKind::kPatch : ArtifactKind::kFullImage,
                               o.artifact);
  LinuxBootControl boot_control({"", o.paths.slot_a, o.paths.slot_b}, running,
                                state->slots[running].version.data());
  SystemClock clock;
  SystemRandom random;
  AgentConfig config;
  config.local_install = true;
  config.full_checkpoint_bytes = 1024 * 1024;
  std::vector<std::byte> workspace(kWorkspaceBytes);
  Ports ports{flash, transport, clock, random, boot_control, *device->trusted->checker};
  Agent agent(ports, flash.layout(), config, workspace);
  const CycleResult booted = agent.on_boot(BootDecision{running, false});
  if (booted.next == CycleResult::Next::kReboot || booted.error != ErrorCode::kOk) {
    log_error("install: an update installed earlier waits for its trial; start updraft-agent run");
    return kExitFailure;
  }
  const CycleResult result = agent.run_cycle();
  if (!result.installed) {
    log_error("install: refused: %s (%u) %s", error_name(result.error).data(),
              static_cast<unsigned>(result.error), describe(result.error).data());
    return kExitFailure;
  }
  // No server deployment stands behind this install: what `run` reports of its
  // trial must not land on the last one.
  ::unlink((o.paths.state + ".deployment").c_str());
  log_line("install: %s is in slot %s; the next start of updraft-agent run boots it on trial",
           std::string(parsed.version_text).c_str(),
           slot_name(static_cast<SlotIndex>(1 - running)));
  return kExitOk;
}

HostResult<void> provision(const ProvisionOptions& o) {
  UPDRAFT_TRY_ASSIGN(std::vector<std::byte> image, read_file(o.image));
  // Start from erased stores: a factory state file must not hold an old journal.
  ::unlink(o.paths.state.c_str());
  UPDRAFT_TRY_ASSIGN(std::unique_ptr<SlotFilesFlash> flash,
                     SlotFilesFlash::open(o.paths, o.slot_bytes));
  if (image.empty() || image.size() > flash->slot_bytes()) {
    return Error(ErrorCode::kAgentImageTooLarge, o.image + " has " + std::to_string(image.size()) +
                                                     " bytes; a slot holds " +
                                                     std::to_string(flash->slot_bytes()));
  }
  const FlashLayout& layout = flash->layout();
  // Only the sectors the image covers: the agent erases each sector before it
  // writes one, so the rest of a (possibly large) partition may hold anything.
  const std::uint32_t sector = SlotFilesFlash::kSectorSize;
  const auto span = static_cast<std::uint32_t>((image.size() + sector - 1) / sector * sector);
  if (auto r = flash->erase(layout.slot_offset[0], span); !r.ok())
    return Error(r.error(), "erasing slot A");
  if (auto r = flash->write(layout.slot_offset[0], image); !r.ok())
    return Error(r.error(), "writing the image into slot A");
  SlotInfo info;
  info.valid = true;
  info.size = static_cast<std::uint32_t>(image.size());
  info.hash = Sha256::digest(image);
  info.security_counter = o.security_counter;
  set_version(info, o.version.c_str());
  BootLogic boot(*flash, layout);
  if (auto r = boot.provision(0, info); !r.ok()) return Error(r.error(), "writing the boot state");
  ::unlink((o.paths.state + ".deployment").c_str());
  ::unlink((o.paths.state + ".reports").c_str());
  ::unlink(root_store_path(o.paths).c_str());
  return {};
}

int run_daemon(const DaemonOptions& options, char** argv) {
  g_wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (g_wake_fd < 0) {
    log_error("eventfd: %s", std::strerror(errno));
    return kExitFailure;
  }
  struct sigaction action {};
  action.sa_handler = on_signal;  // no SA_RESTART: a blocking wait ends at once
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);

  std::optional<DeviceFiles> device =
      open_device(options.paths, options.root_path, options.product, options.hardware);
  if (!device) return kExitFailure;
  SlotFilesFlash& slots = *device->slots;
  RootKeeper& root_keeper = *device->trusted->keeper;
  SignedManifestChecker& checker = *device->trusted->checker;
  StoppableFlash flash(slots, g_stop);
  const FlashLayout& layout = slots.layout();

  // The bootloader's part, at every start: played here, or followed.
  BootLogic boot(flash, layout);
  std::optional<BootloaderEnv> bootloader;
  if (options.bootloader) bootloader.emplace(*options.bootloader);
  Result<BootDecision> decision = ErrorCode::kBootNoValidImage;
  if (bootloader) {
    HostResult<SlotIndex> booted = booted_slot(options.cmdline);
    HostResult<BootloaderBoot> followed =
        booted.ok() ? follow_bootloader(boot, *bootloader, *booted) : booted.error();
    if (!followed.ok()) {
      log_error("boot: %s", followed.error().message.c_str());
      return kExitFailure;
    }
    if (followed->reverted) {
      log_warning("boot: the boot loader fell back to slot %s: the trial is over",
                  slot_name(*booted));
    }
    if (followed->reboot_due) {
      log_line("boot: slot %s waits for its trial; rebooting into it",
               slot_name(static_cast<SlotIndex>(1 - *booted)));
      return reboot_system(options, boot, *bootloader);
    }
    decision = followed->decision;
  } else {
    decision = boot.boot();
  }
  if (!decision.ok()) {
    log_error("boot: %s (%u): no slot holds a valid image", describe(decision.error()).data(),
              static_cast<unsigned>(decision.error()));
    return kExitFailure;
  }
  Result<BootState> state = boot.load();
  const std::string version = state.ok() ? state->slots[decision->slot].version.data() : "?";
  log_line("boot: slot %s, version %s%s", slot_name(decision->slot), version.c_str(),
           decision->trial ? " (trial: not confirmed yet)" : "");
  const std::string& running_file =
      decision->slot == 0 ? options.paths.slot_a : options.paths.slot_b;
  if (!options.current_link.empty() && !update_link(options.current_link, running_file)) {
    log_warning("cannot point %s at %s: %s", options.current_link.c_str(), running_file.c_str(),
                std::strerror(errno));
  }

  const std::string deployment_file = options.paths.state + ".deployment";
  std::int64_t deployment = 0;
  {
    std::ifstream in(deployment_file);
    in >> deployment;
  }
  std::unique_ptr<HttpTransport> http;
  std::unique_ptr<UdpDatagram> udp;
  std::unique_ptr<CoapTransport> coap;
  const std::string coap_key =
      to_hex(Sha256::digest(as_bytes_view(options.secret.data(), options.secret.size())));
  std::unique_ptr<LoggedTransport> logged;
  if (options.coap_port != 0) {
    HostResult<std::unique_ptr<UdpDatagram>> socket =
        UdpDatagram::open(options.coap_host, options.coap_port);
    if (!socket.ok()) {
      log_error("coap: %s", socket.error().to_string().c_str());
      return kExitFailure;
    }
    udp = std::move(*socket);
    CoapOptions c;
    c.device_id = options.device_id.c_str();
    c.mac_key = as_bytes_view(coap_key.data(), coap_key.size());
    c.timeout_ms = 3000;
    SystemRandom seed;
    coap = std::make_unique<CoapTransport>(*udp, c, static_cast<std::uint16_t>(seed.next()));
    coap->set_deployment(static_cast<std::uint32_t>(deployment));
    CoapTransport* c_ptr = coap.get();
    logged = std::make_unique<LoggedTransport>(
        LoggedTransport::Inner{*coap,
                               [c_ptr] { return static_cast<std::int64_t>(c_ptr->deployment()); },
                               [c_ptr] {
                                 const CoapCounters& n = c_ptr->counters();
                                 return "coap: " + std::to_string(n.timeouts) + " timeouts, " +
                                        std::to_string(n.bad_blocks) + " bad blocks so far";
                               }},
        deployment_file, options.paths.state + ".reports");
  } else {
    HttpTransport::Options t;
    t.host = options.server_host;
    t.port = options.server_port;
    t.tls = options.tls;
    t.ca_file = options.ca_file;
    t.server_key_sha256 = options.server_key_sha256;
    t.device_id = options.device_id;
    t.secret = options.secret;
    t.read_ahead = 256 * 1024;
    t.deployment = deployment;
    http = std::make_unique<HttpTransport>(t);
    HttpTransport* h = http.get();
    logged = std::make_unique<LoggedTransport>(
        LoggedTransport::Inner{*http, [h] { return h->deployment(); },
                               [h] { return h->last_error(); }, [h] { return h->reason(); },
                               [h](std::string line) { h->attach_log(std::move(line)); }},
        deployment_file, options.paths.state + ".reports");
  }
  LoggedTransport& transport = *logged;
  {
    manifest::RootMetadata factory;
    const unsigned factory_version =
        manifest::parse_root(device->trusted->factory, factory).ok() ? factory.version : 0;
    log_line("trusted root: v%u (%s holds v%u)", root_keeper.root_version(),
             options.root_path.c_str(), factory_version);
  }
  LoggedRootUpdater root_updater(root_keeper);
  LinuxBootControl boot_control(
      {options.health_cmd, options.paths.slot_a, options.paths.slot_b,
       bootloader ? &*bootloader : nullptr, state.ok() ? state->active : decision->slot,
       options.await_confirm_seconds, &g_stop},
      decision->slot, version);
  SystemClock clock;
  SystemRandom random;
  AgentConfig config;
  config.backoff_seconds = std::min<std::uint32_t>(options.poll_seconds, 60);
  config.full_checkpoint_bytes = 1024 * 1024;
  std::vector<std::byte> workspace(kWorkspaceBytes);
  Ports ports{flash, transport, clock, random, boot_control, checker};
  Agent agent(ports, layout, config, workspace);
  agent.set_conditions(100, NetworkType::kEthernet);
  // Over CoAP the server sends no roots yet (docs/formats/coap.md): the agent asks
  // for none there.
  if (!coap) agent.set_root_updater(&root_updater);

  std::unique_ptr<MqttWakeListener> mqtt;
  if (!options.mqtt_host.empty()) {
    HostResult<std::unique_ptr<MqttWakeListener>> started = MqttWakeListener::start(
        options.mqtt_host, options.mqtt_port, options.device_id,
        [](const std::string& why) {
          log_line("woken: %s", why.c_str());
          wake();
        },
        [](const std::string& line) { log_line("%s", line.c_str()); });
    if (started.ok()) {
      mqtt = std::move(*started);
    } else {
      log_warning("%s; polling only", started.error().message.c_str());
    }
  }

  CycleResult result = agent.on_boot(*decision);
  log_cycle(result);
  bool ran_cycle = false;
  std::uint32_t unreachable = 0;  // cycles in a row that could not reach the server
  while (!g_stop.load()) {
    if (result.next == CycleResult::Next::kReboot || boot_control.reboot_requested()) {
      mqtt.reset();
      if (http) http->close();  // its socket would outlive exec
      udp.reset();
      return bootloader ? reboot_system(options, boot, *bootloader) : reboot_now(options, argv);
    }
    // --once says how its cycle went: a failed check-in is no success for cron.
    if (ran_cycle && options.once) {
      log_line("stopping");
      return result.error == ErrorCode::kOk ? kExitOk : kExitFailure;
    }
    if (ran_cycle) {
      if (http) http->close();  // no idle connection held through the sleep
      std::uint32_t sleep = std::min(result.sleep_seconds, options.poll_seconds);
      // 4xx: the check-in or the download could not reach the server.
      const std::uint16_t number = error_number(result.error);
      unreachable = number >= 400 && number < 500 ? unreachable + 1 : 0;
      if (unreachable > 0) {
        sleep = backoff_seconds(unreachable, options.poll_seconds, random.next());
        log_warning("server unreachable %u time%s in a row; next try in %u s", unreachable,
                    unreachable == 1 ? "" : "s", sleep);
      }
      if (sleep > 0) wait_for_wake(sleep);
      if (g_stop.load()) break;
    }
    flash.arm(true);
    result = agent.run_cycle();
    flash.arm(false);
    ran_cycle = true;
    if (g_stop.load() && result.error == ErrorCode::kFlashPowerLost) {
      log_line("update cycle cut short by the stop signal; the journal resumes it");
    } else {
      log_cycle(result);
    }
  }
  log_line("stopping");
  return kExitOk;
}

}  // namespace updraft::agent
