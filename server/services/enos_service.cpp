#include "server/services/enos_service.h"

#include "server/services/audit_log.h"
#include "server/services/json_fields.h"

namespace updraft::server {
namespace {

using nlohmann::json;

constexpr char kChannel[] = "enos";

Error bad(std::string message) { return Error(ErrorCode::kApiBadRequest, std::move(message)); }
Error not_found(std::string message) { return Error(ErrorCode::kApiNotFound, std::move(message)); }
Error not_acceptable(std::string message) {
  return Error(ErrorCode::kApiNotAcceptable, std::move(message));
}

std::string settings_key(ProductId product) {
  return "enos.settings." + std::to_string(product.value);
}

bool in_flight(const Deployment& d, UnixTime since) {
  const bool active =
      d.state == DeploymentState::kPending || d.state == DeploymentState::kDownloading ||
      d.state == DeploymentState::kInstalling || d.state == DeploymentState::kRebooting;
  return active && !d.artifact_kind.empty() && d.channel == kChannel && d.updated_at >= since;
}

}  // namespace

json to_json(const EnosSettings& s) {
  return json{{"sign_method", s.sign_method},
              {"download_base", s.download_base},
              {"allow_delta", s.allow_delta},
              {"auto_register", s.auto_register},
              {"hardware", s.hardware},
              {"max_concurrent", s.max_concurrent},
              {"upgrade_timeout_seconds", s.upgrade_timeout_seconds}};
}

HostResult<EnosSettings> enos_settings_from_json(const json& j, EnosSettings s) {
  if (!j.is_object()) return bad("EnOS settings: an object");
  s.sign_method = j.value("sign_method", s.sign_method);
  s.download_base = j.value("download_base", s.download_base);
  s.allow_delta = j.value("allow_delta", s.allow_delta);
  s.auto_register = j.value("auto_register", s.auto_register);
  s.hardware = j.value("hardware", s.hardware);
  UPDRAFT_TRY_ASSIGN(const std::int64_t max,
                     integer_field(j, "max_concurrent", s.max_concurrent, 1, 10'000));
  UPDRAFT_TRY_ASSIGN(
      const std::int64_t timeout,
      integer_field(j, "upgrade_timeout_seconds", s.upgrade_timeout_seconds, 60, 7 * 24 * 3600));
  if (s.sign_method != "MD5" && s.sign_method != "SHA256") return bad("sign_method: MD5 or SHA256");
  if (!s.download_base.empty() && !s.download_base.starts_with("http://") &&
      !s.download_base.starts_with("https://")) {
    return bad("download_base: empty, or an http:// or https:// URL");
  }
  while (!s.download_base.empty() && s.download_base.back() == '/') s.download_base.pop_back();
  if (!s.hardware.empty() && !valid_hardware_id(s.hardware))
    return bad("hardware: 1..32 printable ASCII characters without spaces");
  if (s.auto_register && s.hardware.empty())
    return bad("hardware: required to register sub-devices");
  s.max_concurrent = static_cast<std::uint32_t>(max);
  s.upgrade_timeout_seconds = timeout;
  return s;
}

HostResult<EnosSettings> EnosService::settings(ProductId product) {
  HostResult<std::string> text = store_.setting(settings_key(product));
  if (!text.ok()) {
    if (text.error().code == ErrorCode::kStoreNotFound) return EnosSettings{};
    return text.error();
  }
  HostResult<EnosSettings> parsed = enos_settings_from_json(json::parse(*text, nullptr, false));
  if (!parsed.ok())
    return Error(ErrorCode::kStoreCorrupt, "EnOS settings: " + parsed.error().message);
  return parsed;
}

HostResult<void> EnosService::set_settings(const Product& product, const EnosSettings& settings,
                                           const std::string& actor, UnixTime now) {
  const json j = to_json(settings);
  UPDRAFT_TRY(store_.set_setting(settings_key(product.id), j.dump()));
  (void)append_audit(store_, now, actor, "product.enos",
                     "product/" + std::to_string(product.id.value), j);
  return {};
}

std::string EnosService::version_id(DeploymentId deployment) const {
  return version_ids_.make(deployment);
}

std::optional<DeploymentId> EnosService::deployment_of(std::string_view version_id) const {
  return version_ids_.parse(version_id);
}

Error EnosService::refuse(const EnosIdentity& who, const std::string& why, UnixTime now) {
  (void)append_audit(store_, now, "enos:" + who.asset_id, "enos.refused", "device/" + who.asset_id,
                     {{"reason", why}});
  // One answer for every refusal: it must not tell which ids exist.
  return not_found("unknown assetId or serialNum");
}

HostResult<Device> EnosService::identify(const EnosIdentity& who, bool require_serial,
                                         UnixTime now) {
  // A decommissioned sub-device is refused however it names itself.
  const auto usable = [&](HostResult<Device> d) -> HostResult<Device> {
    if (d.ok() && d->decommissioned_at != 0)
      return refuse(who, "device " + d->id.value + " is decommissioned", now);
    return d;
  };
  if (who.token_device) {
    if (!who.asset_id.empty() && who.asset_id != who.token_device->value)
      return refuse(who, "the bearer token names " + who.token_device->value, now);
    return usable(fleet_.device(*who.token_device));
  }
  const bool has_serial = who.serial && !who.serial->empty();
  if (who.asset_id.empty()) {
    // The document's own request leaves assetId empty: the serial names the device.
    if (!has_serial) return bad("assetId or serialNum: required");
    UPDRAFT_TRY_ASSIGN(std::optional<Device> found, fleet_.device_by_serial(*who.serial));
    if (!found) return refuse(who, "unknown serial number " + *who.serial, now);
    return usable(*found);
  }
  HostResult<Device> device = fleet_.device(DeviceId{who.asset_id});
  if (device.ok()) {
    if (has_serial || require_serial) {
      if (device->serial.empty()) return refuse(who, "no serial number is registered for it", now);
      if (!has_serial || *who.serial != device->serial)
        return refuse(who, "wrong serial number", now);
    }
    return usable(device);
  }
  if (device.error().code != ErrorCode::kApiNotFound) return device.error();
  // Unknown: the one product that registers sub-devices takes it, if any.
  if (!has_serial) return refuse(who, "unknown assetId without a serial number", now);
  UPDRAFT_TRY_ASSIGN(std::vector<Product> products, fleet_.products());
  std::optional<std::pair<Product, EnosSettings>> home;
  for (const Product& p : products) {
    UPDRAFT_TRY_ASSIGN(EnosSettings s, settings(p.id));
    if (!s.auto_register) continue;
    if (home) return refuse(who, "several products register sub-devices", now);
    home.emplace(p, s);
  }
  if (!home) return refuse(who, "unknown assetId", now);
  DeviceSpec spec;
  spec.id.value = who.asset_id;
  spec.product = home->first.name;
  spec.hardware = home->second.hardware;
  spec.serial = *who.serial;
  HostResult<NewDevice> fresh =
      fleet_.register_device(spec, Registrar::kEnos, "enos:" + who.asset_id, now);
  if (!fresh.ok()) {
    // Another device holds the serial: that is a wrong serial, not a conflict.
    if (fresh.error().code == ErrorCode::kApiConflict)
      return refuse(who, fresh.error().message, now);
    return fresh.error();
  }
  if (fresh->device.serial != *who.serial) return refuse(who, "wrong serial number", now);
  return fresh->device;
}

HostResult<EnosCheck> EnosService::check_version(const EnosIdentity& who,
                                                 const std::string& version, UnixTime now) {
  if (version.empty() || version.size() > 64) return bad("version: required, at most 64 bytes");
  UPDRAFT_TRY_ASSIGN(Device device, identify(who, true, now));
  UPDRAFT_TRY_ASSIGN(Product product, fleet_.product(device.product));
  UPDRAFT_TRY_ASSIGN(EnosSettings s, settings(product.id));
  EnosCheck out;
  out.asset_id = device.id.value;
  out.version = version;

  CheckInRequest in;
  in.status = device.status;
  in.status.version = version;
  in.status.image_sha256.clear();
  in.channel = kChannel;
  in.full_image_only = !s.allow_delta;
  // The image the device runs, if a release carries the version it reports: a
  // delta may start from it, and a device already on the target is done.
  UPDRAFT_TRY_ASSIGN(std::vector<Release> releases, store_.releases(product.id));
  for (const Release& r : releases) {
    if (enos_version_of(r) == version || r.version == version) in.status.image_sha256 = r.sha256;
  }

  std::lock_guard lock(offer_mutex_);
  const UnixTime since = now - s.upgrade_timeout_seconds;
  HostResult<Deployment> open = store_.open_deployment(device.id);
  const bool holds_slot = open.ok() && in_flight(*open, since);
  if (!holds_slot && open.ok() && open->state != DeploymentState::kScheduled) {
    UPDRAFT_TRY_ASSIGN(std::size_t busy, store_.count_in_flight(product.id, kChannel, since));
    // Over the limit, the device hears "no update" and asks again later; its
    // status is still what it said.
    if (busy >= s.max_concurrent) {
      updates_.record_status(device.id, in.status, now);
      return out;
    }
  }
  UPDRAFT_TRY_ASSIGN(CheckInAnswer answer, updates_.check_in(device.id, in, now));
  if (!answer.update) return out;

  UPDRAFT_TRY_ASSIGN(DeltaCache::Artifact file, updates_.artifact(device.id, answer.deployment));
  UPDRAFT_TRY_ASSIGN(UpdateService::Offer offer, updates_.offer(device.id, answer.deployment));
  out.update = true;
  out.version = enos_version_of(offer.release);
  out.sign_method = s.sign_method;
  if (s.sign_method == "SHA256") {
    out.sign = file.sha256;
  } else {
    UPDRAFT_TRY_ASSIGN(LegacyDigests digests, digests_.of(file.path, file.sha256));
    out.sign = digests.md5;
  }
  out.download_url = s.download_base + "/version/" + version_id(answer.deployment);
  return out;
}

HostResult<Deployment> EnosService::deployment_for(std::string_view version_id,
                                                   const Device& device) {
  const std::optional<DeploymentId> id = deployment_of(version_id);
  const Error unknown = not_found("no version " + std::string(version_id));
  if (!id) return unknown;
  HostResult<UpdateService::Offer> offer = updates_.offer(device.id, *id);
  if (!offer.ok()) return unknown;
  return offer->deployment;
}

HostResult<EnosFile> EnosService::version_file(std::string_view version_id, const EnosIdentity* who,
                                               bool head, UnixTime now) {
  const std::optional<DeploymentId> id = deployment_of(version_id);
  const Error unknown = not_found("no version " + std::string(version_id));
  if (!id) return unknown;
  HostResult<Deployment> dep = store_.deployment(*id);
  if (!dep.ok()) return unknown;
  if (who != nullptr) {
    UPDRAFT_TRY_ASSIGN(Device device, identify(*who, false, now));
    if (device.id != dep->device) return unknown;
  }
  HostResult<DeltaCache::Artifact> file = updates_.artifact(dep->device, dep->id);
  if (!file.ok()) {
    if (file.error().code == ErrorCode::kApiNotFound) return unknown;
    return file.error();
  }
  if (!head && dep->state == DeploymentState::kPending) {
    DeviceReport r;
    r.phase = "downloading";
    r.progress = 0;
    (void)updates_.report(dep->device, dep->id, r, now);  // a parallel report may have won
  }
  return EnosFile{file->path, file->sha256, file->size};
}

HostResult<void> EnosService::report(const Device& device, const Deployment& deployment,
                                     const std::string& phase, int progress, int error,
                                     const std::string& message, UnixTime now) {
  DeviceReport r;
  r.phase = phase;
  r.progress = progress;
  r.error = error;
  r.message = message;
  // EnOS has no log lines: its message and desc texts are the device's words, so
  // they go to the deployment's log too (a repeated one stays in the message only).
  if (!message.empty() && message != deployment.message) r.log = {message};
  HostResult<Deployment> done = updates_.report(device.id, deployment.id, r, now);
  if (!done.ok()) {
    if (done.error().code == ErrorCode::kApiGone) return not_acceptable(done.error().message);
    return done.error();
  }
  return {};
}

HostResult<void> EnosService::download_result(std::string_view version_id, const EnosIdentity& who,
                                              int code, const std::string& message, UnixTime now) {
  if (code != 0 && code != 1) return bad("code: 0 (failed) or 1 (downloaded)");
  UPDRAFT_TRY_ASSIGN(Device device, identify(who, false, now));
  UPDRAFT_TRY_ASSIGN(Deployment dep, deployment_for(version_id, device));
  if (code == 1) return report(device, dep, "installing", 0, 0, message, now);
  return report(device, dep, "failure", -1,
                static_cast<int>(error_number(ErrorCode::kAgentClientDownloadFailed)), message,
                now);
}

HostResult<void> EnosService::update_result(const EnosIdentity& who, const EnosUpdateResult& r,
                                            UnixTime now) {
  if (r.flag < 0 || r.flag > 2) return bad("flag: 0 (failure), 1 (in progress) or 2 (success)");
  if (r.process < 0 || r.process > 100) return bad("process: 0..100");
  UPDRAFT_TRY_ASSIGN(Device device, identify(who, false, now));
  // The deployment under way, or else the newest, so a late report on a finished
  // one is told so (406) rather than "unknown".
  HostResult<Deployment> dep = store_.open_deployment(device.id);
  if (!dep.ok()) {
    UPDRAFT_TRY_ASSIGN(std::vector<Deployment> all, fleet_.deployments_of(device.id));
    if (all.empty()) return not_found("no upgrade for assetId " + device.id.value);
    dep = all.back();
  }
  if (dep->artifact_kind.empty()) return not_found("no upgrade was offered to " + device.id.value);
  const std::string detail = r.desc.empty() ? std::string() : r.desc;
  switch (r.flag) {
    case 0: {
      std::string message = "errcode " + (r.errcode.empty() ? std::string("-") : r.errcode);
      if (!detail.empty()) message += ": " + detail;
      return report(device, *dep, "failure", r.process,
                    static_cast<int>(error_number(ErrorCode::kAgentClientReportedFailure)), message,
                    now);
    }
    case 1:
      return report(device, *dep, "installing", r.process, 0, detail, now);
    default: {
      UPDRAFT_TRY_ASSIGN(UpdateService::Offer offer, updates_.offer(device.id, dep->id));
      const std::string& target = enos_version_of(offer.release);
      if (r.process != 100 || r.version != target) {
        return not_acceptable("success needs process 100 and version " + target + " (got " +
                              std::to_string(r.process) + " and \"" + r.version + "\")");
      }
      return report(device, *dep, "success", 100, 0, detail, now);
    }
  }
}

}  // namespace updraft::server
