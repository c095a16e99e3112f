#include "agent/linux/bootloader_boot.h"

#include <string>

namespace updraft::agent {
namespace {

Error state_error(ErrorCode code, const char* what) {
  return Error(code, std::string(what) + ": " + std::string(describe(code)));
}

}  // namespace

HostResult<BootloaderBoot> follow_bootloader(BootLogic& boot, const BootloaderEnv& env,
                                             SlotIndex booted) {
  Result<BootState> loaded = boot.load();
  if (!loaded.ok()) return state_error(loaded.error(), "reading the boot state");
  BootState state = *loaded;
  UPDRAFT_TRY_ASSIGN(BootloaderSlots slots, env.read());
  BootloaderBoot result;
  result.decision = BootDecision{booted, false};

  if (state.trial != kNoSlot && state.trial_state != TrialState::kNone) {
    const SlotIndex trial = state.trial;
    if (booted == trial) {
      if (state.trial_state == TrialState::kPending) {
        state.trial_state = TrialState::kBooted;
        if (auto r = boot.save(state); !r.ok())
          return state_error(r.error(), "saving the boot state");
      }
      result.decision.trial = true;
      return result;
    }
    // Pending and never booted: still offered (this system has not rebooted yet),
    // or not offered yet (`install`, or a power cut before the offer).
    if (state.trial_state == TrialState::kPending && (slots.trial != trial || slots.tries > 0)) {
      result.reboot_due = true;
      return result;
    }
    // The trial ran out of tries or failed its health check: the boot loader
    // booted the confirmed slot, and so the trial is over.
    state.slots[trial].valid = false;
    state.trial = kNoSlot;
    state.trial_state = TrialState::kNone;
    if (auto r = boot.save(state); !r.ok()) return state_error(r.error(), "saving the boot state");
    result.reverted = true;
  } else if (booted != state.active && state.slots[booted].valid) {
    // Someone chose the other slot by hand; it holds a verified image.
    state.active = booted;
    if (auto r = boot.save(state); !r.ok()) return state_error(r.error(), "saving the boot state");
  } else if (booted != state.active) {
    return Error(ErrorCode::kBootNoValidImage,
                 std::string("the boot loader started slot ") + slot_name(booted) +
                     ", which holds no image the agent installed and verified");
  }
  if (slots.active != state.active || slots.trial != kNoSlot) {
    UPDRAFT_TRY(env.write(BootloaderSlots{state.active, kNoSlot, 0}));
  }
  return result;
}

HostResult<void> offer_trial(BootLogic& boot, const BootloaderEnv& env, unsigned tries) {
  Result<BootState> state = boot.load();
  if (!state.ok()) return state_error(state.error(), "reading the boot state");
  if (state->trial == kNoSlot || state->trial_state != TrialState::kPending) return {};
  return env.write(BootloaderSlots{state->active, state->trial, tries});
}

HostResult<std::string> confirm_running_slot(const BootloaderEnv& env, SlotIndex booted) {
  UPDRAFT_TRY_ASSIGN(BootloaderSlots slots, env.read());
  const std::string name = slot_name(booted);
  if (slots.trial == booted) {
    UPDRAFT_TRY(env.write(BootloaderSlots{booted, kNoSlot, 0}));
    return "slot " + name + " confirmed: the boot loader boots it from now on";
  }
  if (slots.active == booted) {
    return "slot " + name + " is the confirmed slot already" +
           (slots.trial != kNoSlot ? "; the other waits for its trial boot" : "");
  }
  return Error(ErrorCode::kInvalidArgument,
               "slot " + name +
                   " runs, but the boot loader neither offers it on trial nor boots it by "
                   "default: nothing to confirm");
}

}  // namespace updraft::agent
