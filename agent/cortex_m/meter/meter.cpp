#include "agent/cortex_m/meter/meter.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "agent/agent.h"
#include "agent/boot_logic.h"
#include "agent/coap/coap_transport.h"
#include "agent/cortex_m/meter/emulator_boot_control.h"
#include "agent/cortex_m/meter/meter_map.h"
#include "agent/cortex_m/meter/meter_transport.h"
#include "agent/cortex_m/meter/nrf51_random.h"
#include "agent/cortex_m/meter/nrf51_timer.h"
#include "agent/cortex_m/meter/nrf51_uart_datagram.h"
#include "agent/cortex_m/meter/provisioning.h"
#include "agent/cortex_m/meter/semihosting_clock.h"
#include "agent/cortex_m/meter/semihosting_flash.h"
#include "agent/cortex_m/semihosting.h"
#include "agent/cortex_m/stack_usage.h"
#include "agent/signed_manifest_checker.h"
#include "crypto/mbedtls/mbedtls_verifier.h"
#include "delta/format/patch_format.h"

extern "C" std::uint32_t __data_start[], __data_end[], __bss_start[], __bss_end[];

namespace updraft::meter {
namespace {

using cortex_m::Line;

// The patcher's workspace for the mcu-tiny profile (the patch header states it;
// docs/design.md). Before a patch starts, the manifest's signature check borrows
// it as mbedTLS's arena.
constexpr std::size_t kWorkspaceBytes = 8 * 1024;  // the mcu-tiny profile budget
static_assert(kWorkspaceBytes >= MbedTlsVerifier::kArenaBytes);
alignas(8) std::byte g_workspace[kWorkspaceBytes];

// The meter's conditions as the policy sees them. There is no battery gauge in
// the emulation; a real meter reads its own.
constexpr std::uint8_t kBatteryPercent = 90;
// A failed cycle is retried after the agent's sleep, shortened to this under
// emulation so a run ends in minutes; after this many in a row the meter gives up
// until its next wake-up (the harness's next start).
constexpr std::uint32_t kMaxSleepMicros = 2'000'000;
constexpr int kMaxFailedCycles = 5;

MeterTransport* g_transport = nullptr;  // for the summary at exit

void print_error(Line& line, ErrorCode error) {
  // The number only: error_name()'s table of names and texts would cost 7 KB of
  // flash. The numbers are stable (core/error_code.h).
  line << "error " << std::uint64_t{error_number(error)};
}

// Printed last before every exit and reset: what the link carried, and RAM.
void print_figures() {
  if (g_transport != nullptr) g_transport->print_summary();
  const auto bytes = [](const std::uint32_t* begin, const std::uint32_t* end) {
    return static_cast<std::uint64_t>(end - begin) * sizeof(std::uint32_t);
  };
  const std::uint64_t data = bytes(__data_start, __data_end);
  const std::uint64_t bss = bytes(__bss_start, __bss_end);
  const std::uint64_t stack = cortex_m::stack_used();
  Line line;
  line << "meter: ram: static " << data + bss << " B (.data " << data << ", .bss " << bss
       << "), stack peak " << stack << " of " << std::uint64_t{cortex_m::stack_size()}
       << " B, total " << data + bss + stack << " of 16384 B";
  line.print();
}

[[noreturn]] void finish(ExitStatus status) {
  Line line;
  line << "meter: exit " << std::uint64_t{status};
  line.print();
  print_figures();
  cortex_m::semihosting_exit_status(status);
}

[[noreturn]] void fatal(const char* what, ErrorCode error) {
  Line line;
  line << "meter: FAIL: " << what << ": ";
  print_error(line, error);
  line.print();
  finish(kExitFatal);
}

void print_cycle(const char* what, const agent::CycleResult& r) {
  Line line;
  line << "meter: " << what << ": ";
  if (r.error == ErrorCode::kOk) {
    line << "done";
  } else {
    print_error(line, r.error);
  }
  line.print();
}

void sleep_for(std::uint32_t seconds) {
  const std::uint32_t micros = std::min<std::uint32_t>(
      kMaxSleepMicros, seconds > 4000 ? 4'000'000'000u : seconds * 1'000'000);
  const std::uint32_t start = Nrf51Timer::microseconds();
  while (Nrf51Timer::microseconds() - start < micros) {
  }
}

// Everything the meter needs, built once per boot in static storage (so it counts
// as static RAM, not stack); the boot logic's decision for the agent. Not inlined,
// so its locals are off the stack before the cycles run.
struct Started {
  agent::Agent* agent;
  agent::BootDecision decision;
};

[[gnu::noinline]] Started start() {
  static Provisioning provisioning;
  const ByteView page(reinterpret_cast<const std::byte*>(kProvisioningAddress), kProvisioningSize);
  if (auto r = parse_provisioning(page, provisioning); !r.ok()) {
    fatal("no provisioning page", r.error());
  }
  static SemihostingFlash flash;
  if (auto r = flash.open(kFlashFile, kFlashGeometry); !r.ok()) fatal(kFlashFile, r.error());
  const Result<agent::FlashLayout> layout =
      agent::plan_layout(kFlashGeometry, kImageCapacity, kStagingCapacity);
  if (!layout.ok()) fatal("flash layout", layout.error());

  // The bootloader's part.
  agent::BootLogic boot(flash, *layout);
  const Result<agent::BootDecision> decision = boot.boot();
  if (!decision.ok()) fatal("boot", decision.error());
  const Result<agent::BootState> state = boot.load();
  if (!state.ok()) fatal("boot state", state.error());
  Line line;
  line << "meter: boot: slot " << (decision->slot == 0 ? "A" : "B") << ", version "
       << state->slots[decision->slot].version.data() << ", device "
       << provisioning.device_id.data() << (decision->trial ? " (trial)" : "");
  line.print();

  static Nrf51UartDatagram link;
  static Nrf51Random random;
  agent::CoapOptions options;
  options.device_id = provisioning.device_id.data();  // NUL-terminated in the page
  options.mac_key = provisioning.mac_key;
  options.block_size = 1024;
  static agent::CoapTransport coap(link, options, static_cast<std::uint16_t>(random.next()));
  static MeterTransport transport(coap);
  g_transport = &transport;
  static MbedTlsVerifier verifier(g_workspace);
  static agent::SignedManifestChecker checker(provisioning.trusted_root, verifier,
                                              provisioning.product, provisioning.hardware);
  if (auto r = checker.init(); !r.ok()) fatal("trusted root", r.error());
  static SemihostingClock clock;
  static EmulatorBootControl boot_control(print_figures);
  const agent::Ports ports{flash, transport, clock, random, boot_control, checker};
  agent::AgentConfig config;
  config.policy.battery_floor_percent = 20;
  config.policy.allowed_networks = 1u << static_cast<unsigned>(agent::NetworkType::kNbIot);
  static agent::Agent agent(ports, *layout, config, g_workspace);
  agent.set_conditions(kBatteryPercent, agent::NetworkType::kNbIot);
  return Started{&agent, *decision};
}

}  // namespace

void run_meter() {
  cortex_m::semihosting_write("meter: start\n");
  const Started started = start();
  agent::Agent& agent = *started.agent;
  // A reboot the agent asks for does not return: reboot() leaves QEMU.
  const agent::CycleResult booted = agent.on_boot(started.decision);
  if (started.decision.trial || booted.error == ErrorCode::kAgentTrialFailed) {
    // A trial was confirmed, or its rollback reported: this update is over.
    print_cycle("after boot", booted);
    finish(kExitDone);
  }
  // Anything else that failed here (a flash error, an installed image that no
  // longer verifies) is for the cycles to mend: they check in and start again.
  if (booted.error != ErrorCode::kOk) print_cycle("after boot", booted);
  for (int failed = 0;;) {
    const agent::CycleResult cycle = agent.run_cycle();
    // Nothing offered (or nothing left to do): sleep until the next check-in.
    if (cycle.error == ErrorCode::kOk) finish(kExitDone);
    print_cycle("cycle", cycle);
    if (++failed >= kMaxFailedCycles) finish(kExitGaveUp);
    sleep_for(cycle.sleep_seconds);
  }
}

}  // namespace updraft::meter
