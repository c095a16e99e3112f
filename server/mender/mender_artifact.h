// Reads a Mender artifact (`.mender`, format version 3, as `mender-artifact write
// module-image` and `rootfs-image` make it) and checks it whole before the server
// keeps it: the outer tar's entries in order (version, manifest, an optional
// manifest.sig, header.tar.gz, data/NNNN.tar.gz), the version record, the header
// (header-info and each payload's type-info and meta-data), and the SHA-256 of
// every file the manifest lists (version, header.tar.gz and each payload file)
// against what it holds, with none missing and none unlisted. Streams the file,
// so a rootfs image of any size costs a few buffers.
//
// Errors: kApiBadRequest with a message that names the entry or field, e.g.
// "header-info: artifact_depends.device_type: required, a list of names";
// kIoError for the file itself. Compression: gzip or none ("header.tar");
// xz and zstd are refused by name. Host only.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/host/error.h"

namespace updraft::server::mender {

struct PayloadFile {
  std::string name;
  std::uint64_t size = 0;
  std::string sha256;  // lower-case hex, checked against the manifest
};

struct Payload {
  std::string type;         // "rootfs-image", "single-file", ...
  nlohmann::json provides;  // type-info artifact_provides (object, maybe empty)
  nlohmann::json depends;   // type-info artifact_depends (object, maybe empty)
  std::vector<std::string> clears_provides;
  nlohmann::json meta_data;        // headers/NNNN/meta-data, or null
  std::vector<PayloadFile> files;  // in the order of the data tar
};

struct Artifact {
  std::string name;                       // artifact_provides.artifact_name
  std::vector<std::string> device_types;  // artifact_depends.device_type
  nlohmann::json provides;                // header-info artifact_provides
  nlohmann::json depends;                 // header-info artifact_depends
  std::vector<Payload> payloads;
  std::string manifest;   // the manifest's text: what a signature covers
  std::string signature;  // manifest.sig as stored (base64 text), "" when unsigned
};

// Every payload file's size, uncompressed.
std::uint64_t payload_bytes(const Artifact& artifact);

// Limits on what the header may hold, so a hostile file costs little to refuse.
inline constexpr std::uint64_t kMaxHeaderBytes = 1 << 20;  // header.tar.gz, and each file in it
inline constexpr std::size_t kMaxPayloads = 16;
inline constexpr std::size_t kMaxFilesPerPayload = 1024;

HostResult<Artifact> read_artifact_file(const std::string& path);
HostResult<Artifact> read_artifact(ByteView bytes);

// Checks the artifact's manifest.sig with the PEM public key `pem` (mender_keys.h):
// kSignatureMissing for an unsigned artifact, kSignatureInvalid for a signature
// the key did not make, kApiBadRequest for a key that is no Mender key.
HostResult<void> verify_artifact_signature(const Artifact& artifact, std::string_view pem);

}  // namespace updraft::server::mender
