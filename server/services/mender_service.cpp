#include "server/services/mender_service.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "core/host/hex.h"
#include "crypto/constant_time.h"
#include "crypto/hmac_sha256.h"
#include "crypto/host/base64.h"
#include "crypto/sha256.h"
#include "server/mender/mender_keys.h"
#include "server/model/names.h"
#include "server/services/audit_log.h"
#include "server/services/utf8.h"

namespace updraft::server {
namespace {

using nlohmann::json;

constexpr const char* kChannel = "mender";
constexpr std::size_t kMaxIdData = 4096;
constexpr std::size_t kMaxPubkey = 8192;
constexpr std::size_t kMaxAttributes = 256;
constexpr std::size_t kMaxAttributeBytes = 4096;

Error bad(std::string message) { return Error(ErrorCode::kApiBadRequest, std::move(message)); }
Error unauthorized(std::string message) {
  return Error(ErrorCode::kApiUnauthorized, std::move(message));
}

std::string base64url(ByteView bytes) {
  std::string text = base64_encode(bytes);
  std::replace(text.begin(), text.end(), '+', '-');
  std::replace(text.begin(), text.end(), '/', '_');
  while (!text.empty() && text.back() == '=') text.pop_back();
  return text;
}

std::string base64url(std::string_view text) {
  return base64url(as_bytes_view(text.data(), text.size()));
}

HostResult<std::string> from_base64url(std::string_view text) {
  std::string padded(text);
  std::replace(padded.begin(), padded.end(), '-', '+');
  std::replace(padded.begin(), padded.end(), '_', '/');
  while (padded.size() % 4 != 0) padded += '=';
  UPDRAFT_TRY_ASSIGN(const std::vector<std::byte> bytes, base64_decode(padded));
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::string hs256(const std::string& key, std::string_view input) {
  const Sha256Digest mac = HmacSha256::mac(as_bytes_view(key.data(), key.size()),
                                           as_bytes_view(input.data(), input.size()));
  return base64url(ByteView(mac.data(), mac.size()));
}

bool same_text(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         constant_time_equal(as_bytes_view(a.data(), a.size()), as_bytes_view(b.data(), b.size()));
}

// The device an identity becomes: stable across its keys.
DeviceId device_id_of(const std::string& id_data) {
  const Sha256Digest digest = Sha256::digest(as_bytes_view(id_data.data(), id_data.size()));
  return DeviceId{"mender-" + to_hex(ByteView(digest.data(), 10))};
}

// The identity as stored: the client's JSON object, parsed and dumped again, so
// that key order and spacing do not make two identities of one.
HostResult<std::string> canonical_id_data(std::string_view text) {
  if (text.empty() || text.size() > kMaxIdData) return bad("id_data: required, at most 4096 bytes");
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object() || parsed.empty())
    return bad("id_data: a JSON object with at least one attribute");
  return parsed.dump();
}

// A report's phase for a Mender status; "" for one that changes nothing.
std::optional<std::string> phase_for(const std::string& status) {
  if (status == "downloading") return std::string("downloading");
  if (status == "installing") return std::string("installing");
  if (status == "rebooting") return std::string("rebooting");
  if (status == "success" || status == "already-installed") return std::string("success");
  if (status == "failure") return std::string("failure");
  if (status == "pause_before_installing" || status == "pause_before_committing" ||
      status == "pause_before_rebooting") {
    return std::string();
  }
  return std::nullopt;
}

}  // namespace

std::string mender_deployment_id(DeploymentId id) {
  char text[40];
  std::snprintf(text, sizeof text, "00000000-0000-4000-8000-%012llx",
                static_cast<unsigned long long>(id.value));
  return text;
}

std::optional<DeploymentId> parse_mender_deployment_id(std::string_view text) {
  constexpr std::string_view kPrefix = "00000000-0000-4000-8000-";
  int base = 10;
  if (text.size() == kPrefix.size() + 12 && text.starts_with(kPrefix)) {
    text.remove_prefix(kPrefix.size());
    base = 16;
  }
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  // Twelve hex digits hold 48 bits: ids above have no Mender form.
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value <= 0 ||
      value > kMaxMenderDeploymentId) {
    return std::nullopt;
  }
  return DeploymentId{value};
}

HostResult<MenderAuthRequest> mender_auth_request_from_json(std::string_view body) {
  const json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) return bad("body: not a JSON object");
  MenderAuthRequest out;
  const auto text = [&](const char* key, std::string& into, bool required) -> HostResult<void> {
    const auto it = parsed.find(key);
    if (it == parsed.end() || it->is_null()) {
      if (required) return bad(std::string(key) + ": required");
      return {};
    }
    if (!it->is_string()) return bad(std::string(key) + ": must be a string");
    into = it->get<std::string>();
    return {};
  };
  std::string id_data;
  UPDRAFT_TRY(text("id_data", id_data, true));
  UPDRAFT_TRY_ASSIGN(out.id_data, canonical_id_data(id_data));
  UPDRAFT_TRY(text("pubkey", out.pubkey, true));
  if (out.pubkey.size() > kMaxPubkey) return bad("pubkey: at most 8192 bytes");
  UPDRAFT_TRY(text("tenant_token", out.tenant_token, false));
  return out;
}

MenderService::MenderService(Store& store, FleetService& fleet, UpdateService& updates,
                             const DeviceTokens& tokens)
    : store_(store),
      fleet_(fleet),
      updates_(updates),
      tokens_(tokens),
      jwt_key_(tokens.mac("mender-jwt-key")) {}

std::string MenderService::jwt(const MenderAuthSet& set, UnixTime now) const {
  const json header = {{"alg", "HS256"}, {"typ", "JWT"}};
  const json claims = {{"sub", set.device.value},
                       {"jti", std::to_string(set.id)},
                       {"iat", now},
                       {"exp", now + kMenderTokenSeconds},
                       {"iss", "updraft"},
                       {"mender.device", true}};
  const std::string input = base64url(header.dump()) + "." + base64url(claims.dump());
  return input + "." + hs256(jwt_key_, input);
}

HostResult<std::string> MenderService::authenticate(std::string_view body,
                                                    std::string_view signature, UnixTime now) {
  UPDRAFT_TRY_ASSIGN(MenderAuthRequest request, mender_auth_request_from_json(body));
  UPDRAFT_TRY_ASSIGN(request.pubkey, mender::canonical_public_key(request.pubkey));
  HostResult<std::vector<std::byte>> signature_bytes = base64_decode(signature);
  if (signature.empty() || !signature_bytes.ok())
    return unauthorized("X-MEN-Signature: required, base64");
  if (!mender::verify_signature(request.pubkey, as_bytes_view(body.data(), body.size()),
                                *signature_bytes)
           .ok()) {
    return unauthorized("X-MEN-Signature: does not verify with the request's pubkey");
  }
  MenderAuthSet set;
  HostResult<MenderAuthSet> found = store_.auth_set_by_key(request.id_data, request.pubkey);
  if (found.ok()) {
    set = *found;
  } else if (found.error().code != ErrorCode::kStoreNotFound) {
    return found.error();
  } else {
    set.id_data = request.id_data;
    set.pubkey = request.pubkey;
    set.status = AuthSetStatus::kPending;
    set.created_at = set.updated_at = now;
    HostResult<MenderAuthSet> created = store_.create_auth_set(set);
    // Two requests at once: the other made it.
    if (!created.ok() && created.error().code == ErrorCode::kStoreConflict)
      created = store_.auth_set_by_key(request.id_data, request.pubkey);
    if (!created.ok()) return created.error();
    set = *created;
    (void)append_audit(store_, now, "mender", "mender.auth_request",
                       "auth_set/" + std::to_string(set.id), {{"id_data", set.id_data}});
  }
  if (set.status == AuthSetStatus::kPreauthorized) {
    set.status = AuthSetStatus::kAccepted;
    set.updated_at = now;
    UPDRAFT_TRY(store_.update_auth_set(set));
  }
  if (set.status != AuthSetStatus::kAccepted)
    return unauthorized("the device is " + std::string(name_of(set.status)));
  HostResult<Device> device = fleet_.device(set.device);
  if (!device.ok() || device->decommissioned_at != 0)
    return unauthorized("the device is decommissioned");
  return jwt(set, now);
}

HostResult<Device> MenderService::device_of(std::string_view authorization, UnixTime now) {
  const std::optional<std::string_view> token = authorization_credentials(authorization, "Bearer");
  const Error refused = unauthorized("a valid device token is required");
  if (!token) return refused;
  const std::size_t first = token->find('.');
  const std::size_t last = token->rfind('.');
  if (first == std::string_view::npos || first == last) return refused;
  if (!same_text(hs256(jwt_key_, token->substr(0, last)), token->substr(last + 1))) return refused;
  HostResult<std::string> claims_text = from_base64url(token->substr(first + 1, last - first - 1));
  if (!claims_text.ok()) return refused;
  const json claims = json::parse(*claims_text, nullptr, false);
  if (claims.is_discarded() || !claims.is_object() || !claims.contains("exp") ||
      !claims["exp"].is_number_integer() || !claims.contains("jti") || !claims["jti"].is_string()) {
    return refused;
  }
  if (claims["exp"].get<std::int64_t>() <= now) return unauthorized("the device token expired");
  std::int64_t set_id = 0;
  const std::string jti = claims["jti"].get<std::string>();
  std::from_chars(jti.data(), jti.data() + jti.size(), set_id);
  HostResult<MenderAuthSet> set = store_.auth_set(set_id);
  if (!set.ok() || set->status != AuthSetStatus::kAccepted)
    return unauthorized("the device is not accepted");
  HostResult<Device> device = fleet_.device(set->device);
  if (!device.ok() || device->decommissioned_at != 0)
    return unauthorized("the device is decommissioned");
  return device;
}

HostResult<Page<MenderAuthSet>> MenderService::auth_sets(std::optional<AuthSetStatus> status,
                                                         std::size_t limit, std::size_t offset) {
  return store_.auth_sets(status, limit, offset);
}

HostResult<MenderAuthSet> MenderService::admit(MenderAuthSet set, const std::string& product,
                                               const std::string& hardware,
                                               const std::string& actor, UnixTime now) {
  if (set.device.value.empty()) {
    set.device = device_id_of(set.id_data);
    HostResult<Device> existing = fleet_.device(set.device);
    if (!existing.ok()) {
      if (product.empty()) return bad("product: required to admit a new device");
      DeviceSpec spec;
      spec.id = set.device;
      spec.product = product;
      spec.hardware = hardware.empty() ? product : hardware;
      UPDRAFT_TRY(fleet_.register_device(spec, Registrar::kOperator, actor, now));
    }
  }
  set.updated_at = now;
  UPDRAFT_TRY(store_.update_auth_set(set));
  return set;
}

HostResult<MenderAuthSet> MenderService::accept(std::int64_t id, const std::string& product,
                                                const std::string& hardware,
                                                const std::string& actor, UnixTime now) {
  HostResult<MenderAuthSet> found = store_.auth_set(id);
  if (!found.ok())
    return Error(ErrorCode::kApiNotFound, "no authentication set " + std::to_string(id));
  MenderAuthSet set = *found;
  set.status = AuthSetStatus::kAccepted;
  UPDRAFT_TRY_ASSIGN(set, admit(set, product, hardware, actor, now));
  (void)append_audit(store_, now, actor, "mender.accept", "auth_set/" + std::to_string(id),
                     {{"device", set.device.value}, {"id_data", set.id_data}});
  return set;
}

HostResult<MenderAuthSet> MenderService::reject(std::int64_t id, const std::string& actor,
                                                UnixTime now) {
  HostResult<MenderAuthSet> found = store_.auth_set(id);
  if (!found.ok())
    return Error(ErrorCode::kApiNotFound, "no authentication set " + std::to_string(id));
  MenderAuthSet set = *found;
  set.status = AuthSetStatus::kRejected;
  set.updated_at = now;
  UPDRAFT_TRY(store_.update_auth_set(set));
  (void)append_audit(store_, now, actor, "mender.reject", "auth_set/" + std::to_string(id),
                     {{"device", set.device.value}, {"id_data", set.id_data}});
  return set;
}

HostResult<MenderAuthSet> MenderService::preauthorize(const std::string& id_data_json,
                                                      const std::string& pubkey,
                                                      const std::string& product,
                                                      const std::string& hardware,
                                                      const std::string& actor, UnixTime now) {
  MenderAuthSet set;
  UPDRAFT_TRY_ASSIGN(set.id_data, canonical_id_data(id_data_json));
  UPDRAFT_TRY_ASSIGN(set.pubkey, mender::canonical_public_key(pubkey));
  set.status = AuthSetStatus::kPreauthorized;
  set.created_at = set.updated_at = now;
  HostResult<MenderAuthSet> created = store_.create_auth_set(set);
  if (!created.ok() && created.error().code == ErrorCode::kStoreConflict)
    return Error(ErrorCode::kApiConflict, "id_data: this identity already has a set with this key");
  if (!created.ok()) return created.error();
  UPDRAFT_TRY_ASSIGN(set, admit(*created, product, hardware, actor, now));
  (void)append_audit(store_, now, actor, "mender.preauthorize",
                     "auth_set/" + std::to_string(set.id),
                     {{"device", set.device.value}, {"id_data", set.id_data}});
  return set;
}

HostResult<void> MenderService::put_inventory(const Device& device, const json& attributes,
                                              bool replace_all, UnixTime now) {
  if (!attributes.is_array()) return bad("body: a list of {\"name\", \"value\"}");
  if (attributes.size() > kMaxAttributes) return bad("body: more than 256 attributes");
  std::vector<InventoryAttribute> out;
  for (const json& a : attributes) {
    if (!a.is_object() || !a.contains("name") || !a["name"].is_string() ||
        a["name"].get<std::string>().empty() || !a.contains("value")) {
      return bad("body: each attribute needs a \"name\" and a \"value\"");
    }
    InventoryAttribute attribute{a["name"].get<std::string>(), a["value"].dump(), now};
    if (attribute.name.size() > 256 || attribute.value.size() > kMaxAttributeBytes)
      return bad("attribute " + std::string(utf8_prefix(attribute.name, 64)) + ": too long");
    UPDRAFT_TRY(require_utf8("name", attribute.name));
    out.push_back(std::move(attribute));
  }
  return store_.put_inventory(device.id, out, replace_all);
}

HostResult<std::vector<InventoryAttribute>> MenderService::inventory(const DeviceId& device) {
  return store_.inventory(device);
}

HostResult<std::optional<MenderOffer>> MenderService::next(const Device& device,
                                                           const std::string& artifact_name,
                                                           const std::string& device_type,
                                                           UnixTime now) {
  if (artifact_name.empty() || artifact_name.size() > 256)
    return bad("artifact_name: required, at most 256 bytes");
  if (device_type.empty() || device_type.size() > 256)
    return bad("device_type: required, at most 256 bytes");
  CheckInRequest in;
  in.status = device.status;
  in.status.version = artifact_name;
  in.status.image_sha256.clear();
  in.channel = kChannel;
  in.full_image_only = true;  // a client takes whole artifacts
  // The release the device runs, if one carries the name it reports: a device
  // already on the target is done.
  UPDRAFT_TRY_ASSIGN(const std::vector<Release> releases, store_.releases(device.product));
  for (const Release& r : releases) {
    if (r.mender_artifact_name == artifact_name) {
      in.status.version = r.version;
      in.status.image_sha256 = r.sha256;
    }
  }
  UPDRAFT_TRY_ASSIGN(const CheckInAnswer answer, updates_.check_in(device.id, in, now));
  if (!answer.update) return std::optional<MenderOffer>();
  UPDRAFT_TRY_ASSIGN(UpdateService::Offer offer, updates_.offer(device.id, answer.deployment));
  // A campaign may carry a release no Mender client can install: end it with why.
  std::string refusal;
  if (offer.release.mender_artifact_name.empty()) {
    refusal = "release " + offer.release.version + " is not a Mender artifact";
  } else if (std::find(offer.release.hardware.begin(), offer.release.hardware.end(), device_type) ==
             offer.release.hardware.end()) {
    refusal = "the artifact is not for device type " + device_type;
  }
  if (!refusal.empty()) {
    DeviceReport report;
    report.phase = "failure";
    report.error = error_number(ErrorCode::kAgentClientReportedFailure);
    report.message = refusal;
    UPDRAFT_TRY(updates_.report(device.id, offer.deployment.id, report, now));
    return std::optional<MenderOffer>();
  }
  MenderOffer out;
  out.deployment = offer.deployment;
  out.release = offer.release;
  out.expires_at = now + kMenderDownloadSeconds;
  out.download_path = "/api/devices/v1/deployments/download/" +
                      mender_deployment_id(offer.deployment.id) +
                      "?expires=" + std::to_string(out.expires_at) +
                      "&signature=" + download_mac(offer.deployment.id, out.expires_at);
  return std::optional<MenderOffer>(out);
}

HostResult<void> MenderService::status(const Device& device, DeploymentId id,
                                       const std::string& status, UnixTime now) {
  const std::optional<std::string> phase = phase_for(status);
  if (!phase) return bad("status: unknown status \"" + std::string(utf8_prefix(status, 64)) + "\"");
  UPDRAFT_TRY_ASSIGN(const UpdateService::Offer offer, updates_.offer(device.id, id));
  if (offer.deployment.state == DeploymentState::kCanceled)
    return Error(ErrorCode::kApiConflict,
                 "deployment " + std::to_string(id.value) + " was aborted");
  if (is_final(offer.deployment.state)) {
    // The client retrying its final status is no error; another one is.
    if (*phase == "success" || *phase == "failure") return {};
    return Error(ErrorCode::kApiConflict, "deployment " + std::to_string(id.value) + " is " +
                                              std::string(name_of(offer.deployment.state)));
  }
  if (phase->empty()) return {};
  DeviceReport report;
  report.phase = *phase;
  report.progress = -1;
  report.message = offer.deployment.message;
  if (*phase == "failure") {
    report.error = error_number(ErrorCode::kAgentClientReportedFailure);
  } else if (*phase == "success") {
    report.running_version = offer.release.version;
  }
  UPDRAFT_TRY(updates_.report(device.id, id, report, now));
  return {};
}

HostResult<void> MenderService::log(const Device& device, DeploymentId id,
                                    const std::vector<MenderLogLine>& lines, UnixTime now) {
  UPDRAFT_TRY_ASSIGN(UpdateService::Offer offer, updates_.offer(device.id, id));
  std::vector<std::string> text;
  std::string errors;
  for (const MenderLogLine& line : lines) {
    if (text.size() == kMaxDeploymentLogLines) break;
    const std::string joined = line.timestamp + " " + line.level + " " + line.message;
    text.emplace_back(utf8_prefix(joined, kMaxLogLineBytes));
    if (line.level == "error") errors += (errors.empty() ? "" : "\n") + line.message;
  }
  return store_.transaction([&]() -> HostResult<void> {
    UPDRAFT_TRY(store_.append_deployment_log(id, now, text, kMaxDeploymentLogLines));
    // The client sends its log after it reported the failure: its errors say why.
    UPDRAFT_TRY_ASSIGN(Deployment dep, store_.deployment(id));
    if (dep.state == DeploymentState::kFailed && dep.message.empty() && !errors.empty()) {
      dep.message = utf8_prefix(errors, 500);
      UPDRAFT_TRY(store_.update_deployment(dep));
    }
    return {};
  });
}

std::string MenderService::download_mac(DeploymentId id, UnixTime expires) const {
  return tokens_.mac("mender-download:" + std::to_string(id.value) + ":" + std::to_string(expires));
}

HostResult<DeltaCache::Artifact> MenderService::download(DeploymentId id, UnixTime expires,
                                                         std::string_view mac, UnixTime now) {
  if (!same_text(download_mac(id, expires), mac))
    return Error(ErrorCode::kApiForbidden, "the download link is not valid");
  if (expires <= now) return Error(ErrorCode::kApiGone, "the download link expired");
  UPDRAFT_TRY_ASSIGN(const Deployment dep, store_.deployment(id));
  return updates_.artifact(dep.device, id);
}

}  // namespace updraft::server
