// The smoke test the firmware runs: one real delta apply on the device.
#pragma once

namespace updraft::cortex_m {

// Applies the embedded patch to the embedded old image (slot A) into slot B,
// feeding it in radio-sized chunks, then checks slot B's SHA-256 against the
// patch header. Prints the result and the figures; true on success.
bool run_smoke_test();

}  // namespace updraft::cortex_m
