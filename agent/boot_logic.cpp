#include "agent/boot_logic.h"

#include <algorithm>

#include "agent/slot_io.h"
#include "crypto/constant_time.h"

namespace updraft::agent {

BootLogic::BootLogic(Flash& flash, const FlashLayout& layout)
    : flash_(flash), layout_(layout), store_(flash, layout.boot_state_offset, kRecordSlotSize) {}

Result<BootState> BootLogic::load() {
  std::byte buffer[kBootStateBytes];
  UPDRAFT_TRY_ASSIGN(std::uint32_t length, store_.load(buffer));
  return decode_boot_state(ByteView(buffer, length));
}

Result<void> BootLogic::save(const BootState& state) {
  std::byte buffer[kBootStateBytes];
  encode_boot_state(state, buffer);
  return store_.store(buffer);
}

Result<bool> BootLogic::slot_matches(SlotIndex slot, const SlotInfo& info) {
  if (!info.valid || info.size > layout_.slot_size) return false;
  UPDRAFT_TRY_ASSIGN(Sha256Digest digest,
                     hash_region(flash_, layout_.slot_offset[slot], info.size));
  return constant_time_equal(digest, info.hash);
}

Result<BootDecision> BootLogic::boot() {
  UPDRAFT_TRY_ASSIGN(BootState state, load());
  if (state.trial_state == TrialState::kPending && state.trial != kNoSlot) {
    // Record the attempt before starting it: if the trial image hangs or resets,
    // the next boot sees kBooted and reverts. This is what makes the trial "once".
    state.trial_state = TrialState::kBooted;
    UPDRAFT_TRY(save(state));
    UPDRAFT_TRY_ASSIGN(bool trial_ok, slot_matches(state.trial, state.slots[state.trial]));
    if (trial_ok) return BootDecision{state.trial, true};
  }
  if (state.trial_state != TrialState::kNone) {
    // Reached only when the trial did not confirm (or did not verify): revert.
    state.slots[state.trial].valid = false;
    state.trial = kNoSlot;
    state.trial_state = TrialState::kNone;
    UPDRAFT_TRY(save(state));
  }
  UPDRAFT_TRY_ASSIGN(bool active_ok, slot_matches(state.active, state.slots[state.active]));
  if (active_ok) return BootDecision{state.active, false};
  const SlotIndex other = static_cast<SlotIndex>(1 - state.active);
  UPDRAFT_TRY_ASSIGN(bool other_ok, slot_matches(other, state.slots[other]));
  if (other_ok) {
    state.active = other;
    UPDRAFT_TRY(save(state));
    return BootDecision{other, false};
  }
  return ErrorCode::kBootNoValidImage;
}

Result<void> BootLogic::provision(SlotIndex slot, const SlotInfo& info) {
  BootState state;
  state.active = slot;
  state.slots[slot] = info;
  return save(state);
}

Result<void> BootLogic::schedule_trial(SlotIndex slot, const SlotInfo& info) {
  UPDRAFT_TRY_ASSIGN(BootState state, load());
  state.slots[slot] = info;
  state.trial = slot;
  state.trial_state = TrialState::kPending;
  return save(state);
}

Result<void> BootLogic::confirm() {
  UPDRAFT_TRY_ASSIGN(BootState state, load());
  if (state.trial == kNoSlot || state.trial_state != TrialState::kBooted) return {};
  state.active = state.trial;
  state.trial = kNoSlot;
  state.trial_state = TrialState::kNone;
  return save(state);
}

}  // namespace updraft::agent
