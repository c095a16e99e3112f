#include "server/mender/mender_artifact.h"

#include <cstdio>
#include <map>
#include <set>

#include "core/host/hex.h"
#include "crypto/host/base64.h"
#include "crypto/sha256.h"
#include "server/mender/mender_keys.h"
#include "server/mender/tar_reader.h"

namespace updraft::server::mender {
namespace {

using nlohmann::json;

constexpr std::uint64_t kMaxSmallEntry = 64 * 1024;  // version, manifest.sig, type-info, ...
constexpr std::uint64_t kMaxManifestBytes = 1 << 20;

Error bad(const std::string& message) { return Error(ErrorCode::kApiBadRequest, message); }

// A whole entry of at most `max` bytes, as text.
HostResult<std::string> read_small(TarReader& tar, const TarEntry& entry, std::uint64_t max,
                                   const std::string& what) {
  if (entry.size > max)
    return bad(what + ": " + std::to_string(entry.size) + " bytes, more than the " +
               std::to_string(max) + " allowed");
  std::string text(static_cast<std::size_t>(entry.size), '\0');
  UPDRAFT_TRY(tar.contents().read_exactly(std::as_writable_bytes(std::span(text)), what));
  return text;
}

std::string sha256_hex(std::string_view text) {
  return to_hex(Sha256::digest(std::as_bytes(std::span(text.data(), text.size()))));
}

HostResult<json> parse_json_object(const std::string& text, const std::string& what) {
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded() || !value.is_object()) return bad(what + ": not a JSON object");
  return value;
}

// An optional member that must be an object when present; {} when absent.
HostResult<json> object_member(const json& parent, const char* key, const std::string& what) {
  if (!parent.contains(key)) return json::object();
  if (!parent[key].is_object()) return bad(what + ": " + key + ": must be an object");
  return parent[key];
}

HostResult<std::vector<std::string>> string_list(const json& value, const std::string& what) {
  if (!value.is_array()) return bad(what + ": must be a list of names");
  std::vector<std::string> out;
  for (const json& item : value) {
    if (!item.is_string() || item.get<std::string>().empty())
      return bad(what + ": must be a list of names");
    out.push_back(item.get<std::string>());
  }
  return out;
}

// "<64 hex>  <path>" per line.
HostResult<std::map<std::string, std::string>> parse_manifest(const std::string& text) {
  std::map<std::string, std::string> sums;
  std::size_t at = 0, line_number = 0;
  while (at < text.size()) {
    const std::size_t end = text.find('\n', at);
    const std::string line =
        text.substr(at, end == std::string::npos ? std::string::npos : end - at);
    at = end == std::string::npos ? text.size() : end + 1;
    ++line_number;
    if (line.empty()) continue;
    const std::string where = "manifest line " + std::to_string(line_number);
    if (line.size() < 67 || line.compare(64, 2, "  ") != 0)
      return bad(where + ": not \"<sha256>  <path>\"");
    const std::string sum = line.substr(0, 64), path = line.substr(66);
    if (sum.find_first_not_of("0123456789abcdef") != std::string::npos)
      return bad(where + ": the checksum is not 64 lower-case hex digits");
    if (!sums.emplace(path, sum).second) return bad(where + ": " + path + " is listed twice");
  }
  if (sums.empty()) return bad("manifest: empty");
  return sums;
}

struct HeaderInfo {
  std::vector<std::string> payload_types;
};

HostResult<void> read_header_info(const std::string& text, Artifact& artifact, HeaderInfo& info) {
  const std::string what = "header-info";
  UPDRAFT_TRY_ASSIGN(const json h, parse_json_object(text, what));
  if (!h.contains("payloads") || !h["payloads"].is_array() || h["payloads"].empty())
    return bad(what + ": payloads: required, a list of at least one");
  if (h["payloads"].size() > kMaxPayloads)
    return bad(what + ": payloads: more than " + std::to_string(kMaxPayloads));
  for (const json& p : h["payloads"]) {
    if (!p.is_object() || !p.contains("type") || !p["type"].is_string() ||
        p["type"].get<std::string>().empty()) {
      return bad(what + ": payloads: each needs a \"type\"");
    }
    info.payload_types.push_back(p["type"].get<std::string>());
  }
  UPDRAFT_TRY_ASSIGN(artifact.provides, object_member(h, "artifact_provides", what));
  UPDRAFT_TRY_ASSIGN(artifact.depends, object_member(h, "artifact_depends", what));
  if (!artifact.provides.contains("artifact_name") ||
      !artifact.provides["artifact_name"].is_string() ||
      artifact.provides["artifact_name"].get<std::string>().empty()) {
    return bad(what + ": artifact_provides.artifact_name: required text");
  }
  artifact.name = artifact.provides["artifact_name"].get<std::string>();
  if (!artifact.depends.contains("device_type"))
    return bad(what + ": artifact_depends.device_type: required, a list of names");
  UPDRAFT_TRY_ASSIGN(artifact.device_types, string_list(artifact.depends["device_type"],
                                                        what + ": artifact_depends.device_type"));
  if (artifact.device_types.empty())
    return bad(what + ": artifact_depends.device_type: required, a list of names");
  return {};
}

HostResult<void> read_type_info(const std::string& text, const std::string& what,
                                const std::string& expected_type, Payload& payload) {
  UPDRAFT_TRY_ASSIGN(const json t, parse_json_object(text, what));
  // mender-artifact writes an empty type into a rootfs-image's type-info; any
  // other payload names its type there as in header-info.
  const std::string type =
      t.contains("type") && t["type"].is_string() ? t["type"].get<std::string>() : "";
  if (!t.contains("type") || !t["type"].is_string() ||
      (type != expected_type && !(type.empty() && expected_type == "rootfs-image"))) {
    return bad(what + ": type: \"" + type + "\" is not header-info's \"" + expected_type + "\"");
  }
  payload.type = expected_type;
  UPDRAFT_TRY_ASSIGN(payload.provides, object_member(t, "artifact_provides", what));
  UPDRAFT_TRY_ASSIGN(payload.depends, object_member(t, "artifact_depends", what));
  if (t.contains("clears_artifact_provides")) {
    UPDRAFT_TRY_ASSIGN(payload.clears_provides, string_list(t["clears_artifact_provides"],
                                                            what + ": clears_artifact_provides"));
  }
  return {};
}

// header.tar: header-info first, then per payload NNNN its headers/NNNN/type-info
// and optional meta-data; state scripts (scripts/...) are allowed and not kept.
HostResult<void> read_header(ByteSource& tar_bytes, const std::string& what, Artifact& artifact) {
  TarReader tar(tar_bytes, what);
  UPDRAFT_TRY_ASSIGN(std::optional<TarEntry> entry, tar.next());
  if (!entry || entry->name != "header-info") return bad(what + ": header-info must come first");
  UPDRAFT_TRY_ASSIGN(const std::string info_text,
                     read_small(tar, *entry, kMaxSmallEntry, "header-info"));
  HeaderInfo info;
  UPDRAFT_TRY(read_header_info(info_text, artifact, info));
  artifact.payloads.resize(info.payload_types.size());
  std::vector<bool> typed(info.payload_types.size(), false);
  for (;;) {
    UPDRAFT_TRY_ASSIGN(entry, tar.next());
    if (!entry) break;
    const std::string& name = entry->name;
    if (name.rfind("scripts/", 0) == 0) continue;
    // headers/NNNN/<file>, NNNN four decimal digits.
    unsigned index = 0;
    char rest[32] = {};
    char prefix[24];
    if (name.size() > 40 || std::sscanf(name.c_str(), "headers/%4u/%31s", &index, rest) != 2 ||
        (std::snprintf(prefix, sizeof prefix, "headers/%04u/", index),
         name.compare(0, 13, prefix) != 0)) {
      return bad(what + ": unexpected entry \"" + name + "\"");
    }
    if (index >= artifact.payloads.size())
      return bad(what + ": \"" + name + "\" is for a payload header-info does not list");
    Payload& payload = artifact.payloads[index];
    const std::string file = rest;
    UPDRAFT_TRY_ASSIGN(const std::string text, read_small(tar, *entry, kMaxSmallEntry, name));
    if (file == "type-info") {
      if (typed[index]) return bad(what + ": \"" + name + "\" twice");
      UPDRAFT_TRY(read_type_info(text, name, info.payload_types[index], payload));
      typed[index] = true;
    } else if (file == "meta-data") {
      if (text.empty()) continue;
      json meta = json::parse(text, nullptr, false);
      if (meta.is_discarded() || !meta.is_object()) return bad(name + ": not a JSON object");
      payload.meta_data = meta;
    } else {
      return bad(what + ": unexpected entry \"" + name + "\"");
    }
  }
  for (std::size_t i = 0; i < typed.size(); ++i) {
    if (!typed[i]) {
      char index[24];
      std::snprintf(index, sizeof index, "%04zu", i);
      return bad(what + ": headers/" + index + "/type-info is missing");
    }
  }
  return {};
}

HostResult<void> read_payload_data(ByteSource& tar_bytes, const std::string& what,
                                   const std::string& prefix,
                                   const std::map<std::string, std::string>& sums,
                                   std::set<std::string>& seen, Payload& payload) {
  TarReader tar(tar_bytes, what);
  std::vector<std::byte> buffer(64 * 1024);
  for (;;) {
    UPDRAFT_TRY_ASSIGN(const std::optional<TarEntry> entry, tar.next());
    if (!entry) return {};
    if (entry->name.empty() || entry->name.find('/') != std::string::npos || entry->name == "." ||
        entry->name == "..") {
      return bad(what + ": \"" + entry->name + "\" is not a plain file name");
    }
    if (payload.files.size() >= kMaxFilesPerPayload)
      return bad(what + ": more than " + std::to_string(kMaxFilesPerPayload) + " files");
    const std::string listed = prefix + entry->name;
    const auto sum = sums.find(listed);
    if (sum == sums.end()) return bad(what + ": " + listed + " is not in the manifest");
    Sha256 hash;
    for (;;) {
      UPDRAFT_TRY_ASSIGN(const std::size_t n, tar.contents().read(buffer));
      if (n == 0) break;
      hash.update(ByteView(buffer.data(), n));
    }
    const std::string actual = to_hex(hash.finish());
    if (actual != sum->second)
      return bad(listed + ": its SHA-256 is " + actual + ", the manifest says " + sum->second);
    seen.insert(listed);
    payload.files.push_back({entry->name, entry->size, actual});
  }
}

HostResult<Artifact> read_from(ByteSource& source) {
  Artifact artifact;
  TarReader outer(source, "artifact");
  const auto expect = [&](const char* name) -> HostResult<TarEntry> {
    UPDRAFT_TRY_ASSIGN(const std::optional<TarEntry> entry, outer.next());
    if (!entry) return bad(std::string("artifact: ends before \"") + name + "\"");
    if (entry->name != name)
      return bad(std::string("artifact: \"") + name + "\" expected, found \"" + entry->name + "\"");
    return *entry;
  };

  UPDRAFT_TRY_ASSIGN(const TarEntry version_entry, expect("version"));
  UPDRAFT_TRY_ASSIGN(const std::string version_text,
                     read_small(outer, version_entry, kMaxSmallEntry, "version"));
  UPDRAFT_TRY_ASSIGN(const json version, parse_json_object(version_text, "version"));
  if (!version.contains("format") || version["format"] != "mender")
    return bad("version: format: not \"mender\"");
  if (!version.contains("version") || !version["version"].is_number_integer() ||
      version["version"].get<std::int64_t>() != 3) {
    return bad("version: version: only format version 3 is supported");
  }

  UPDRAFT_TRY_ASSIGN(const TarEntry manifest_entry, expect("manifest"));
  UPDRAFT_TRY_ASSIGN(artifact.manifest,
                     read_small(outer, manifest_entry, kMaxManifestBytes, "manifest"));
  UPDRAFT_TRY_ASSIGN(const auto sums, parse_manifest(artifact.manifest));
  std::set<std::string> seen;
  const auto check_sum = [&](const std::string& listed,
                             const std::string& actual) -> HostResult<void> {
    const auto sum = sums.find(listed);
    if (sum == sums.end()) return bad("manifest: " + listed + " is not listed");
    if (sum->second != actual)
      return bad(listed + ": its SHA-256 is " + actual + ", the manifest says " + sum->second);
    seen.insert(listed);
    return {};
  };
  UPDRAFT_TRY(check_sum("version", sha256_hex(version_text)));

  UPDRAFT_TRY_ASSIGN(std::optional<TarEntry> entry, outer.next());
  if (entry && entry->name == "manifest.sig") {
    UPDRAFT_TRY_ASSIGN(artifact.signature,
                       read_small(outer, *entry, kMaxSmallEntry, "manifest.sig"));
    if (artifact.signature.empty()) return bad("manifest.sig: empty");
    UPDRAFT_TRY_ASSIGN(entry, outer.next());
  }
  if (!entry) return bad("artifact: ends before its header");
  if (entry->name == "header.tar.xz" || entry->name == "header.tar.zst")
    return bad(entry->name + ": only gzip-compressed or uncompressed artifacts are supported");
  const bool gzip = entry->name == "header.tar.gz";
  if (!gzip && entry->name != "header.tar")
    return bad("artifact: \"header.tar.gz\" expected, found \"" + entry->name + "\"");
  const std::string header_name = entry->name;
  UPDRAFT_TRY_ASSIGN(const std::string header_bytes,
                     read_small(outer, *entry, kMaxHeaderBytes, header_name));
  UPDRAFT_TRY(check_sum(header_name, sha256_hex(header_bytes)));
  {
    MemorySource raw(std::as_bytes(std::span(header_bytes.data(), header_bytes.size())));
    if (gzip) {
      GzipSource unzipped(raw, header_name);
      CappedSource bounded(unzipped, kMaxHeaderBytes, header_name + " unpacked");
      UPDRAFT_TRY(read_header(bounded, header_name, artifact));
    } else {
      UPDRAFT_TRY(read_header(raw, header_name, artifact));
    }
  }

  for (std::size_t index = 0;; ++index) {
    UPDRAFT_TRY_ASSIGN(entry, outer.next());
    if (!entry) {
      if (index != artifact.payloads.size()) {
        return bad("artifact: " + std::to_string(artifact.payloads.size()) +
                   " payloads in header-info, " + std::to_string(index) + " data entries");
      }
      break;
    }
    char number[24];
    std::snprintf(number, sizeof number, "%04zu", index);
    const std::string stem = std::string("data/") + number;
    const std::string expected = stem + (gzip ? ".tar.gz" : ".tar");
    if (entry->name != expected)
      return bad("artifact: \"" + expected + "\" expected, found \"" + entry->name + "\"");
    if (index >= artifact.payloads.size())
      return bad("artifact: " + entry->name + " has no payload in header-info");
    Payload& payload = artifact.payloads[index];
    if (gzip) {
      GzipSource unzipped(outer.contents(), entry->name);
      UPDRAFT_TRY(read_payload_data(unzipped, entry->name, stem + "/", sums, seen, payload));
    } else {
      UPDRAFT_TRY(
          read_payload_data(outer.contents(), entry->name, stem + "/", sums, seen, payload));
    }
  }
  for (const auto& [listed, sum] : sums) {
    if (!seen.contains(listed))
      return bad("manifest: " + listed + " is listed but not in the artifact");
  }
  return artifact;
}

}  // namespace

std::uint64_t payload_bytes(const Artifact& artifact) {
  std::uint64_t total = 0;
  for (const Payload& p : artifact.payloads) {
    for (const PayloadFile& f : p.files) total += f.size;
  }
  return total;
}

HostResult<Artifact> read_artifact_file(const std::string& path) {
  UPDRAFT_TRY_ASSIGN(std::unique_ptr<FileSource> file, FileSource::open(path));
  return read_from(*file);
}

HostResult<Artifact> read_artifact(ByteView bytes) {
  MemorySource source(bytes);
  return read_from(source);
}

HostResult<void> verify_artifact_signature(const Artifact& artifact, std::string_view pem) {
  if (artifact.signature.empty())
    return Error(ErrorCode::kSignatureMissing, "manifest.sig: the artifact is not signed");
  std::string text;  // base64, maybe with a trailing newline
  for (const char c : artifact.signature) {
    if (c != '\n' && c != '\r' && c != ' ') text += c;
  }
  HostResult<std::vector<std::byte>> signature = base64_decode(text);
  if (!signature.ok()) return Error(ErrorCode::kSignatureInvalid, "manifest.sig: not base64");
  HostResult<void> verified = verify_signature(
      pem, std::as_bytes(std::span(artifact.manifest.data(), artifact.manifest.size())),
      *signature);
  if (!verified.ok())
    return Error(verified.error().code, "manifest.sig: " + verified.error().message);
  return {};
}

}  // namespace updraft::server::mender
