// Boot decisions as a bootloader makes them (portable, no heap), and the state
// changes the agent makes around an install. All state lives in the boot-state
// RecordStore, so every step survives a power cut at any flash operation.
//
//   boot at reset:  trial pending -> record "booted" first, then boot the trial slot
//                   trial booted  -> it never confirmed: revert to the active slot
//                   otherwise     -> the active slot
//   A slot is booted only if its contents match the size and SHA-256 recorded for
//   it; otherwise the other slot, if it verifies; otherwise kBootNoValidImage.
//
// RAM: a BootState (~140 bytes) + < 600 bytes of stack.
#pragma once

#include "agent/boot_state.h"
#include "agent/flash_layout.h"
#include "agent/port/flash.h"
#include "agent/record_store.h"

namespace updraft::agent {

struct BootDecision {
  SlotIndex slot = 0;
  bool trial = false;  // running an unconfirmed image: the agent must confirm it
};

class BootLogic {
 public:
  BootLogic(Flash& flash, const FlashLayout& layout);

  // Runs at every reset: picks the slot to start and records the decision.
  Result<BootDecision> boot();

  // Factory state: slot `slot` holds `info` and is active.
  Result<void> provision(SlotIndex slot, const SlotInfo& info);

  Result<BootState> load();
  Result<void> save(const BootState& state);

  // The agent installed a verified image into `slot`: boot it once on trial.
  Result<void> schedule_trial(SlotIndex slot, const SlotInfo& info);
  // The running trial passed its health check: make it the active slot.
  Result<void> confirm();

  // True if the slot's bytes match the recorded size and SHA-256.
  Result<bool> slot_matches(SlotIndex slot, const SlotInfo& info);

  const FlashLayout& layout() const { return layout_; }

 private:
  Flash& flash_;
  FlashLayout layout_;
  RecordStore store_;
};

}  // namespace updraft::agent
