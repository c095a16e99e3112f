// The smoke test the firmware runs: one release manifest's ECDSA P-256 signature
// checked with mbedTLS, then one real delta apply on the device.
#pragma once

namespace updraft::cortex_m {

// Checks the embedded release manifest's signature with the embedded release key
// (and that a forged one is refused), then applies the embedded patch to the
// embedded old image (slot A) into slot B, feeding it in radio-sized chunks, and
// checks slot B's SHA-256 against the patch header and the manifest. Prints the
// result and the figures; true on success.
bool run_smoke_test();

}  // namespace updraft::cortex_m
