#include "agent/testing/sim_device.h"

#include <cstdlib>
#include <cstring>

namespace updraft::agent {

SimDevice::SimDevice(const Options& options, Transport& transport, ManifestChecker& checker,
                     const std::vector<std::byte>& image, const char* version,
                     std::uint32_t security_counter)
    : options_(options),
      transport_(transport),
      checker_(checker),
      memory_(options.geometry),
      fault_(memory_),
      layout_(
          plan_layout(options.geometry, options.image_capacity, options.staging_capacity).value()),
      workspace_(options.workspace_bytes) {
  // Factory programming: not part of any power-cut scenario, so straight to memory.
  std::vector<std::byte>& raw = memory_.raw();
  std::memcpy(raw.data() + layout_.slot_offset[0], image.data(), image.size());
  SlotInfo info;
  info.valid = true;
  info.size = static_cast<std::uint32_t>(image.size());
  info.hash = Sha256::digest(image);
  info.security_counter = security_counter;
  set_version(info, version);
  BootLogic boot(memory_, layout_);
  if (!boot.provision(0, info).ok()) std::abort();
  if (!options.factory_root.empty()) {
    if (options.root_checker == nullptr || options.root_verifier == nullptr) std::abort();
    RecordStore roots(memory_, root_store_offset(), options.geometry.sector_size);
    if (!roots.store(options.factory_root).ok()) std::abort();  // does not fit the flash
    root_buffer_.resize(2 * std::size_t{RootKeeper::max_root_for(options.geometry.sector_size)});
  }
}

Result<CycleResult> SimDevice::power_on() {
  fault_.power_on();
  reboot_requested_ = false;
  agent_.reset();
  root_keeper_.reset();
  booted_.reset();
  BootLogic boot(fault_, layout_);
  UPDRAFT_TRY_ASSIGN(BootDecision decision, boot.boot());
  booted_ = decision;
  Ports ports{fault_, transport_, *this, *this, *this, checker_};
  agent_ = std::make_unique<Agent>(ports, layout_, options_.config, workspace_);
  if (!options_.factory_root.empty()) {
    root_keeper_ =
        std::make_unique<RootKeeper>(fault_, root_store_offset(), options_.geometry.sector_size,
                                     root_buffer_, *options_.root_verifier, *options_.root_checker);
    UPDRAFT_TRY(root_keeper_->open(options_.factory_root));
    agent_->set_root_updater(root_keeper_.get());
  }
  return agent_->on_boot(decision);
}

CycleResult SimDevice::cycle() { return agent_->run_cycle(); }

Result<SlotInfo> SimDevice::running_image() {
  if (!booted_) return ErrorCode::kBootNoValidImage;
  BootLogic boot(memory_, layout_);
  UPDRAFT_TRY_ASSIGN(BootState state, boot.load());
  return state.slots[booted_->slot];
}

std::uint64_t SimDevice::next() {
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  return rng_;
}

}  // namespace updraft::agent
