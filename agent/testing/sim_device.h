// A simulated device: NOR flash (in memory) behind a FaultFlash, the real boot
// logic and the real agent, with a clock, a random source and a boot control that
// records reboots. Tests and the fleet simulator drive it. Host only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "agent/agent.h"
#include "agent/posix/memory_flash.h"
#include "agent/root_keeper.h"
#include "agent/signed_manifest_checker.h"
#include "agent/testing/fault_flash.h"

namespace updraft::agent {

class SimDevice final : public BootControl, public Clock, public Random {
 public:
  struct Options {
    FlashGeometry geometry{};
    std::uint32_t image_capacity = 0;
    AgentConfig config{};
    std::size_t workspace_bytes = 8 * 1024;
    std::uint32_t staging_capacity = 0;  // a staging area for patches fetched in blocks
    // Root rotation: with a factory root, the device keeps its trusted root in a
    // RootKeeper (two sectors after the layout, one root per sector), and points
    // `root_checker` (which must be the ManifestChecker given) at it at every boot.
    std::vector<std::byte> factory_root;
    SignedManifestChecker* root_checker = nullptr;
    SignatureVerifier* root_verifier = nullptr;
  };

  // Flash holds `image` in slot 0, provisioned as `version` with `security_counter`.
  SimDevice(const Options& options, Transport& transport, ManifestChecker& checker,
            const std::vector<std::byte>& image, const char* version,
            std::uint32_t security_counter);

  // A reset: the boot logic picks a slot, the agent starts on it (on_boot).
  // Returns the boot logic's error if nothing bootable remains (a bricked device).
  Result<CycleResult> power_on();
  // One agent cycle; the device must be powered on.
  CycleResult cycle();

  FaultFlash& flash() { return fault_; }
  MemoryFlash& raw_flash() { return memory_; }
  const FlashLayout& layout() const { return layout_; }
  Agent& agent() { return *agent_; }
  // The root keeper of this boot (nullptr without a factory root, or before power_on()).
  RootKeeper* root_keeper() { return root_keeper_.get(); }
  // Where the root records are (with a factory root): two sectors from here.
  std::uint32_t root_store_offset() const { return layout_.end; }
  std::optional<BootDecision> booted() const { return booted_; }
  // The image in the running slot, per the boot state.
  Result<SlotInfo> running_image();
  bool reboot_requested() const { return reboot_requested_; }

  void set_healthy(bool healthy) { healthy_ = healthy; }
  void set_time(std::uint64_t unix_seconds) { now_ = unix_seconds; }

  // Ports.
  void reboot() override { reboot_requested_ = true; }
  bool healthy() override { return healthy_; }
  std::uint64_t unix_seconds() const override { return now_; }
  std::uint64_t next() override;

 private:
  Options options_;
  Transport& transport_;
  ManifestChecker& checker_;
  MemoryFlash memory_;
  FaultFlash fault_;
  FlashLayout layout_;
  std::vector<std::byte> workspace_;
  std::unique_ptr<Agent> agent_;
  std::vector<std::byte> root_buffer_;
  std::unique_ptr<RootKeeper> root_keeper_;
  std::optional<BootDecision> booted_;
  bool reboot_requested_ = false;
  bool healthy_ = true;
  std::uint64_t now_ = 1'800'000'000;
  std::uint64_t rng_ = 0x9E3779B97F4A7C15ull;
};

}  // namespace updraft::agent
