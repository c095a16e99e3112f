// Fuzz target for the Mender artifact reader (server/mender/mender_artifact.h):
// the outer tar, the gzip streams, the header's tar and JSON, the manifest and
// the payload checksums of an uploaded `.mender` file.
// Properties, checked on every input (abort() otherwise):
//   - read_artifact() refuses with kApiBadRequest and a message;
//   - or it gives a named artifact with device types and at least one payload,
//     whose files all have a 64-digit SHA-256.
// Built as a libFuzzer binary with UPDRAFT_FUZZ, else into mender_fuzz_replay,
// which runs the seed corpus in the normal test run (see README.md).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "server/mender/mender_artifact.h"

namespace updraft::server::mender {
namespace {

void check(bool holds, const char* property) {
  if (!holds) {
    std::fprintf(stderr, "mender_fuzz: property violated: %s\n", property);
    std::abort();
  }
}

void check_artifact(ByteView input) {
  HostResult<Artifact> artifact = read_artifact(input);
  if (!artifact.ok()) {
    check(artifact.error().code == ErrorCode::kApiBadRequest, "refusal is not kApiBadRequest");
    check(!artifact.error().message.empty(), "refusal without a message");
    return;
  }
  check(!artifact->name.empty(), "an accepted artifact without a name");
  check(!artifact->device_types.empty(), "an accepted artifact without device types");
  check(!artifact->payloads.empty() && artifact->payloads.size() <= kMaxPayloads,
        "payload count out of bounds");
  for (const Payload& p : artifact->payloads) {
    check(!p.type.empty(), "a payload without a type");
    for (const PayloadFile& f : p.files) check(f.sha256.size() == 64, "a file without its SHA-256");
  }
}

}  // namespace
}  // namespace updraft::server::mender

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  updraft::server::mender::check_artifact(
      updraft::ByteView(reinterpret_cast<const std::byte*>(data), size));
  return 0;
}
